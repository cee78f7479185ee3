"""The data-flow graph in a real browser against a live server with real data: a dataset version read by
a run (recorded with the SDK, uploaded with the CLI) that wrote a model version, followed from the
dataset to the model as the owner and as a viewer who may see only the dataset and the run; and a graph
of 200 nodes, timed from navigation to drawn."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

import em
from assethub.models import MAIN, Branch, Version
from em.access import Level
from em.models import Kind, LineageEdge, Manifest, Node
from em.services import sharing
from em.services.nodes import create_node
from tests.browser.conftest import screenshot
from tests.browser.page_timing import open_drawn
from tests.factories import folder, root

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DATASET = "t9k-assethub/dataset/mnist"
MODEL = "t9k-assethub/model/cnn"


def ok(result: Any) -> None:
    assert result.exit_code == 0, result.output


@pytest.fixture
def trained(signed_in, em_cli, workdir: Path) -> dict[str, str]:
    """mnist:v1 → train-1 → cnn:v1, made with the CLI and the SDK as alice; the graph's keys."""
    (workdir / "rows.csv").write_text("x,y\n1,2\n")
    (workdir / "weights.bin").write_bytes(b"w" * 100)
    ok(em_cli("asset", "create", "dataset", "mnist"))
    ok(em_cli("asset", "commit", DATASET, "-a", "rows.csv", "-m", "first rows"))
    ok(em_cli("asset", "tag", DATASET, "v1"))
    ok(em_cli("asset", "create", "model", "cnn"))
    ok(em_cli("asset", "commit", MODEL, "-a", "weights.bin", "-m", "trained"))
    ok(em_cli("asset", "tag", MODEL, "v1"))
    with em.create_run(name="train-1", hparams={"lr": 0.1}) as run:
        run.mark_input(f"/alice/{DATASET}:v1")
        run.log("train", {"loss": 0.5}, step=1)
        run.mark_output(f"/alice/{MODEL}:v1")
    ok(em_cli("upload", ".em/runs", "-f", "exp", "-m"))
    dataset = Node.objects.get(name="mnist", kind=Kind.DATASET)
    model = Node.objects.get(name="cnn", kind=Kind.MODEL)
    run_node = Node.objects.get(name="train-1", kind=Kind.RUN, deleted_at=None)
    assert LineageEdge.objects.filter(run=run_node).count() == 2
    return {
        "dataset": f"{dataset.pk}:{Version.objects.get(asset=dataset).pk}",
        "run": str(run_node.pk),
        "model": str(model.pk),
        "model_version": Version.objects.get(asset=model).pk,
    }


def graph_node(page: Any, kind: str, name: str) -> Any:
    return page.get_by_role("link", name=re.compile(rf"^{kind} {re.escape(name)}"))


def test_follow_the_lineage_from_a_dataset_version_to_a_model_version(open_portal, alice, trained):
    page = open_portal(alice)
    dataset_id = trained["dataset"].split(":")[0]
    page.goto(f"/assets/{dataset_id}?ref=v1#dataflow")
    flow = page.get_by_test_id("dataflow")
    expect(flow.get_by_test_id("dataflow-counts")).to_have_text("3 nodes, 2 edges")
    expect(graph_node(flow, "Dataset", "mnist @")).to_be_visible()
    expect(graph_node(flow, "Run", "train-1")).to_be_visible()
    model = graph_node(flow, "Model", "cnn @")
    expect(model).to_contain_text("(v1)")
    # Left to right: what went in, the run, what came out.
    xs = [
        graph_node(flow, kind, name).bounding_box()["x"]
        for kind, name in (("Dataset", "mnist"), ("Run", "train-1"), ("Model", "cnn"))
    ]
    assert xs == sorted(xs), xs
    expect(flow.get_by_test_id("dataflow-hidden")).to_have_count(0)
    screenshot(page, "lineage-owner-from-dataset")

    model.click()
    page.wait_for_url(re.compile(rf"/assets/{trained['model']}\?ref={trained['model_version']}"))
    expect(page.get_by_test_id("version-facts")).to_contain_text("trained")

    # The run page has the same graph as a tab; the run opens from the graph too.
    page.goto(f"/runs/{trained['run']}#dataflow")
    expect(page.get_by_test_id("dataflow-counts")).to_have_text("3 nodes, 2 edges")


