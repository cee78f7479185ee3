"""`em run -- python train.py` with `em.create_run(...)` inside train.py: one run, not two.

`em run` makes the bundle before it starts the command and names it in the command's environment
(`EM_RUN_BUNDLE`). The first `create_run` in that process *claims* it: instead of a second bundle it
writes into the wrapper's (hyper-parameters, metrics, labels, lineage, the platform as the script saw
it) and leaves the rest to the wrapper, which owns the console log, the exit status, the end time and
the upload. The claim removes the variable, so later runs of the same script, and the processes it
starts, record runs of their own as usual. When the command ends the wrapper reads back what the
script wrote before it closes the bundle (`Run.adopt_joined`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from em.client.sdk import bundle

BUNDLE_ENV = "EM_RUN_BUNDLE"  # the folder of the bundle `em run` made for its command
NAMED_ENV = "EM_RUN_NAMED"  # "1" when `em run --name` was given: the script's name does not replace it
WRAPPER_ENV = (BUNDLE_ENV, NAMED_ENV)  # never recorded among a run's environment variables
CONFIG_FILE = "em-run.yaml"


def environment(folder: Path, *, named: bool) -> dict[str, str]:
    """The variables `em run` adds to its command's environment."""
    return {BUNDLE_ENV: str(folder.resolve()), NAMED_ENV: "1" if named else ""}


def claim() -> tuple[Path, bool] | None:
    """The wrapper's bundle folder and whether its name was given, once per process; None when there
    is none to join (not under `em run`, already claimed, or the folder is not a running bundle)."""
    value = os.environ.pop(BUNDLE_ENV, None)
    named = os.environ.pop(NAMED_ENV, "") == "1"
    if not value:
        return None
    folder = Path(value)
    if read_mapping(folder / bundle.METADATA).get("status") != bundle.RUNNING:
        return None
    return folder, named


def read_mapping(path: Path) -> dict[str, Any]:
    """A YAML mapping from the bundle, or {} when the file is missing or holds something else."""
    try:
        data = bundle.read_yaml(path)
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def hand_destination(folder: Path, destination: str | None, make_folder: bool) -> None:
    """Let the wrapper upload where the script asked (`create_run(folder=...)`) unless `em run -f` said."""
    if destination is None:
        return
    config_path = folder / CONFIG_FILE
    config = read_mapping(config_path)
    if config and config.get("folder") is None:
        config.update(folder=destination, make_folder=bool(config.get("make_folder")) or make_folder)
        bundle.write_yaml(config_path, config)
