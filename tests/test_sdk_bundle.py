"""The SDK and `em run` without a server: the bundle written on disk is the contract, byte for byte.

Scripts that must start from a clean interpreter (what is imported at finish, what happens at exit)
run as real subprocesses; everything else runs in-process against a temporary working directory.
"""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

import em
from em.client import config
from em.client.sdk import bundle, snapshot
from em.client.sdk.live import columns
from em.client.sdk.wrapper import RunConfig, chosen_env
from em.client.upload import find_bundles, manifest

pytestmark = pytest.mark.usefixtures("workdir")  # bundles land in a fresh working directory

REPO = Path(__file__).resolve().parent.parent
FOLDER_NAME = re.compile(r"^(?P<name>.+)_\d{6}_\d{6}_[a-z0-9]{6}$")
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d"


def only_run(base: Path) -> Path:
    runs = list((base / ".em" / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def script(
    tmp_path: Path, body: str, *, cwd: Path | None = None, name: str = "train.py"
) -> subprocess.CompletedProcess[str]:
    """Run a Python script that uses the SDK, in a fresh interpreter."""
    path = (cwd or tmp_path / "work") / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(  # noqa: S603 (our interpreter, our script)
        [sys.executable, name], cwd=path.parent, env=env, capture_output=True, text=True, timeout=60, check=False
    )


# --- the layout -------------------------------------------------------------------------------------


def test_metric_files_have_the_canonical_byte_layout(workdir):
    with em.create_run(name="mnist") as run:
        run.log("validation", {"loss": 0.25, "accuracy": 0.9}, step=200, epoch=2)
        run.log("val", {"loss": 0.3}, step=250)
    text = (only_run(workdir) / "metrics" / "val.yaml").read_text()
    stamps = re.findall(rf"timestamp: '({ISO})'", text)
    assert len(stamps) == 2
    assert re.sub(ISO, "T", text) == (
        "- value:\n    loss: 0.25\n    accuracy: 0.9\n  sequence:\n    epoch: 2\n    step: 200\n    timestamp: 'T'\n"
        "- value:\n    loss: 0.3\n  sequence:\n    epoch: null\n    step: 250\n    timestamp: 'T'\n"
    )
    points = load(only_run(workdir) / "metrics" / "val.yaml")
    assert text == "".join(yaml.safe_dump([point], sort_keys=False) for point in points)


def test_the_fast_metric_writer_matches_pyyaml_byte_for_byte():
    rng = random.Random(7)
    names = ["loss", "acc", "yes", "null", "15", "1e3", "a b", "x:y", "-dash", "#hash", "ü-unicode", "'q'", "n" * 200]
    values: list[float | int] = [0, -3, 2**70, 0.5, -0.0, 1e-5, 1e20, 1.0, float("nan"), float("inf"), -float("inf")]
    values += [rng.uniform(-1e6, 1e6) for _ in range(50)] + [rng.random() ** 20 for _ in range(20)]
    for epoch in (None, 0, 3):
        for value in values:
            name = rng.choice(names)
            point = bundle.metric_point({name: value, "other": value}, step=12, epoch=epoch, timestamp=bundle.now())
            assert bundle.metric_block(point) == yaml.safe_dump([point], sort_keys=False), point


def test_a_run_writes_every_file_of_the_bundle(workdir):
    run = em.create_run(name="mnist", hparams={"lr": 0.1}, labels=["demo"], description="A first try.")
    assert FOLDER_NAME.match(run.folder.name).group("name") == "mnist"
    assert run.folder.parent == workdir / ".em" / "runs"
    running = load(run.folder / "metadata.yaml")
    assert running["status"] == "Running"
    assert running["endTimestamp"] is None
    run.log("training", {"loss": 1.5}, step=1, epoch=0)
    run.log("testing", {"acc": 0.5}, step=1)
    run.log("eval", {"acc": 0.6}, step=1)
    run.finish()

    metadata = load(run.folder / "metadata.yaml")
    assert list(metadata) == [
        "kind", "name", "labels", "description", "startTimestamp", "endTimestamp", "status",
        "alternativeName", "associations", "remote",
    ]  # fmt: skip
    assert metadata["kind"] == "Run"
    assert metadata["name"] == "mnist"
    assert metadata["labels"] == ["demo"]
    assert metadata["description"] == "A first try."
    assert metadata["status"] == "Complete"
    assert metadata["alternativeName"] == run.folder.name
    assert metadata["associations"] == {"input": [], "output": []}
    assert metadata["remote"] == []
    for key in ("startTimestamp", "endTimestamp"):
        assert re.fullmatch(ISO, metadata[key]), metadata[key]
    assert metadata["startTimestamp"] <= metadata["endTimestamp"]

    assert load(run.folder / "index.yaml") == {
        "hyperparameters": "hyperparameters.yaml",
        "metrics": {"train": "metrics/train.yaml", "test": "metrics/test.yaml", "val": "metrics/val.yaml"},
        "platform": "platform.yaml",
        "log": "stdout.log",
    }
    assert sorted(p.name for p in (run.folder / "metrics").iterdir()) == ["test.yaml", "train.yaml", "val.yaml"]
    platform = load(run.folder / "platform.yaml")
    assert set(platform) == {"hostname", "os", "python", "pypkgs", "framework"}
    assert platform["python"] == ".".join(map(str, sys.version_info[:3]))
    assert platform["pypkgs"]["PyYAML"] == yaml.__version__
    assert (run.folder / "stdout.log").exists()
    assert not list(run.folder.rglob("*.tmp"))


def test_a_run_without_metrics_has_an_empty_metrics_index(workdir):
    with em.create_run(name="quiet") as run:
        pass
    assert load(run.folder / "index.yaml")["metrics"] == {}


def test_bad_metrics_are_refused_with_a_clear_error(workdir):
    with em.create_run(name="strict") as run:
        with pytest.raises(ValueError, match="not a number"):
            run.log("train", {"loss": "low"}, step=1)
        with pytest.raises(ValueError, match="step must be an integer"):
            run.log("train", {"loss": 1.0}, step=1.5)
        with pytest.raises(ValueError, match="metric name"):
            run.log("train", {"a.b": 1.0}, step=1)
        with pytest.raises(ValueError, match="metric type"):
            run.log("tr/ain", {"loss": 1.0}, step=1)
        run.log("train", {"loss": float("nan"), "count": 3}, step=2)
    with pytest.raises(RuntimeError, match="finished"):
        run.log("train", {"loss": 1.0}, step=3)
    (point,) = load(run.folder / "metrics" / "train.yaml")
    assert point["value"]["count"] == 3
    assert point["value"]["loss"] != point["value"]["loss"]  # NaN survives the round trip


def test_hyperparameters_record_every_kind_of_change(workdir):
    run = em.create_run(name="hp", hparams={"lr": 0.1, "optimizer": {"name": "adam"}})
    hp_file = run.folder / "hyperparameters.yaml"
    assert load(hp_file) == {"lr": 0.1, "optimizer": {"name": "adam"}}
    run.hparams["batch_size"] = 32
    assert load(hp_file)["batch_size"] == 32
    run.hparams.epochs = 10
    run.hparams.optimizer.beta1 = 0.9
    run.hparams["optimizer"]["eps"] = 1e-8
    run.hparams.update({"layers": [64, 32], "dropout": 0.5})
    del run.hparams.dropout
    assert load(hp_file) == {
        "lr": 0.1,
        "optimizer": {"name": "adam", "beta1": 0.9, "eps": 1e-8},
        "batch_size": 32,
        "epochs": 10,
        "layers": [64, 32],
    }
    assert run.hparams.optimizer == {"name": "adam", "beta1": 0.9, "eps": 1e-8}
    with pytest.raises(AttributeError, match="No hyper-parameter 'missing'"):
        _ = run.hparams.missing
    run.hparams["layers"].append(16)  # in-place changes are caught at finish
    run.hparams = {"fresh": True}
    run.finish()
    assert load(hp_file) == {"fresh": True}


def test_the_context_manager_marks_errors_and_keeps_the_traceback(workdir):
    runs: list[em.Run] = []

    def fail(name: str, error: BaseException) -> None:
        with em.create_run(name=name) as run:
            runs.append(run)
            print("before the error")
            raise error

    with pytest.raises(ZeroDivisionError):
        fail("boom", ZeroDivisionError("division by zero"))
    run = runs[0]
    assert load(run.folder / "metadata.yaml")["status"] == "Error"
    log = (run.folder / "stdout.log").read_text()
    assert "before the error" in log
    assert "ZeroDivisionError: division by zero" in log

    with pytest.raises(KeyboardInterrupt):
        fail("stopped", KeyboardInterrupt())
    assert load(runs[1].folder / "metadata.yaml")["status"] == "Killed"


def test_stdout_and_stderr_are_captured_then_restored(workdir, capsys):
    before_out, before_err = sys.stdout, sys.stderr
    run = em.create_run(name="console")
    print("to stdout")
    print("to stderr", file=sys.stderr)
    sys.stdout.write("partial ")
    sys.stdout.write("line\n")
    run.finish()
    assert sys.stdout is before_out
    assert sys.stderr is before_err
    print("after finish")
    assert (run.folder / "stdout.log").read_text() == "to stdout\nto stderr\npartial line\n"
    seen = capsys.readouterr()
    assert seen.out == "to stdout\npartial line\nafter finish\n"
    assert seen.err == "to stderr\n"


def test_platform_lists_packages_imported_by_the_time_the_run_finishes(tmp_path):
    done = script(
        tmp_path,
        """
        import shutil, sys
        import em
        run = em.create_run(name="late-imports")
        shutil.copy(run.folder / "platform.yaml", "platform-at-start.yaml")
        import sqlparse
        run.finish()
        print(run.folder)
        """,
    )
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert "sqlparse" not in load(tmp_path / "work" / "platform-at-start.yaml")["pypkgs"]
    assert "sqlparse" in load(folder / "platform.yaml")["pypkgs"]


def test_a_script_that_never_finishes_its_run_is_closed_at_exit(tmp_path):
    done = script(
        tmp_path,
        """
        import em
        run = em.create_run(name="forgotten")
        print(run.folder, flush=True)
        raise RuntimeError("crashed")
        """,
    )
    assert done.returncode == 1
    folder = Path(done.stdout.strip())
    metadata = load(folder / "metadata.yaml")
    assert metadata["status"] == "Error"
    assert metadata["endTimestamp"] is not None
    assert "RuntimeError: crashed" in (folder / "stdout.log").read_text()

    done = script(tmp_path, "import em\nrun = em.create_run(name='fine')\nprint(run.folder)\n")
    assert done.returncode == 0, done.stderr
    assert load(Path(done.stdout.strip()) / "metadata.yaml")["status"] == "Complete"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)  # noqa: S603, S607


def test_git_info_of_a_repository(tmp_path):
    repo = tmp_path / "work" / "project"
    (repo / "src").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "a@example.com")
    git(repo, "config", "user.name", "A")
    git(repo, "remote", "add", "origin", "https://alice:s3cret@git.example.com/alice/project.git")
    (repo / "README").write_text("hi\n")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "first")
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"],  # noqa: S607 (git from PATH, as the SDK finds it)
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    done = script(
        tmp_path, "import em\nrun = em.create_run(name='g')\nrun.finish()\nprint(run.folder)\n", cwd=repo / "src"
    )
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    info = load(folder / "git.yaml")
    assert info == {
        "repo_path": str(repo.resolve()),
        "remote_url": "https://git.example.com/alice/project.git",
        "branch": "main",
        "commit": commit,
        "is_dirty": False,
        "entrypoint": "src/train.py",
    }
    assert load(folder / "index.yaml")["git"] == "git.yaml"

    (repo / "README").write_text("changed\n")
    done = script(
        tmp_path, "import em\nrun = em.create_run(name='g')\nrun.finish()\nprint(run.folder)\n", cwd=repo / "src"
    )
    assert load(Path(done.stdout.strip()) / "git.yaml")["is_dirty"] is True


