"""Issue 8, defect 8: `attributes.path` ranges over what the caller can see, whatever the visibility of
the folders on the way, and never lets a hidden folder's name be told from a name that exists nowhere.

The decision: a path in a filter is looked up without any access check and only narrows the runs the
caller may see. A match is then always a visible run whose own path (shown to the caller in every hit)
spells the folder's name, so it tells nothing new; a hidden folder with nothing visible below answers
exactly as a folder that does not exist (200, no hits), for =, !=, IN, NOT IN and LIKE alike.
"""

from __future__ import annotations

from typing import Any

import pytest

from em.access import Level
from em.services import sharing
from tests.factories import folder, root
from tests.run_helpers import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(alice: Any, bob: Any) -> dict[str, Any]:
    """/alice/secret/exp/open-run is public, its folders are not; /alice/vault/closed-run is private."""
    exp = folder(folder(root(alice), "secret"), "exp")
    made = {"open": make_run(exp, "open-run"), "closed": make_run(folder(root(alice), "vault"), "closed-run")}
    sharing.share(node=made["open"].node, to=sharing.principal("public"), level=Level.VIEW, by=alice)
    made["mine"] = make_run(root(bob), "bobs-run")
    return made


def _search(client: Any, filter: str) -> Any:
    response = client.get("/api/v1/runs", {"filter": filter})
    assert response.status_code == 200, response.content
    return response.json()


def names(client: Any, filter: str) -> list[str]:
    return sorted(row["name"] for row in _search(client, filter)["results"])


@pytest.mark.parametrize("folder_path", ["/alice", "/alice/secret", "/alice/secret/exp"])
def test_a_path_filter_finds_a_visible_run_below_folders_the_caller_cannot_see(folder_path, tree, bob, api):
    assert names(api(bob), f"attributes.path LIKE '{folder_path}/%'") == ["open-run"]


def test_the_owner_sees_every_run_below_the_folder(tree, alice, api):
    assert names(api(alice), "attributes.path LIKE '/alice/%'") == ["closed-run", "open-run"]


def test_a_path_equal_to_a_visible_run_below_hidden_folders_matches_it(tree, bob, api):
    assert names(api(bob), "attributes.path = '/alice/secret/exp/open-run'") == ["open-run"]


@pytest.mark.parametrize(
    "template",
    [
        "attributes.path LIKE '{}/%'",
        "attributes.path = '{}/closed-run'",
        "attributes.path IN ('{}/closed-run', '/bob/bobs-run')",
        "attributes.path != '{}/closed-run'",
        "attributes.path NOT IN ('{}/closed-run')",
    ],
)
def test_a_hidden_folder_answers_exactly_as_a_folder_that_does_not_exist(template, tree, bob, api):
    client = api(bob)
    hidden = _search(client, template.format("/alice/vault"))
    absent = _search(client, template.format("/alice/no-such-folder"))
    assert hidden == absent
    assert "closed-run" not in [row["name"] for row in hidden["results"]]
