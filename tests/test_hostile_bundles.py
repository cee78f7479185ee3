"""Bundles written to hurt: each is refused with a clear per-file error and the previous index intact."""

from __future__ import annotations

from typing import Any

import pytest

from em.models import IndexState, Node, Run
from em.runs.indexing import index_run
from tests.bundle_helpers import example_bundle, metric_file, replace_files, run_node
from tests.factories import root
from tests.test_indexing import snapshot

pytestmark = pytest.mark.django_db

BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
)
POINT = (
    "- value:\n    loss: {value}\n"
    "  sequence:\n    epoch: 1\n    step: {step}\n    timestamp: '2026-03-01T10:15:19.008778+08:00'\n"
)


@pytest.fixture
def indexed(alice: Any) -> Node:
    """A run whose good bundle is indexed; each test then gives it a hostile one."""
    node = run_node(root(alice), "victim", example_bundle())
    assert index_run(node.pk)["state"] == "indexed"
    return node


def refused(node: Node, files: dict[str, bytes]) -> list[dict[str, str]]:
    """Index `files` as the node's new bundle; assert nothing indexed changed; the errors recorded."""
    run = Run.objects.get(node=node)
    before = snapshot(run)
    indexed_at = run.indexed_at
    replace_files(node, files)
    outcome = index_run(node.pk)
    assert outcome["state"] == "failed"
    assert snapshot(run) == before
    run.refresh_from_db()
    assert run.index_state == IndexState.FAILED and run.indexed_at == indexed_at
    assert run.index_errors == outcome["errors"] and run.index_errors
    return run.index_errors


def only_error(node: Node, **overrides: str | bytes | None) -> dict[str, str]:
    errors = refused(node, example_bundle(**overrides))
    assert len(errors) == 1, errors
    return errors[0]


def test_malformed_yaml_is_reported_with_its_line_and_column(indexed: Node) -> None:
    error = only_error(indexed, **{"hyperparameters.yaml": "lr: 0.1\noptimizer: [adam\nmomentum: 0.9\n"})
    assert error["file"] == "hyperparameters.yaml"
    assert "(line 3, column 9)" in error["message"]


def test_an_alias_bomb_is_refused_at_the_first_anchor(indexed: Node) -> None:
    error = only_error(indexed, **{"hyperparameters.yaml": BOMB})
    assert error == {
        "file": "hyperparameters.yaml",
        "message": "YAML anchors and aliases are not accepted (line 1, column 4)",
    }


def test_deep_nesting_is_refused_before_it_can_crash_the_parser(indexed: Node) -> None:
    error = only_error(indexed, **{"platform.yaml": "[" * 200_000 + "]" * 200_000})
    assert error["file"] == "platform.yaml" and error["message"].startswith("nested deeper than 64 levels")


def test_python_tags_are_refused(indexed: Node) -> None:
    error = only_error(indexed, **{"git.yaml": "entrypoint: !!python/object/apply:os.system ['true']\n"})
    assert error["file"] == "git.yaml" and "could not determine a constructor" in error["message"]


def test_a_file_over_its_size_cap_is_refused_unread(indexed: Node) -> None:
    error = only_error(indexed, **{"platform.yaml": b"#" * ((16 << 20) + 1)})
    assert error == {"file": "platform.yaml", "message": "16,777,217 bytes; the limit for this file is 16,777,216"}


def test_a_long_single_line_is_refused(indexed: Node) -> None:
    error = only_error(indexed, **{"metrics__val.yaml": b"x" * (2 << 20)})
    assert error == {"file": "metrics/val.yaml", "message": "line 1 is 2,097,152 bytes long; the limit is 1,048,576"}


def test_a_100_mb_single_line_metrics_file_is_refused(indexed: Node) -> None:
    error = only_error(indexed, **{"metrics__val.yaml": b"1" * (100 << 20)})
    assert error["file"] == "metrics/val.yaml"
    assert error["message"].startswith("104,857,600 bytes and not in the layout the em SDK writes")


def test_a_non_numeric_metric_value_is_refused(indexed: Node) -> None:
    text = POINT.format(value=0.5, step=1) + POINT.format(value="'low'", step=2)
    error = only_error(indexed, **{"metrics__train.yaml": text})
    assert error == {"file": "metrics/train.yaml", "message": "point 1: loss is not a number: 'low'"}


def test_a_boolean_is_not_a_metric_value(indexed: Node) -> None:
    error = only_error(indexed, **{"metrics__train.yaml": POINT.format(value="true", step=1)})
    assert error["message"] == "point 0: loss is not a number: True"


def test_a_step_beyond_64_bits_is_refused(indexed: Node) -> None:
    error = only_error(indexed, **{"metrics__train.yaml": POINT.format(value=1, step=2**64)})
    assert error["message"] == f"point 0: `sequence.step` {2**64} is out of the 64-bit range"


def test_a_file_named_by_index_yaml_but_missing_is_named(indexed: Node) -> None:
    error = only_error(indexed, **{"metrics__val.yaml": None})
    assert error == {"file": "metrics/val.yaml", "message": "named by index.yaml, but the run does not hold this file"}


def test_a_missing_log_is_named(indexed: Node) -> None:
    error = only_error(indexed, **{"stdout.log": None})
    assert error == {"file": "stdout.log", "message": "named by index.yaml, but the run does not hold this file"}


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "metrics/../../x.yaml", "a\\b.yaml"])
def test_paths_leaving_the_run_are_refused(indexed: Node, path: str) -> None:
    error = only_error(indexed, **{"index.yaml": f"metrics:\n  train: {path!r}\n"})
    assert error["file"] == "index.yaml" and error["message"].startswith("metrics.train: ")


def test_a_bundle_without_index_yaml_is_refused(indexed: Node) -> None:
    error = only_error(indexed, **{"index.yaml": None})
    assert error == {"file": "index.yaml", "message": "missing: the run does not hold this file"}


def test_text_that_is_not_utf8_is_refused(indexed: Node) -> None:
    error = only_error(indexed, **{"metadata.yaml": b"name: \xff\xfe\n"})
    assert error == {"file": "metadata.yaml", "message": "not UTF-8 text (byte 6)"}


def test_every_broken_file_is_reported_at_once(indexed: Node) -> None:
    files = example_bundle(
        **{"hyperparameters.yaml": BOMB, "metrics__train.yaml": "- nonsense\n", "metrics__val.yaml": None}
    )
    assert [error["file"] for error in refused(indexed, files)] == [
        "hyperparameters.yaml",
        "metrics/train.yaml",
        "metrics/val.yaml",
    ]


def test_a_fixed_bundle_indexes_again_after_a_failure(indexed: Node) -> None:
    refused(indexed, example_bundle(**{"hyperparameters.yaml": BOMB}))
    replace_files(indexed, example_bundle(**{"metrics__val.yaml": metric_file([(5, 0, {"f1": 0.5})])}))
    assert index_run(indexed.pk)["state"] == "indexed"
    run = Run.objects.get(node=indexed)
    assert (run.index_state, run.index_errors) == (IndexState.INDEXED, [])
    assert set(run.metrics.values_list("key", flat=True)) == {"train.loss", "val.f1"}


def test_a_run_without_files_fails_cleanly(alice: Any) -> None:
    from em.services.nodes import create_node

    node = create_node(parent=root(alice), name="empty", kind="Run", by=alice)
    outcome = index_run(node.pk)
    assert outcome["errors"] == [{"file": "", "message": "the run holds no files to index"}]
    assert Run.objects.get(node=node).index_state == IndexState.FAILED
