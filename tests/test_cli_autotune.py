"""`em autotune show` against a live server: by path (relative to the caller's root) and by id, with the
best trial first; a search the caller cannot see is the same error as one that does not exist."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from em.autotune import indexing
from em.client.cli import main
from tests.autotune_helpers import autotune_node, example_search
from tests.factories import folder, root

pytestmark = pytest.mark.django_db(transaction=True)


def test_show_a_search_by_path_and_by_id(alice, bob, private_storage, signed_in):
    node = autotune_node(folder(root(alice), "searches"), "lr", example_search())
    indexing.index_autotune(node.pk)
    for ref in ("searches/lr", str(node.pk)):
        shown = CliRunner().invoke(main, ["autotune", "show", ref, "-n", "2"])
        assert shown.exit_code == 0, shown.output
        assert "DONE  maximize accuracy" in shown.output
        assert "trials: 6 of 10 (Failed 1, Pruned 1, Succeeded 4)" in shown.output
        assert 'best: trial 4 = 0.95  {"lr": 0.05, "layers": 2, "optimizer": "adam"}' in shown.output
        rows = [line.split()[1] for line in shown.output.splitlines() if line.startswith("│")]
        assert rows == ["4", "1"]
    hidden = autotune_node(root(bob), "secret", example_search())
    missing = CliRunner().invoke(main, ["autotune", "show", str(hidden.pk)])
    assert missing.exit_code == 1 and "AutoTune not found" in missing.output
