"""Asset Hub versioning through the API, with real bytes: commits, tags, branches, diff, merge, refs.

Every test gets its own storage and scratch directories (`private_storage`, in tests/conftest.py).
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from assethub.models import Branch, StagedChange, Tag, Version
from em.models import Node
from tests.assethub_helpers import commit, create, put, sha, stage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage")]

WEIGHTS = b"\x00weights-v1" * 1000
CONFIG = b"layers: 50\n"


@pytest.fixture
def client(api, alice):
    return api(alice)


@pytest.fixture
def model(client) -> dict[str, Any]:
    return create(client, "resnet", parent_path="/alice/t9k-assethub/model/cv", make_folder=True)


def test_an_asset_is_made_under_the_hub_by_default_with_an_empty_main(client):
    response = client.post("/api/v1/assets", {"name": "mnist", "kind": "Dataset"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["asset"]["path"] == "/alice/t9k-assethub/dataset/mnist"
    assert (body["asset"]["kind"], body["asset"]["storage_type"]) == ("Dataset", 3)
    assert body["branches"] == [
        {"name": "main", "head": None, "created_at": body["branches"][0]["created_at"], "created_by": "alice"}
    ]
    assert client.get(f"/api/v1/assets/{body['asset']['id']}/commits").json()["count"] == 0


def test_nodes_endpoint_refuses_asset_kinds(client, alice):
    response = client.post("/api/v1/nodes", {"parent_path": "/alice", "name": "m", "kind": "Model"}, format="json")
    assert response.status_code == 400
    assert not Node.objects.filter(name="m").exists()


def test_a_commit_needs_the_bytes_then_holds_exactly_the_staged_files(client, model):
    staged = stage(client, model["id"], {"weights.bin": WEIGHTS, "config.yaml": CONFIG})
    assert staged.status_code == 200, staged.content
    assert sorted(staged.json()["missing"]) == sorted([sha(WEIGHTS), sha(CONFIG)])
    assert staged.json()["staged"] == 2
    early = client.post(f"/api/v1/assets/{model['id']}/commits", {"message": "first"}, format="json")
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "blobs_missing"
    assert Version.objects.count() == 0
    for data in (WEIGHTS, CONFIG):
        assert put(client, data).status_code == 201
    made = client.post(
        f"/api/v1/assets/{model['id']}/commits", {"message": "first", "metadata": {"top1": 0.76}}, format="json"
    )
    assert made.status_code == 201, made.content
    v1 = made.json()
    assert (v1["message"], v1["author"], v1["parents"], v1["metadata"]) == ("first", "alice", [], {"top1": 0.76})
    assert (v1["file_count"], v1["total_size"]) == (2, len(WEIGHTS) + len(CONFIG))
    assert StagedChange.objects.count() == 0
    assert Branch.objects.get(asset_id=model["id"], name="main").head_id == v1["id"]

    files = client.get(f"/api/v1/assets/{model['id']}/files").json()
    assert [(f["path"], f["size"], f["sha256"]) for f in files["results"]] == [
        ("config.yaml", len(CONFIG), sha(CONFIG)),
        ("weights.bin", len(WEIGHTS), sha(WEIGHTS)),
    ]
    one = client.get(f"/api/v1/assets/{model['id']}/files/weights.bin")
    assert one.status_code == 200 and b"".join(one.streaming_content) == WEIGHTS
    ranged = client.get(f"/api/v1/assets/{model['id']}/files/config.yaml", HTTP_RANGE="bytes=0-5")
    assert ranged.status_code == 206 and b"".join(ranged.streaming_content) == CONFIG[:6]
    archive = client.get(f"/api/v1/assets/{model['id']}/archive.zip")
    with zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))) as zipped:
        assert {n: zipped.read(n) for n in zipped.namelist()} == {"weights.bin": WEIGHTS, "config.yaml": CONFIG}

    v2 = commit(client, model["id"], {"config.yaml": b"layers: 101\n"}, delete=["weights.bin"], message="second")
    assert v2["parents"] == [v1["id"]]
    assert v2["file_count"] == 1
    old = client.get(f"/api/v1/assets/{model['id']}/files/weights.bin", {"ref": v1["id"]})
    assert b"".join(old.streaming_content) == WEIGHTS  # the first version is untouched
    assert client.get(f"/api/v1/assets/{model['id']}/files/weights.bin").status_code == 404
    log = client.get(f"/api/v1/assets/{model['id']}/commits", {"ref": "main"}).json()
    assert [v["id"] for v in log["results"]] == [v2["id"], v1["id"]]


def test_a_digest_the_committer_never_sent_is_missing_even_when_stored(client, api, bob, model):
    secret = b"bob's private weights"
    bobs = api(bob)
    bobs_model = create(bobs, "private")
    commit(bobs, bobs_model["id"], {"w.bin": secret})
    staged = stage(client, model["id"], {"stolen.bin": secret})
    assert staged.json()["missing"] == [sha(secret)]
    refused = client.post(f"/api/v1/assets/{model['id']}/commits", {"message": "steal"}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "blobs_missing"
    assert Version.objects.filter(asset_id=model["id"]).count() == 0


def test_nothing_staged_or_no_change_is_nothing_to_commit(client, model):
    empty = client.post(f"/api/v1/assets/{model['id']}/commits", {}, format="json")
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "nothing_to_commit"
    commit(client, model["id"], {"a": b"a"})
    stage(client, model["id"], {"a": b"a"})
    same = client.post(f"/api/v1/assets/{model['id']}/commits", {}, format="json")
    assert same.status_code == 400 and same.json()["error"]["code"] == "nothing_to_commit"
    assert Version.objects.filter(asset_id=model["id"]).count() == 1


def test_deleting_a_folder_stages_every_file_below_it(client, model):
    commit(client, model["id"], {"ckpt/1.pt": b"1", "ckpt/2.pt": b"2", "ckpt2.pt": b"x", "README": b"r"})
    staged = stage(client, model["id"], delete=["ckpt"])
    assert staged.json()["staged"] == 2
    listed = client.get(f"/api/v1/assets/{model['id']}/branches/main/stage").json()["results"]
    assert [(c["path"], c["op"]) for c in listed] == [("ckpt/1.pt", "delete"), ("ckpt/2.pt", "delete")]
    v = client.post(f"/api/v1/assets/{model['id']}/commits", {}, format="json").json()
    assert v["file_count"] == 2
    missing = stage(client, model["id"], delete=["nope"])
    assert missing.status_code == 404


def test_a_stale_expected_head_is_a_conflict_and_nothing_is_written(client, model):
    v1 = commit(client, model["id"], {"a": b"a"})
    commit(client, model["id"], {"a": b"b"})
    stage(client, model["id"], {"c": b"c"})
    put(client, b"c")
    stale = client.post(f"/api/v1/assets/{model['id']}/commits", {"expected_head": v1["id"]}, format="json")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "head_moved"
    assert Version.objects.filter(asset_id=model["id"]).count() == 2
    assert StagedChange.objects.filter(path="c").exists()


def test_tags_name_one_version_for_good(client, model):
    v1 = commit(client, model["id"], {"a": b"1"})
    tagged = client.post(f"/api/v1/assets/{model['id']}/tags", {"name": "v1"}, format="json")
    assert tagged.status_code == 201 and tagged.json()["version"] == v1["id"]
    commit(client, model["id"], {"a": b"2"})
    again = client.post(f"/api/v1/assets/{model['id']}/tags", {"name": "v1", "ref": "main"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "ref_exists"
    assert Tag.objects.get(asset_id=model["id"], name="v1").version_id == v1["id"]
    assert client.get(f"/api/v1/assets/{model['id']}/commits/v1").json()["tags"] == ["v1"]
    best = client.post(f"/api/v1/assets/{model['id']}/tags", {"name": "best", "ref": v1["id"][:8]}, format="json")
    assert best.json()["version"] == v1["id"]
    assert [t["name"] for t in client.get(f"/api/v1/assets/{model['id']}/tags").json()] == ["best", "v1"]
    clash = client.post(f"/api/v1/assets/{model['id']}/tags", {"name": "main"}, format="json")
    assert clash.status_code == 409  # a tag never shadows a branch


def test_a_model_branches_and_a_dataset_does_not(client, model):
    base = commit(client, model["id"], {"a": b"1"})
    made = client.post(f"/api/v1/assets/{model['id']}/branches", {"name": "dev"}, format="json")
    assert made.status_code == 201 and made.json()["head"] == base["id"]
    on_dev = commit(client, model["id"], {"b": b"2"}, branch="dev")
    heads = {b["name"]: b["head"] for b in client.get(f"/api/v1/assets/{model['id']}/branches").json()}
    assert heads == {"dev": on_dev["id"], "main": base["id"]}
    dataset = create(client, "rows", kind="Dataset")
    refused = client.post(f"/api/v1/assets/{dataset['id']}/branches", {"name": "dev"}, format="json")
    assert refused.status_code == 400
    assert client.delete(f"/api/v1/assets/{model['id']}/branches/main").status_code == 400
    assert client.delete(f"/api/v1/assets/{model['id']}/branches/dev").status_code == 204
    assert Version.objects.filter(pk=on_dev["id"]).exists()  # versions outlive the branch


def test_diff_lists_added_changed_and_removed_with_sizes(client, model):
    v1 = commit(client, model["id"], {"same": b"s", "grow": b"12", "gone": b"xyz"})
    v2 = commit(client, model["id"], {"grow": b"12345", "new": b"n"}, delete=["gone"])
    client.post(f"/api/v1/assets/{model['id']}/tags", {"name": "v1", "ref": v1["id"]}, format="json")
    body = client.get(f"/api/v1/assets/{model['id']}/diff", {"from": "v1", "to": "main"}).json()
    assert body["from"] == {"kind": "tag", "name": "v1", "commit": v1["id"]}
    assert body["to"] == {"kind": "branch", "name": "main", "commit": v2["id"]}
    assert body["added"] == [{"path": "new", "size": 1, "sha256": sha(b"n")}]
    assert body["removed"] == [{"path": "gone", "size": 3, "sha256": sha(b"xyz")}]
    assert body["changed"] == [
        {"path": "grow", "old_size": 2, "size": 5, "old_sha256": sha(b"12"), "sha256": sha(b"12345")}
    ]
    assert body["summary"] == {
        "added": 1,
        "changed": 1,
        "removed": 1,
        "bytes_added": 1,
        "bytes_removed": 3,
        "bytes_changed": 3,
    }
    path = "/alice/t9k-assethub/model/cv/resnet"
    by_path = client.get("/api/v1/assets/diff", {"from": f"{path}:v1", "to": path}).json()
    assert by_path["changed"] == body["changed"] and by_path["to"]["commit"] == v2["id"]


def test_merge_fast_forwards_when_main_has_not_moved(client, model):
    base = commit(client, model["id"], {"a": b"1"})
    client.post(f"/api/v1/assets/{model['id']}/branches", {"name": "dev"}, format="json")
    tip = commit(client, model["id"], {"b": b"2"}, branch="dev")
    merged = client.post(f"/api/v1/assets/{model['id']}/merge", {"source": "dev"}, format="json")
    assert merged.status_code == 200, merged.content
    assert merged.json()["result"] == "fast_forward"
    assert merged.json()["version"]["id"] == tip["id"] and merged.json()["branch"]["head"] == tip["id"]
    again = client.post(f"/api/v1/assets/{model['id']}/merge", {"source": "dev"}, format="json")
    assert again.json()["result"] == "up_to_date"
    assert Version.objects.filter(asset_id=model["id"]).count() == 2
    assert base["id"] in client.get(f"/api/v1/assets/{model['id']}/commits/main").json()["parents"]


def test_a_three_way_merge_takes_each_sides_own_changes(client, model):
    commit(client, model["id"], {"shared": b"s", "main-edits": b"0", "dev-edits": b"0", "dev-drops": b"d"})
    client.post(f"/api/v1/assets/{model['id']}/branches", {"name": "dev"}, format="json")
    ours = commit(client, model["id"], {"main-edits": b"main", "main-new": b"m"})
    theirs = commit(client, model["id"], {"dev-edits": b"dev"}, delete=["dev-drops"], branch="dev")
    merged = client.post(f"/api/v1/assets/{model['id']}/merge", {"source": "dev"}, format="json")
    assert merged.status_code == 200, merged.content
    version = merged.json()["version"]
    assert merged.json()["result"] == "merge"
    assert version["parents"] == [ours["id"], theirs["id"]]
    assert version["message"] == "Merge dev into main"
    files = {f["path"]: f["sha256"] for f in client.get(f"/api/v1/assets/{model['id']}/files").json()["results"]}
    assert files == {"shared": sha(b"s"), "main-edits": sha(b"main"), "main-new": sha(b"m"), "dev-edits": sha(b"dev")}


def test_a_merge_conflict_lists_every_path_and_writes_nothing(client, model):
    commit(client, model["id"], {"a": b"0", "b": b"0", "c": b"0"})
    client.post(f"/api/v1/assets/{model['id']}/branches", {"name": "dev"}, format="json")
    ours = commit(client, model["id"], {"a": b"main", "b": b"main", "c": b"same"})
    commit(client, model["id"], {"a": b"dev", "c": b"same"}, delete=["b"], branch="dev")
    refused = client.post(f"/api/v1/assets/{model['id']}/merge", {"source": "dev"}, format="json")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "merge_conflict"
    assert error["detail"] == {"paths": ["a", "b"]}
    assert "a, b" in error["message"]
    assert Branch.objects.get(asset_id=model["id"], name="main").head_id == ours["id"]
    assert Version.objects.filter(asset_id=model["id"]).count() == 3


def test_a_merge_of_unrelated_branches_is_refused_clearly(client, model):
    commit(client, model["id"], {"a": b"main"})
    orphan = client.post(f"/api/v1/assets/{model['id']}/branches", {"name": "other", "orphan": True}, format="json")
    assert orphan.status_code == 201 and orphan.json()["head"] is None
    commit(client, model["id"], {"z": b"other"}, branch="other")
    refused = client.post(f"/api/v1/assets/{model['id']}/merge", {"source": "other"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "unrelated_histories"
    assert "share no version" in refused.json()["error"]["message"]


def test_path_refs_resolve_everywhere_a_ref_is_taken(client, model):
    path = "/alice/t9k-assethub/model/cv/resnet"
    v1 = commit(client, model["id"], {"a": b"1"})
    client.post(f"/api/v1/assets/{model['id']}/tags", {"name": "v1"}, format="json")
    v2 = commit(client, model["id"], {"a": b"2"})
    for text, expected in [(f"{path}:v1", v1), (path, v2), (f"{path}:main", v2), (f"{path}:{v1['id'][:6]}", v1)]:
        resolved = client.get("/api/v1/assets/resolve", {"ref": text})
        assert resolved.status_code == 200, (text, resolved.content)
        assert resolved.json()["version"]["id"] == expected["id"], text
        assert resolved.json()["asset"]["id"] == model["id"]
        files = client.get(f"/api/v1/assets/{model['id']}/files/a", {"ref": text})
        assert b"".join(files.streaming_content) == (b"1" if expected is v1 else b"2"), text
    assert client.get(f"/api/v1/assets/{model['id']}/commits/{path}:v1").status_code == 404  # not a URL segment
    assert client.get(f"/api/v1/assets/{model['id']}/commits", {"ref": f"{path}:v1"}).json()["count"] == 1
    tagged = client.post(f"/api/v1/assets/{model['id']}/tags", {"name": "first", "ref": f"{path}:v1"}, format="json")
    assert tagged.json()["version"] == v1["id"]
    branched = client.post(
        f"/api/v1/assets/{model['id']}/branches", {"name": "fix", "start": f"{path}:v1"}, format="json"
    )
    assert branched.json()["head"] == v1["id"]
    other = create(client, "other")
    commit(client, other["id"], {"a": b"x"})
    foreign = client.get(f"/api/v1/assets/{model['id']}/files", {"ref": "/alice/t9k-assethub/model/other:main"})
    assert foreign.status_code == 400  # a request about one asset never reads another through a ref
    unknown = client.get("/api/v1/assets/resolve", {"ref": f"{path}:v9"})
    assert unknown.status_code == 404 and "v9" in unknown.json()["error"]["message"]


def test_a_name_holding_a_colon_is_tried_whole_first(client):
    odd = create(client, "a:b")
    commit(client, odd["id"], {"f": b"1"})
    whole = client.get("/api/v1/assets/resolve", {"ref": "/alice/t9k-assethub/model/a:b"})
    assert whole.json()["asset"]["id"] == odd["id"] and whole.json()["ref"]["name"] == "main"
    split = client.get("/api/v1/assets/resolve", {"ref": "/alice/t9k-assethub/model/a:b:main"})
    assert split.json()["asset"]["id"] == odd["id"]


def test_a_commit_prefix_shared_by_two_commits_is_ambiguous(client, model, alice):
    v1 = Version.objects.get(pk=commit(client, model["id"], {"a": b"1"})["id"])
    for digit in "01":  # two commits whose ids share their first four digits
        Version.objects.create(id="abcd" + digit * 36, asset_id=model["id"], manifest=v1.manifest, parent=v1)
    ambiguous = client.get(f"/api/v1/assets/{model['id']}/commits/abcd")
    assert ambiguous.status_code == 400 and "more than one" in ambiguous.json()["error"]["message"]
    assert client.get(f"/api/v1/assets/{model['id']}/commits/abcd1").json()["id"] == "abcd" + "1" * 36
