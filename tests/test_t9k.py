"""The T9k AIStore API (/t9k/aistore/server/, docs/t9k.md) against a live server, as the `t9k` SDK uses it.

`tests/t9k_replay.py` sends the SDK's request sequences over HTTP and parses the answers as it does; what
they leave behind is checked through EM's own API (runs, files, references, lineage). Indexing here is
Celery's eager mode; tests/test_t9k_worker.py runs the same journey through Redis and a real worker.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import requests
import yaml

from accounts import services as account_services
from em.access import Level
from em.models import IndexState, Node, Run
from em.services import sharing
from tests.bundle_helpers import example_bundle, metric_file
from tests.t9k_replay import PREFIX, SDKError, T9kReplay

pytestmark = pytest.mark.django_db(transaction=True)

ALT_1 = "mnist_torch_260301_100000_a1b2c3"
ALT_2 = "mnist_torch_260301_110000_d4e5f6"
ARTIFACT_ALT = "mnist_data_260301_095900_x9y8z7"


def uuid_key(user: Any, scope: str = "write") -> str:
    _, raw = account_services.create_key(user=user, name=f"t9k-{scope}", scope=scope)
    return account_services.uuid_form(raw)


def sdk(live_server: Any, user: Any, scope: str = "write") -> T9kReplay:
    return T9kReplay(live_server.url, uuid_key(user, scope))


def run_bundle(alternative: str, train_points: int = 3) -> dict[str, bytes]:
    metadata = yaml.safe_load(example_bundle()["metadata.yaml"])
    metadata.update(
        name="mnist_torch",
        alternativeName=alternative,
        associations={"input": [{"name": "mnist_data", "alternativeName": ARTIFACT_ALT}], "output": []},
    )
    train = metric_file([(step * 100, step, {"loss": 2.0 / (step + 1)}) for step in range(train_points)])
    return {
        **example_bundle(),
        "metadata.yaml": yaml.safe_dump(metadata).encode(),
        "metrics/train.yaml": train.encode(),
    }


def artifact_bundle() -> dict[str, bytes]:
    metadata = {
        "kind": "Artifact",
        "name": "mnist_data",
        "labels": ["data"],
        "description": "",
        "createdTimestamp": "2026-03-01T09:59:00.000000+08:00",
        "alternativeName": ARTIFACT_ALT,
        "remote": [],
    }
    return {
        "metadata.yaml": yaml.safe_dump(metadata).encode(),
        "train/images.bin": b"\x00\x01" * 500,
        "train/labels.bin": b"\x07" * 100,
        "references.yaml": yaml.safe_dump({"test/images.bin": "s3://datasets/mnist/test-images.bin"}).encode(),
    }


def em_api(live_server: Any, user: Any) -> requests.Session:
    """EM's own API as `user` (a bearer key), to check what the T9k layer left behind."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {account_services.create_key(user=user, name='em')[1]}"
    session.base_url = f"{live_server.url}/api/v1"  # type: ignore[attr-defined]
    return session


def em_get(session: requests.Session, path: str, **params: Any) -> Any:
    response = session.get(f"{session.base_url}{path}", params=params, timeout=30)  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    return response.json()