def test_a_viewer_sees_only_what_is_shared_with_them(open_portal, alice, bob, trained):
    sharing.share(node=Node.objects.get(name="mnist"), to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    sharing.share(node=Node.objects.get(name="exp"), to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    page = open_portal(bob)
    # Step by step: the dataset version and its reader first, then one step more around the run.
    page.goto(f"/lineage?node={trained['dataset']}&depth=1")
    flow = page.get_by_test_id("dataflow")
    expect(flow.get_by_test_id("dataflow-counts")).to_have_text("2 nodes, 1 edge")
    flow.get_by_role("button", name="Show what is next to train-1").click()
    expect(flow.get_by_role("button", name="Show what is next to train-1")).to_have_count(0)
    expect(flow.get_by_test_id("dataflow-hidden")).to_have_text("1 neighbour is not shown: you may not view it.")
    expect(flow.get_by_test_id("dataflow-counts")).to_have_text("2 nodes, 1 edge")
    expect(graph_node(flow, "Model", "cnn")).to_have_count(0)
    screenshot(page, "lineage-viewer-partial")

    # The owner expanding the same way meets the model version.
    page = open_portal(alice)
    page.goto(f"/lineage?node={trained['dataset']}&depth=1")
    page.get_by_role("button", name="Show what is next to train-1").click()
    expect(page.get_by_test_id("dataflow-counts")).to_have_text("3 nodes, 2 edges")
    expect(graph_node(page, "Model", "cnn @")).to_be_visible()


def test_a_200_node_graph_draws_fast_and_readably(open_portal, alice, timings, record_property):
    """dataset version → 20 runs → 9 artifacts each: 201 nodes within depth 2."""
    seen = folder(root(alice), "lineage")
    dataset = create_node(parent=seen, name="mnist", kind=Kind.DATASET, by=alice)
    Branch.objects.create(asset=dataset, name=MAIN, created_by=alice)
    empty = Manifest.objects.create(digest=secrets.token_hex(32))
    start = Version.objects.create(id=secrets.token_hex(20), asset=dataset, manifest=empty, author=alice)
    edges = []
    for i in range(20):
        run = create_node(parent=seen, name=f"train-{i:02d}", kind=Kind.RUN, by=alice)
        edges.append(LineageEdge(run=run, direction="input", other=dataset, version=start.pk))
        for j in range(9):
            out = create_node(parent=seen, name=f"out-{i:02d}-{j}", kind=Kind.ARTIFACT, by=alice)
            edges.append(LineageEdge(run=run, direction="output", other=out, version=""))
    LineageEdge.objects.bulk_create(edges)

    page = open_portal(alice)
    drawn = open_drawn(page, f"/lineage?node={dataset.pk}:{start.pk}&depth=2", "[data-testid=dataflow]")
    expect(page.get_by_test_id("dataflow-counts")).to_have_text("201 nodes, 200 edges")
    expect(page.locator(".lineage-node")).to_have_count(201)
    timings["200-node lineage graph, fetch + layout + draw (in page)"] = drawn.in_page_ms
    timings["200-node lineage graph, navigation to drawn (test side)"] = drawn.wall_ms
    record_property("lineage_200_ms", round(drawn.in_page_ms))
    # Readable: the first view is at a scale where labels are text-sized, centred on the start.
    label = page.locator(".lineage-node.is-root .lineage-label").bounding_box()
    assert label is not None and label["height"] >= 9, label
    expect(graph_node(page, "Dataset", "mnist @")).to_be_in_viewport()
    screenshot(page, "lineage-200-nodes")
    page.get_by_role("button", name="Fit").click()
    screenshot(page, "lineage-200-nodes-fitted")
    # Finding a node by name brings it to the middle at a readable scale.
    target = graph_node(page, "Artifact", "out-19-5")
    page.get_by_label("Find a node").fill("out-19-5")
    page.get_by_label("Find a node").press("Enter")
    expect(page.locator(".lineage-node.is-found")).to_have_count(1)
    expect(target).to_be_in_viewport()
    box = target.bounding_box()
    assert box is not None and box["height"] >= 30, box  # the shape and its label at full size
    screenshot(page, "lineage-200-nodes-found")