def test_outside_a_repository_there_is_no_git_file(workdir):
    with em.create_run(name="nogit") as run:
        pass
    assert not (run.folder / "git.yaml").exists()
    assert "git" not in load(run.folder / "index.yaml")


# --- artifacts and associations ---------------------------------------------------------------------


def test_artifacts_and_associations(workdir):
    (workdir / "weights.bin").write_bytes(b"\0" * 10)
    (workdir / "data" / "sub").mkdir(parents=True)
    (workdir / "data" / "sub" / "a.csv").write_text("x\n1\n")
    artifact = em.create_artifact("mnist-data", labels=["data"], description="Digits.")
    assert FOLDER_NAME.match(artifact.folder.name)
    assert artifact.folder.parent == workdir / ".em" / "artifacts"
    assert artifact.add_file(workdir / "weights.bin") == "weights.bin"
    assert artifact.add_file(workdir / "weights.bin", "ckpt/best.bin") == "ckpt/best.bin"
    assert artifact.add_dir(workdir / "data") == "data"
    artifact.add_reference("s3://bucket/raw.tar", "raw.tar")
    for bad in ("../escape", "/etc/passwd", "metadata.yaml"):
        with pytest.raises(ValueError, match=r"inside the artifact|reserved"):
            artifact.add_file(workdir / "weights.bin", bad)
    metadata = load(artifact.folder / "metadata.yaml")
    assert list(metadata) == ["kind", "name", "labels", "description", "createdTimestamp", "alternativeName", "remote"]
    assert metadata["kind"] == "Artifact"
    assert metadata["alternativeName"] == artifact.folder.name
    assert load(artifact.folder / "references.yaml") == {"raw.tar": "s3://bucket/raw.tar"}
    assert (artifact.folder / "data" / "sub" / "a.csv").read_text() == "x\n1\n"

    with em.create_run(name="train") as run:
        run.mark_input(artifact)
        run.mark_input(artifact)  # once is enough
        run.mark_input("/alice/t9k-assethub/dataset/mnist:v1")
        run.mark_output("/alice/models/cnn")
        with pytest.raises(TypeError, match="node path"):
            run.mark_output(42)
    associations = load(run.folder / "metadata.yaml")["associations"]
    (entry,) = [e for e in associations["input"] if e.get("kind") == "Artifact"]
    assert entry["name"] == "mnist-data"
    assert (run.folder / entry["localDir"]).resolve() == artifact.folder.resolve()
    assert {"path": "/alice/t9k-assethub/dataset/mnist:v1"} in associations["input"]
    assert associations["output"] == [{"path": "/alice/models/cnn"}]


