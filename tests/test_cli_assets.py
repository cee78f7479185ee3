"""`em files` and `em asset` end to end against a live server, with a real API key, as a person types them.

Artifacts are written by the real SDK (files and references) and sent by `em upload`; models go through the
Asset Hub's stage → send → commit with the CLI's one uploader. What lands on disk is compared byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result

import em
from em.models import Kind, Node
from tests.run_helpers import attach_files

live = pytest.mark.django_db(transaction=True)
pytestmark = pytest.mark.usefixtures("workdir")
MODEL = "t9k-assethub/model/cv/resnet"


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


@live
def test_files_of_an_artifact_list_download_and_show_references_apart(signed_in, alice, em_cli, workdir):
    data = em.create_artifact("digits")
    Path("train.csv").write_text("x,y\n1,2\n")
    Path("more").mkdir()
    Path("more/test.csv").write_text("x,y\n3,4\n")
    data.add_file("train.csv")
    data.add_dir("more")
    data.add_reference("s3://bucket/raw/big.parquet", "raw/big.parquet")
    ok(em_cli("upload", str(data.folder), "-f", "arts", "-m"))

    listing = ok(em_cli("files", "ls", "arts/digits")).stdout
    assert "train.csv" in listing and "more/test.csv" in listing
    files_part, _, refs_part = listing.partition("external references")
    assert "raw/big.parquet" not in files_part  # a reference is not a file
    assert "raw/big.parquet" in refs_part and "s3://bucket/raw/big.parquet" in refs_part

    ok(em_cli("files", "download", "/alice/arts/digits", "-d", "all"))
    assert (workdir / "all" / "train.csv").read_text() == "x,y\n1,2\n"
    assert (workdir / "all" / "more" / "test.csv").read_text() == "x,y\n3,4\n"
    assert not (workdir / "all" / "raw").exists()

    node = Node.objects.get(kind=Kind.ARTIFACT, name="digits", deleted_at__isnull=True)
    one = ok(em_cli("files", "download", str(node.pk), "more", "-d", "some"))
    assert "Downloaded 1 file(s)" in one.stdout
    assert sorted(p.name for p in (workdir / "some").rglob("*") if p.is_file()) == ["test.csv"]
    missing = em_cli("files", "download", str(node.pk), "nope.txt")
    assert missing.exit_code == 1 and "no file or folder 'nope.txt'" in missing.stderr


@live
def test_the_asset_workflow_from_the_command_line(signed_in, alice, em_cli, workdir):
    weights = workdir / "weights"
    (weights / "layers").mkdir(parents=True)
    (weights / "model.bin").write_bytes(b"\x01" * 1000)
    (weights / "layers" / "a.txt").write_text("a")
    (workdir / "README.md").write_text("resnet\n")

    made = ok(em_cli("asset", "create", "model", "cv/resnet"))
    assert "/alice/t9k-assethub/model/cv/resnet" in made.stdout
    first = ok(em_cli("asset", "commit", MODEL, "-a", "weights:.", "-a", "README.md:docs/README.md", "-m", "first"))
    assert "3 file(s)" in first.stdout
    ok(em_cli("asset", "tag", MODEL, "v1"))

    again = ok(em_cli("asset", "commit", MODEL, "-a", "weights:copy", "-m", "same bytes"))
    assert "0 B sent" in again.stdout  # the server has every blob already: dedup by digest
    (weights / "model.bin").write_bytes(b"\x02" * 1200)
    ok(em_cli("asset", "commit", MODEL, "-a", "weights/model.bin:model.bin", "-d", "copy", "-m", "retrain"))

    diff = ok(em_cli("asset", "diff", f"{MODEL}:v1", f"{MODEL}:main")).stdout
    assert "0 added, 1 changed, 0 removed" in diff
    assert "~ model.bin (1,000 -> 1,200 bytes)" in diff
    log = ok(em_cli("asset", "log", MODEL)).stdout
    assert log.index("retrain") < log.index("same bytes") < log.index("first")
    assert "v1" in log

    ok(em_cli("asset", "branch", MODEL, "dev"))
    (workdir / "extra.txt").write_text("dev work")
    ok(em_cli("asset", "commit", MODEL, "-b", "dev", "-a", "extra.txt", "-m", "on dev"))
    merged = ok(em_cli("asset", "merge", MODEL, "dev"))
    assert merged.stdout.startswith("fast_forward")
    refs = ok(em_cli("asset", "ls", MODEL)).stdout
    assert "dev" in refs and "v1" in refs
    listed = ok(em_cli("asset", "ls")).stdout
    assert "/alice/t9k-assethub/model/cv/resnet" in listed

    ok(em_cli("asset", "download", f"/alice/{MODEL}:v1", "-o", "model.bin", "-o", "docs", "-d", "v1"))
    assert (workdir / "v1" / "model.bin").read_bytes() == b"\x01" * 1000
    assert (workdir / "v1" / "docs" / "README.md").read_text() == "resnet\n"
    assert not (workdir / "v1" / "layers").exists()
    ok(em_cli("asset", "download", MODEL, "-d", "head"))
    assert (workdir / "head" / "model.bin").read_bytes() == b"\x02" * 1200
    assert (workdir / "head" / "extra.txt").read_text() == "dev work"
    assert sorted(p.relative_to(workdir / "head").as_posix() for p in (workdir / "head").rglob("*") if p.is_file()) == [
        "docs/README.md",
        "extra.txt",
        "layers/a.txt",
        "model.bin",
    ]
    files_ls = ok(em_cli("files", "ls", f"{MODEL}:v1")).stdout
    assert "model.bin" in files_ls and "extra.txt" not in files_ls


@live
def test_asset_commands_refuse_clearly(signed_in, alice, em_cli, workdir):
    ok(em_cli("asset", "create", "dataset", "mnist"))
    nothing = em_cli("asset", "commit", "t9k-assethub/dataset/mnist", "-m", "empty")
    assert nothing.exit_code == 2 and "Nothing to commit" in nothing.output
    (workdir / "a.txt").write_text("a")
    ok(em_cli("asset", "commit", "t9k-assethub/dataset/mnist", "-a", "a.txt"))
    ok(em_cli("asset", "tag", "t9k-assethub/dataset/mnist", "v1"))
    taken = em_cli("asset", "tag", "t9k-assethub/dataset/mnist", "v1")
    assert taken.exit_code == 1 and taken.stderr.startswith("Error: ")
    branch = em_cli("asset", "branch", "t9k-assethub/dataset/mnist", "dev")
    assert branch.exit_code == 1
    nowhere = em_cli("asset", "log", "t9k-assethub/dataset/nope")
    assert nowhere.exit_code == 1 and "Traceback" not in nowhere.output


@pytest.mark.django_db
def test_references_endpoint_reads_references_yaml_and_reports_a_bad_one(alice, api, private_storage):
    from tests.factories import folder, root

    good = folder(root(alice), "good", kind=Kind.ARTIFACT)
    attach_files(good, {"a.txt": b"a", "references.yaml": b"b/x.bin: s3://bucket/x\na/y.bin: https://h/y\n"})
    answer = api(alice).get(f"/api/v1/nodes/{good.pk}/references")
    assert answer.status_code == 200
    assert answer.json() == {
        "references": [{"path": "a/y.bin", "uri": "https://h/y"}, {"path": "b/x.bin", "uri": "s3://bucket/x"}],
        "problem": None,
    }
    bad = folder(root(alice), "bad", kind=Kind.ARTIFACT)
    attach_files(bad, {"references.yaml": b"a: &x [1]\nb: *x\n"})
    answer = api(alice).get(f"/api/v1/nodes/{bad.pk}/references")
    assert answer.status_code == 200
    assert answer.json()["references"] == []
    assert "anchors and aliases" in answer.json()["problem"]
    plain = folder(root(alice), "plain", kind=Kind.ARTIFACT)
    assert api(alice).get(f"/api/v1/nodes/{plain.pk}/references").json() == {"references": [], "problem": None}


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a/../../b", "C:\\x", ""])
def test_a_server_path_that_would_leave_the_folder_is_refused(tmp_path: Path, path: str) -> None:
    from em.client.download import local_target
    from em.client.errors import ClientError

    with pytest.raises(ClientError, match="Refusing to write"):
        local_target(tmp_path, path)
    assert local_target(tmp_path, "a/b.txt") == tmp_path / "a" / "b.txt"