def test_an_sdk_upload_is_indexed_and_its_lineage_and_files_read_through_ems_api(live_server: Any, alice: Any) -> None:
    client = sdk(live_server, alice)
    assert client.login() == "alice"
    folder = "/alice/t9k-em/mnist"

    artifact = client.upload(
        artifact_bundle(), kind="Artifact", name="mnist_data", alternative=ARTIFACT_ALT, folder=folder
    )
    first = client.upload(run_bundle(ALT_1), kind="Run", name="mnist_torch", alternative=ALT_1, folder=folder)
    # A second run of the same script: its display name is taken, so the SDK falls back to its folder name.
    second = client.upload(run_bundle(ALT_2), kind="Run", name="mnist_torch", alternative=ALT_2, folder=folder)
    client.link([(artifact["id"], first["id"]), (artifact["id"], second["id"])])

    # Folders were made on 404, one level at a time, each after reading the path out of the 404's brackets.
    folder_calls = [(m, p) for m, p in client.sent[:8] if p == "/apis/v1/nodes"]
    assert folder_calls == [("POST", "/apis/v1/nodes")] * 2
    assert first["path"] == "/alice/t9k-em/mnist/mnist_torch"
    assert second["path"] == f"/alice/t9k-em/mnist/{ALT_2}"
    assert json.loads(second["extra"]) == {"alternativeName": ALT_2}
    assert (first["type"], first["storageType"], first["permission"], first["editor"]) == ("Run", 2, "owner", "alice")

    em = em_api(live_server, alice)
    for node, alternative in ((first, ALT_1), (second, ALT_2)):
        run = em_get(em, f"/runs/{node['id']}")
        assert run["index_state"] == "indexed", run["index_errors"]
        assert run["run"]["alternative_name"] == alternative  # the two mnist_torch runs told apart
        assert run["run"]["status"] == "Complete"
        assert run["params"]["optimizer.name"] == "adam"
        assert run["metrics"]["train.loss"]["count"] == 3
        assert [i["id"] for i in run["lineage"]["input"]] == [artifact["id"]]
        assert em_get(em, f"/nodes/{node['id']}")["extra"] == {"alternativeName": alternative}

    files = {f["path"]: f["size"] for f in em_get(em, f"/nodes/{artifact['id']}/files")}
    assert files == {
        "metadata.yaml": files["metadata.yaml"],
        "references.yaml": files["references.yaml"],
        "train/images.bin": 1000,
        "train/labels.bin": 100,
    }
    references = em_get(em, f"/nodes/{artifact['id']}/references")
    assert references["references"] == [{"path": "test/images.bin", "uri": "s3://datasets/mnist/test-images.bin"}]

    graph = client.graph(artifact["id"])
    assert graph["in"] is not None and graph["in"] == []
    assert sorted(n["name"] for n in graph["out"]) == sorted(["mnist_torch", ALT_2])
    assert [n["id"] for n in client.graph(first["id"])["in"]] == [artifact["id"]]
    lineage = em_get(em, "/lineage", node=artifact["id"], depth=1)
    assert {e["direction"] for e in lineage["edges"]} == {"input"} and len(lineage["edges"]) == 2

    # The artifact's objects, listed and read back as the SDK's load_artifact does.
    listing = client.call("GET", "/apis/v1/objects/ls", params={"path": artifact["path"]})
    assert [(o["path"], o["path_type"]) for o in listing["data"]] == [
        (f"{artifact['path']}/metadata.yaml", "object"),
        (f"{artifact['path']}/references.yaml", "object"),
        (f"{artifact['path']}/train", "directory"),
    ]
    inside = client.call("GET", "/apis/v1/objects/ls", params={"path": f"{artifact['path']}/train"})["data"]
    labels = next(o for o in inside if o["path"].endswith("labels.bin"))
    assert labels["checksum"] == hashlib.md5(b"\x07" * 100).hexdigest()  # noqa: S324 - the wire's checksum
    assert client.call("GET", "/apis/v1/objects", params={"path": labels["path"]}) == b"\x07" * 100


def test_auto_upload_of_a_growing_metrics_file_indexes_the_run_again(live_server: Any, alice: Any) -> None:
    client = sdk(live_server, alice)
    files = run_bundle(ALT_1, train_points=2)
    node = client.upload(files, kind="Run", name="mnist_torch", alternative=ALT_1, folder="/alice/live")
    run = Run.objects.get(node_id=node["id"])
    assert (run.index_state, run.metrics.get(key="train.loss").count) == (IndexState.INDEXED, 2)
    indexed_at = run.indexed_at
    assert indexed_at is not None

    # auto_upload sends the whole folder again: unchanged files change nothing, the grown one re-indexes.
    grown = run_bundle(ALT_1, train_points=5)
    for path, data in grown.items():
        client.put_object(f"{node['path']}/{path}", data)
    run.refresh_from_db()
    assert run.index_state == IndexState.INDEXED
    assert run.metrics.get(key="train.loss").count == 5
    assert run.indexed_at is not None and run.indexed_at > indexed_at

    again = run.indexed_at
    for path, data in grown.items():  # the same bytes once more: nothing to index
        client.put_object(f"{node['path']}/{path}", data)
    run.refresh_from_db()
    assert run.indexed_at == again


def test_a_run_is_indexed_only_once_index_yaml_and_every_file_it_names_are_there(live_server: Any, alice: Any) -> None:
    client = sdk(live_server, alice)
    client.folder("/alice/order", make_folder=True)
    client.create("/alice/order", "r", "Run", 2, extra={"alternativeName": ALT_1})
    files = run_bundle(ALT_1)
    run = Run.objects.get(node__name="r")
    # index.yaml first, the files it names after: nothing is indexed until the last of them arrives.
    order = [
        "index.yaml",
        "metadata.yaml",
        "metrics/train.yaml",
        "hyperparameters.yaml",
        "platform.yaml",
        "git.yaml",
        "stdout.log",
        "metrics/val.yaml",
    ]
    assert sorted(order) == sorted(files)
    for path in order[:-1]:
        client.put_object(f"/alice/order/r/{path}", files[path])
        run.refresh_from_db()
        assert run.indexed_at is None and not run.metrics.exists(), path
    client.put_object("/alice/order/r/metrics/val.yaml", files["metrics/val.yaml"])
    run.refresh_from_db()
    assert run.index_state == IndexState.INDEXED and run.alternative_name == ALT_1
    assert sorted(run.metrics.values_list("key", flat=True)) == ["train.loss", "val.accuracy", "val.loss"]