def test_bundles_are_found_one_by_one_or_by_parent(workdir):
    with em.create_run(name="a") as first, em.create_run(name="b") as second:
        pass
    assert find_bundles([first.folder]) == [first.folder]
    assert find_bundles([workdir / ".em" / "runs"]) == sorted([first.folder, second.folder])
    with pytest.raises(ValueError, match="holds no bundle"):
        find_bundles([workdir])
    files, sources = manifest(first.folder)
    assert {f["path"] for f in files} >= {"metadata.yaml", "index.yaml", "hyperparameters.yaml", "stdout.log"}
    assert all(len(f["sha256"]) == 64 and f["size"] >= 0 for f in files)
    assert set(sources) == {f["sha256"] for f in files}


# --- live mode without a server ---------------------------------------------------------------------


def test_live_mode_without_a_reachable_server_still_writes_the_bundle(workdir, monkeypatch, capfd):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(config.HOST_ENV, f"http://127.0.0.1:{port}")
    monkeypatch.setenv(config.API_KEY_ENV, "em_nothing")
    with em.create_run(name="offline", live=True) as run:
        assert run.live is None
        run.log("train", {"loss": 1.0}, step=1)
    assert "live mode is off" in capfd.readouterr().err
    assert load(run.folder / "metadata.yaml")["status"] == "Complete"
    assert len(load(run.folder / "metrics" / "train.yaml")) == 1


