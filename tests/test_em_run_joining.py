"""`em run -- python train.py` where train.py calls `em.create_run`: one run holding both records.

The command is a real child process running the real SDK; the wrapper runs in process through the CLI.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from em.client.sdk import joining
from em.models import Kind, MetricSeries, Node, Run, RunStatus

SCRIPT = """
import sys
import em

run = em.create_run(name="inner", hparams={"lr": 0.1, "model": {"layers": 2}}, labels=["sdk"], **OPTIONS)
with run:
    for step in range(1, 6):
        run.log("train", {"loss": 1.0 / step}, step=step, epoch=1)
    run.log("val", {"acc": 0.9}, step=5, epoch=1)
    print("trained", flush=True)
    if "--fail" in sys.argv:
        raise RuntimeError("boom")
UPLOAD
"""


def script(workdir: Path, options: str = "{}", upload: str = "") -> None:
    text = SCRIPT.replace("**OPTIONS", f"**{options}").replace("UPLOAD", upload)
    (workdir / "train.py").write_text(textwrap.dedent(text))


def bundles(workdir: Path) -> list[Path]:
    return sorted((workdir / ".em" / "runs").iterdir())


def read(folder: Path, name: str) -> Any:
    return yaml.safe_load((folder / name).read_text())


def test_the_script_run_joins_the_wrapper_run(em_cli: Any, workdir: Path) -> None:
    script(workdir)
    result = em_cli("run", "--", sys.executable, "train.py")
    assert result.exit_code == 0, result.output
    [only] = bundles(workdir)  # one bundle, not two
    metadata = read(only, "metadata.yaml")
    assert metadata["name"] == "inner"  # the script named it; em run had no --name
    assert metadata["status"] == "Complete" and metadata["endTimestamp"] and metadata["exitCode"] == 0
    assert metadata["labels"] == ["sdk"]
    assert metadata["command"].endswith("train.py")
    assert read(only, "hyperparameters.yaml") == {"lr": 0.1, "model": {"layers": 2}}
    index = read(only, "index.yaml")
    assert index["metrics"] == {"train": "metrics/train.yaml", "val": "metrics/val.yaml"}
    assert index["log"] == "stdout.log" and index["platform"] == "platform.yaml"
    assert len(read(only, "metrics/train.yaml")) == 5
    assert (only / "stdout.log").read_text().count("trained") == 1  # captured once, by the wrapper
    assert (only / "em-run.yaml").is_file() and (only / "code.tar.gz").is_file()
    assert joining.BUNDLE_ENV not in read(only, "em-run.yaml")["env"]


def test_a_name_given_to_em_run_wins_and_a_failing_script_ends_the_run_error(em_cli: Any, workdir: Path) -> None:
    script(workdir)
    result = em_cli("run", "--name", "outer", "--", sys.executable, "train.py", "--fail")
    assert result.exit_code == 1
    [only] = bundles(workdir)
    metadata = read(only, "metadata.yaml")
    assert metadata["name"] == "outer" and metadata["status"] == "Error" and metadata["exitCode"] == 1
    log = (only / "stdout.log").read_text()
    assert log.count("RuntimeError: boom") == 1  # the traceback once, from stderr
    assert len(read(only, "metrics/val.yaml")) == 1


def test_only_the_first_run_of_the_script_joins(em_cli: Any, workdir: Path) -> None:
    script(workdir, upload='with em.create_run(name="second") as other:\n    other.log("train", {"loss": 1}, step=1)')
    assert em_cli("run", "--", sys.executable, "train.py").exit_code == 0
    names = sorted(read(folder, "metadata.yaml")["name"] for folder in bundles(workdir))
    assert names == ["inner", "second"]


def test_the_sdk_alone_is_unchanged(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import em

    monkeypatch.delenv(joining.BUNDLE_ENV, raising=False)
    with em.create_run(name="plain") as run:
        run.log("train", {"loss": 0.5}, step=1)
    assert read(run.folder, "metadata.yaml")["status"] == "Complete"


@pytest.mark.django_db(transaction=True)
def test_em_run_uploads_one_run_where_the_script_asked(signed_in: Any, alice: Any, em_cli: Any, workdir: Path) -> None:
    script(workdir, options='{"folder": "jobs", "make_folder": True}', upload="run.upload()")
    result = em_cli("run", "--", sys.executable, "train.py")
    assert result.exit_code == 0, result.output
    assert "em run uploads this run when the command ends." in result.stderr
    assert "-> /alice/jobs/inner" in result.stdout
    [node] = Node.objects.filter(kind=Kind.RUN)
    run = Run.objects.get(node=node)
    assert run.status == RunStatus.COMPLETE
    assert set(MetricSeries.objects.filter(run=run).values_list("key", flat=True)) == {"train.loss", "val.acc"}
    assert run.params.get(key="model.layers").value == "2"