def test_big_objects_arrive_in_parts(live_server: Any, alice: Any) -> None:
    client = sdk(live_server, alice)
    node = client.upload({}, kind="Artifact", name="weights", alternative="weights_1", folder="/alice/models")
    data = bytes(range(256)) * 40  # 10,240 bytes in parts of 4,096
    answer = client.put_big_object(f"{node['path']}/model.pt", data, part_size=4096)
    assert answer == {"path": f"{node['path']}/model.pt", "path_type": "object", "size_bytes": len(data)}
    assert client.call("GET", "/apis/v1/objects", params={"path": f"{node['path']}/model.pt"}) == data

    upload = client.call("POST", "/apis/v1/objects/multipart", params={"path": f"{node['path']}/other.pt"})["uploadId"]
    client.call("DELETE", f"/apis/v1/objects/multipart/{upload}", params={"path": f"{node['path']}/other.pt"})
    with pytest.raises(SDKError) as gone:
        client.call(
            "POST",
            f"/apis/v1/objects/multipart/{upload}",
            params={"path": f"{node['path']}/other.pt"},
            json={"parts": [{"etag": "x", "partNumber": 1}]},
        )
    assert (gone.value.status, gone.value.text) == (404, f"upload not found [{upload}]")


# --- the exact texts the SDK parses, and EM's permissions through this layer ------------------------------


def test_clash_missing_parent_bad_key_and_wrong_address_answer_the_texts_the_sdk_parses(
    live_server: Any, alice: Any
) -> None:
    client = sdk(live_server, alice)
    client.create("/alice", "taken", "Folder", 0)
    with pytest.raises(SDKError) as clash:
        client.create("/alice", "taken", "Run", 2)
    assert (clash.value.status, clash.value.text) == (400, "Invalid conflicting node Name")
    with pytest.raises(SDKError) as missing:
        client.create("/alice/no/such", "x", "Folder", 0)
    assert (missing.value.status, missing.value.text) == (404, "node not found [/alice/no/such]")

    wrong = requests.get(f"{live_server.url}{PREFIX}/apis/v1/nope", params={"apikey": client.api_key}, timeout=10)
    assert (wrong.status_code, wrong.text) == (404, "")  # the SDK's "Incorrect URL"

    unknown = "0b3e5a7c-1d2f-4a6b-8c9d-0e1f2a3b4c5d"
    refused = requests.get(f"{live_server.url}{PREFIX}/oauth2/userinfo", params={"apikey": unknown}, timeout=10)
    assert refused.status_code == 400
    assert refused.text.startswith("api key 0b3e5a7c… not found")
    assert unknown not in refused.text


def test_a_read_only_key_gets_permission_denied_on_every_write(live_server: Any, alice: Any) -> None:
    writer, reader = sdk(live_server, alice), sdk(live_server, alice, "read")
    node = writer.upload({"a.txt": b"a"}, kind="Artifact", name="art", alternative="art_1", folder="/alice/f")
    run_id = writer.create("/alice/f", "run", "Run", 2)
    writes = [
        lambda: reader.create("/alice/f", "new", "Folder", 0),
        lambda: reader.call("PUT", "/apis/v1/nodes", json={"node": node["id"], "description": "d"}),
        lambda: reader.call("DELETE", "/apis/v1/nodes", json={"node": node["id"]}),
        lambda: reader.put_object(f"{node['path']}/b.txt", b"b"),
        lambda: reader.call("DELETE", "/apis/v1/objects", params={"path": f"{node['path']}/a.txt"}),
        lambda: reader.call("POST", "/apis/v1/objects/multipart", params={"path": f"{node['path']}/c"}),
        lambda: reader.link([(node["id"], run_id)]),
    ]
    for write in writes:
        with pytest.raises(SDKError) as denied:
            write()
        assert (denied.value.status, denied.value.text) == (403, "permission denied")
    assert reader.info(node["id"])["path"] == "/alice/f/art"  # reads are fine
    assert reader.call("GET", "/apis/v1/objects", params={"path": f"{node['path']}/a.txt"}) == b"a"