def test_live_batches_are_columnar_per_key():
    body = columns([("train", {"loss": 1.0, "acc": 0.5}, 1, 0, 10.0), ("train", {"loss": 0.5}, 2, None, 11.0)])
    assert body == {
        "train.loss": {"step": [1, 2], "epoch": [0, None], "timestamp": [10.0, 11.0], "value": [1.0, 0.5]},
        "train.acc": {"step": [1], "epoch": [0], "timestamp": [10.0], "value": [0.5]},
    }


# --- em run -----------------------------------------------------------------------------------------


def test_em_run_records_a_successful_command(workdir, em_cli, monkeypatch):
    (workdir / "train.py").write_text("import sys\nprint('epoch 1')\nprint('warn', file=sys.stderr)\n")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setenv("EM_SECRET_TOKEN", "hide-me")
    result = em_cli("run", "--name", "wrapped", "--", sys.executable, "train.py", "--lr", "0.1")
    assert result.exit_code == 0, result.output
    assert "epoch 1" in result.stdout
    assert "warn" in result.stderr
    assert "not uploaded: not signed in" in result.stderr
    folder = only_run(workdir)
    assert f"em upload {os.path.relpath(folder)}" in result.stderr
    metadata = load(folder / "metadata.yaml")
    assert metadata["status"] == "Complete"
    assert metadata["name"] == "wrapped"
    assert metadata["command"] == f"{sys.executable} train.py --lr 0.1"
    assert metadata["exitCode"] == 0
    log = (folder / "stdout.log").read_text()
    assert "epoch 1\n" in log and "warn\n" in log
    saved = load(folder / "em-run.yaml")
    assert saved["command"] == [sys.executable, "train.py", "--lr", "0.1"]
    assert saved["env"]["CUDA_VISIBLE_DEVICES"] == "0"
    assert "EM_SECRET_TOKEN" not in saved["env"]
    assert (folder / "code.tar.gz").exists()


