"""The Asset Hub and artifact pages in a real browser against a live server with real data: two versions
of a model committed with the `em` CLI and diffed in the UI (with a file downloaded and a branch merged
into main), and a new artifact uploaded from the folder browser's New menu."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from em.models import Kind, Node
from tests.browser.conftest import screenshot
from tests.factories import folder, root

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MODEL = "t9k-assethub/model/cnn"


def ok(result: Any) -> None:
    assert result.exit_code == 0, result.output


def test_two_versions_committed_with_the_cli_diffed_in_the_ui(open_portal, alice, signed_in, em_cli, workdir: Path):
    (workdir / "weights.bin").write_bytes(b"w" * 1000)
    (workdir / "config.yaml").write_text("layers: 2\n")
    ok(em_cli("asset", "create", "model", "cnn"))
    ok(em_cli("asset", "commit", MODEL, "-a", "weights.bin", "-a", "config.yaml", "-m", "first weights"))
    ok(em_cli("asset", "tag", MODEL, "v1"))
    (workdir / "weights.bin").write_bytes(b"W" * 1500)
    (workdir / "README.md").write_text("# cnn\n")
    ok(
        em_cli(
            "asset", "commit", MODEL, "-a", "weights.bin", "-a", "README.md", "-d", "config.yaml",
            "-m", "retrained", "--meta", "acc=0.93",
        )
    )  # fmt: skip
    ok(em_cli("asset", "branch", MODEL, "dev"))
    (workdir / "extra.txt").write_text("more\n")
    ok(em_cli("asset", "commit", MODEL, "-b", "dev", "-a", "extra.txt", "-m", "on dev"))

    page = open_portal(alice)
    page.goto("/")
    page.get_by_role("link", name="Asset Hub").click()
    page.get_by_role("region", name="Models").get_by_role("link", name="cnn").click()
    page.get_by_role("heading", name="cnn").wait_for()
    expect(page.get_by_test_id("version-facts")).to_contain_text("retrained")

    # The history at main: both versions, newest first, with author and size; the newest's metadata.
    versions = page.get_by_role("table", name="Versions")
    expect(versions.get_by_role("row")).to_have_count(3)  # the header and two versions
    expect(versions.get_by_role("row").nth(1)).to_contain_text("retrained")
    expect(versions.get_by_role("row").nth(2)).to_contain_text("first weights")
    expect(versions.get_by_role("row").nth(2)).to_contain_text("v1")
    versions.get_by_role("row").nth(1).get_by_role("button").click()
    expect(page.locator(".version-detail")).to_contain_text("acc")
    expect(page.locator(".version-detail")).to_contain_text("0.93")

    # The diff from v1 to main: added, changed, removed, with sizes.
    page.get_by_role("tab", name="Diff").click()
    page.get_by_label("From").fill("v1")
    page.get_by_label("To").fill("main")
    page.get_by_role("button", name="Compare").click()
    summary = page.get_by_test_id("diff-summary")
    expect(summary).to_contain_text("1 added, 1 changed, 1 removed")
    diff = page.get_by_role("table", name="Differences")
    expect(diff.get_by_role("row", name=re.compile(r"added\s*README\.md"))).to_have_count(1)
    expect(diff.get_by_role("row", name=re.compile(r"changed\s*weights\.bin"))).to_contain_text("+500 B")
    expect(diff.get_by_role("row", name=re.compile(r"removed\s*config\.yaml"))).to_have_count(1)
    page.get_by_role("checkbox", name="removed").check()
    expect(diff.get_by_role("row")).to_have_count(2)
    screenshot(page, "asset-diff-v1-main")

    # Files at v1, one downloaded: the bytes of the first version.
    page.get_by_test_id("ref-select").select_option("v1")
    page.get_by_role("tab", name="Files").click()
    files = page.get_by_role("table", name="Files at this version")
    expect(files.get_by_role("link", name="config.yaml")).to_be_visible()
    with page.expect_download() as download:
        files.get_by_role("link", name="weights.bin").click()
    assert Path(download.value.path()).read_bytes() == b"w" * 1000

    # Merge dev into main: main moves forward to dev's head.
    page.get_by_test_id("ref-select").select_option("main")
    page.get_by_role("tab", name="Branches and tags").click()
    page.get_by_role("button", name="Merge dev into main").click()
    expect(page.get_by_test_id("merge-outcome")).to_contain_text("main moved forward")
    page.get_by_role("tab", name="Versions").click()
    expect(page.get_by_test_id("version-facts")).to_contain_text("on dev")
    screenshot(page, "asset-after-merge")


def test_upload_a_new_artifact_from_the_folder_browser(open_portal, alice, tmp_path: Path):
    folder(root(alice), "data")
    (tmp_path / "train.csv").write_text("x,y\n1,2\n")
    page = open_portal(alice)
    page.goto("/browse/alice/data")
    page.get_by_role("button", name="Create new…").click()
    page.get_by_role("menuitem", name="Artifact (upload files)").click()
    dialog = page.get_by_role("dialog", name="Upload a new artifact")
    dialog.get_by_label("Name").fill("digits")
    dialog.get_by_label("or choose files").set_input_files([str(tmp_path / "train.csv")])
    # A file dropped on the drop zone joins the chosen one.
    dropped = page.evaluate_handle(
        """() => { const t = new DataTransfer(); t.items.add(new File(["cat\\ndog\\n"], "labels.txt")); return t; }"""
    )
    dialog.get_by_test_id("dropzone").dispatch_event("drop", {"dataTransfer": dropped})
    expect(dialog.get_by_test_id("upload-files")).to_have_text("2 files, 16 B")
    dialog.get_by_role("button", name="Upload").click()

    page.wait_for_url(re.compile(r"/artifacts/[0-9a-f-]+$"))
    artifact = Node.objects.get(name="digits", kind=Kind.ARTIFACT, deleted_at=None)
    assert page.url.endswith(f"/artifacts/{artifact.pk}")
    files = page.get_by_role("table", name="Files", exact=True)
    expect(files.get_by_role("link", name="train.csv")).to_be_visible()
    expect(files.get_by_role("row", name=re.compile("labels.txt"))).to_contain_text("8 B")
    expect(page.get_by_role("region", name="Produced by")).to_contain_text("No runs.")
    screenshot(page, "artifact-uploaded-from-browser")