def test_a_strangers_path_answers_as_a_missing_one_and_a_viewer_reads_but_cannot_write(
    live_server: Any, alice: Any, bob: Any
) -> None:
    owner = sdk(live_server, alice)
    node = owner.upload({"a.txt": b"a"}, kind="Artifact", name="art", alternative="art_1", folder="/alice/private")
    stranger = sdk(live_server, bob)

    def answer(call: Any) -> tuple[int, str]:
        with pytest.raises(SDKError) as refused:
            call()
        return refused.value.status, refused.value.text

    for path in ("/alice/private/art", "/alice/private/nothing"):
        assert answer(lambda p=path: stranger.info(p)) == (404, f"node not found [{path}]")
        assert answer(lambda p=path: stranger.call("GET", "/apis/v1/objects", params={"path": f"{p}/a.txt"})) == (
            404,
            f"node not found [{path}/a.txt]",
        )
        assert answer(lambda p=path: stranger.put_object(f"{p}/x", b"x")) == (404, f"node not found [{path}/x]")
    assert answer(lambda: stranger.info(node["id"])) == (404, f"node not found [{node['id']}]")
    assert answer(lambda: stranger.graph(node["id"])) == (404, f"node not found [{node['id']}]")

    sharing.share(node=Node.objects.get(pk=node["id"]), to=sharing.principal("user", "bob"), level=Level.VIEW, by=alice)
    assert stranger.info("/alice/private/art")["permission"] == "view"
    shared = stranger.call("GET", "/apis/v1/nodes/shared")
    assert [n["path"] for n in shared["data"]] == ["/alice/private/art"] and shared["pagination"]["total"] == 1
    assert answer(lambda: stranger.put_object("/alice/private/art/x", b"x")) == (403, "permission denied")


def test_nodes_list_a_folder_by_page_type_and_label_in_constant_queries(
    live_server: Any, alice: Any, django_assert_max_num_queries: Any
) -> None:
    client = sdk(live_server, alice)
    client.create("/alice", "exp", "Folder", 0)
    for i in range(12):
        client.create("/alice/exp", f"run-{i:02d}", "Run", 2, labels=["even"] if i % 2 == 0 else [])
    client.create("/alice/exp", "data", "Artifact", 2)
    page = client.call("GET", "/apis/v1/nodes", params={"parent": "/alice/exp", "type": "Run", "page": 2, "size": 5})
    assert [n["name"] for n in page["data"]] == [f"run-{i:02d}" for i in range(5, 10)]
    assert page["pagination"] == {"page": 2, "size": 5, "total": 12}
    even = client.call("GET", "/apis/v1/nodes", params={"parent": "/alice/exp", "label": "even", "size": 100})
    assert len(even["data"]) == 6
    empty = client.call("GET", "/apis/v1/nodes", params={"parent": "/alice/exp", "type": "Model"})
    assert empty == {"data": None, "pagination": {"page": 1, "size": 50, "total": 0}}
    with django_assert_max_num_queries(12):  # key, folder path, count, page, grants, paths: any page size
        everything = client.call("GET", "/apis/v1/nodes", params={"parent": "/alice/exp", "size": 1000})
    assert everything["pagination"]["total"] == 13


def test_nodes_are_renamed_relabelled_and_deleted_by_path_or_id(live_server: Any, alice: Any) -> None:
    client = sdk(live_server, alice)
    node_id = client.create("/alice", "old", "Folder", 0)
    client.call(
        "PUT",
        "/apis/v1/nodes",
        json={"node": "/alice/old", "name": "new", "labels": ["x"], "description": "d", "extra": '{"k": 1}'},
    )
    info = client.info(node_id)
    assert (info["path"], info["labels"], info["description"], json.loads(info["extra"])) == (
        "/alice/new",
        ["x"],
        "d",
        {"k": 1},
    )
    client.call("DELETE", "/apis/v1/nodes", json={"node": node_id})
    with pytest.raises(SDKError) as gone:
        client.info("/alice/new")
    assert gone.value.text == "node not found [/alice/new]"
    assert Node.objects.get(pk=node_id).trashed  # into the owner's trash, as EM deletes


def test_the_key_in_the_url_stays_out_of_the_logs(live_server: Any, alice: Any, caplog: Any) -> None:
    client = sdk(live_server, alice)
    caplog.set_level("INFO")
    with pytest.raises(SDKError):
        client.info("/alice/nothing")  # a 404: Django logs it
    assert "Not Found: /t9k/aistore/server/apis/v1/nodes/info" in caplog.text
    assert client.api_key not in caplog.text