def test_em_run_a_failing_command_is_an_error_with_its_exit_code(workdir, em_cli):
    result = em_cli("run", "--", sys.executable, "-c", "import sys; print('bad'); sys.exit(3)")
    assert result.exit_code == 3
    metadata = load(only_run(workdir) / "metadata.yaml")
    assert (metadata["status"], metadata["exitCode"]) == ("Error", 3)


def test_em_run_a_missing_program(workdir, em_cli):
    result = em_cli("run", "--name", "nope", "--", "no-such-program-anywhere")
    assert result.exit_code == 127
    folder = only_run(workdir)
    assert load(folder / "metadata.yaml")["status"] == "Error"
    assert "cannot start no-such-program-anywhere" in (folder / "stdout.log").read_text()


def test_em_run_stops_a_command_past_its_max_duration(workdir, em_cli):
    started = time.monotonic()
    code = "import time\nprint('started', flush=True)\ntime.sleep(60)\n"
    result = em_cli("run", "--max-duration", "1", "--", sys.executable, "-c", code)
    assert time.monotonic() - started < 20
    assert result.exit_code == 124
    folder = only_run(workdir)
    metadata = load(folder / "metadata.yaml")
    assert metadata["status"] == "Killed"
    assert metadata["endTimestamp"] is not None
    log = (folder / "stdout.log").read_text()
    assert "started" in log
    assert "maximum duration of 1 s" in log


def test_em_run_snapshot_honours_emignore_then_gitignore(workdir, em_cli):
    (workdir / "train.py").write_text("print('x')\n")
    (workdir / "lib").mkdir()
    (workdir / "lib" / "model.py").write_text("")
    (workdir / "data").mkdir()
    (workdir / "data" / "big.bin").write_bytes(b"x" * 100)
    (workdir / "notes.log").write_text("")
    (workdir / ".git").mkdir()
    (workdir / ".git" / "HEAD").write_text("ref\n")
    (workdir / ".gitignore").write_text("*.log\n")
    (workdir / ".emignore").write_text("data/\n")
    assert em_cli("run", "--name", "a", "--", sys.executable, "train.py").exit_code == 0
    with tarfile.open(only_run(workdir) / "code.tar.gz") as tar:
        names = sorted(tar.getnames())
    assert names == [".emignore", ".gitignore", "lib/model.py", "notes.log", "train.py"]

    (workdir / ".emignore").unlink()
    for old in (workdir / ".em" / "runs").iterdir():
        old.rename(workdir / old.name)  # keep one bundle in .em/runs for only_run
    assert em_cli("run", "--name", "b", "--", sys.executable, "train.py").exit_code == 0
    with tarfile.open(only_run(workdir) / "code.tar.gz") as tar:
        names = sorted(tar.getnames())
    assert "notes.log" not in names
    assert "data/big.bin" in names
    assert not any(name.startswith((".em/", ".git/")) for name in names)


def test_em_run_refuses_a_snapshot_over_the_limit_before_running(workdir, em_cli):
    with (workdir / "dataset.bin").open("wb") as big:
        big.truncate(snapshot.MAX_BYTES + 1)  # sparse: no 50 MB written
    result = em_cli("run", "--", sys.executable, "-c", "open('ran', 'w')")
    assert result.exit_code == 2
    assert "over the 50.0 MB limit" in result.stderr
    assert "dataset.bin (50.0 MB)" in result.stderr
    assert ".emignore" in result.stderr
    assert not (workdir / "ran").exists()
    assert not (workdir / ".em" / "runs").exists()
    assert em_cli("run", "--no-snapshot", "--", sys.executable, "-c", "open('ran', 'w')").exit_code == 0
    assert (workdir / "ran").exists()


def test_em_run_config_round_trip(workdir, em_cli, monkeypatch):
    (workdir / "train.py").write_text("import os\nprint('seed', os.environ.get('EM_SEED'))\n")
    monkeypatch.setenv("EM_SEED", "7")
    first = em_cli("run", "--name", "cfg", "--max-duration", "30", "--", sys.executable, "train.py")
    assert first.exit_code == 0, first.output
    saved_path = only_run(workdir) / "em-run.yaml"
    saved = RunConfig.load(saved_path)
    assert (saved.name, saved.max_duration, saved.env["EM_SEED"]) == ("cfg", 30, "7")
    config_copy = workdir / "again.yaml"
    config_copy.write_text(saved_path.read_text())
    for old in (workdir / ".em" / "runs").iterdir():
        old.rename(workdir / old.name)

    monkeypatch.delenv("EM_SEED")
    second = em_cli("run", "--config", str(config_copy))
    assert second.exit_code == 0, second.output
    assert "seed 7" in second.stdout  # the saved environment is applied again
    folder = only_run(workdir)
    assert load(folder / "metadata.yaml")["name"] == "cfg"
    assert RunConfig.load(folder / "em-run.yaml") == saved

    (workdir / "broken.yaml").write_text("command: python\nsurprise: 1\n")
    result = em_cli("run", "--config", str(workdir / "broken.yaml"))
    assert result.exit_code == 2
    assert "unknown field(s) surprise" in result.stderr
    assert em_cli("run").exit_code == 2


def test_chosen_env_drops_secrets():
    env = {
        "CUDA_HOME": "/cuda",
        "EM_API_KEY": "k",
        "EM_HOST": "h",
        "HOME": "/root",
        "HF_TOKEN": "t",
        "OMP_NUM_THREADS": "2",
    }
    assert chosen_env(env) == {"CUDA_HOME": "/cuda", "EM_HOST": "h", "OMP_NUM_THREADS": "2"}


def test_snapshot_extraction_refuses_unsafe_archives(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "payload"
    payload.write_text("x")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="ok.txt")
        tar.add(payload, arcname="../escape.txt")
    with pytest.raises(snapshot.SnapshotError, match=re.escape("unsafe entry '../escape.txt'")):
        snapshot.extract(evil, tmp_path / "out")
    assert not (tmp_path / "out" / "ok.txt").exists()
    assert not (tmp_path / "escape.txt").exists()


def test_folder_names_and_stages():
    assert FOLDER_NAME.match(bundle.folder_name("my run"))
    assert bundle.folder_name("a/b").startswith("a_b_")
    assert [bundle.normalise_stage(s) for s in ("Training", "validation", "eval", "testing", "custom")] == [
        "train", "val", "val", "test", "custom",
    ]  # fmt: skip


def test_the_sdk_imports_neither_django_nor_numpy():
    code = (
        "import sys, em; em.create_run; import em.client.cli; "
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'rest_framework', 'numpy'}); "
        "assert not leaked, leaked"
    )
    done = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
