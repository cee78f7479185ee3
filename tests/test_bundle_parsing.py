"""Reading bundles without a database: the canonical fast path and the general loader agree exactly."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
import yaml

from em.runs.bundle import BundleError, load_bundle
from em.runs.metricfile import MetricFileError, _scan_canonical, parse_metric_file
from em.runs.metrics import NO_EPOCH, Points
from em.runs.timestamps import parse_timestamp, parse_timestamps
from tests.bundle_helpers import EXAMPLE_VAL, example_bundle


def both(data: bytes) -> dict[str, Points]:
    """The points by the fast path and by the general loader, asserted bit-identical."""
    fast = parse_metric_file(data)
    general = parse_metric_file(data, allow_fast=False)
    assert list(fast) == list(general)
    for name in fast:
        for field in ("steps", "epochs", "timestamps", "values"):
            assert getattr(fast[name], field).tobytes() == getattr(general[name], field).tobytes(), (name, field)
    return fast


def sdk_file(count: int, names: tuple[str, ...] = ("loss", "accuracy"), *, sort_keys: bool = False) -> bytes:
    rng = np.random.default_rng(count)
    entries = [
        {
            "value": {name: float(rng.normal()) * 10 ** int(rng.integers(-12, 12)) for name in names},
            "sequence": {
                "epoch": None if i % 7 == 0 else i // 10,
                "step": i * 5 - 20,
                "timestamp": datetime.fromtimestamp(1.77e9 + i * 1.000137 + (i % 3) * 1e-6, UTC).isoformat(),
            },
        }
        for i in range(count)
    ]
    return yaml.safe_dump(entries, sort_keys=sort_keys).encode()


def test_the_architecture_example_reads_the_same_both_ways() -> None:
    assert _scan_canonical(EXAMPLE_VAL.encode()) is not None
    parsed = both(EXAMPLE_VAL.encode())
    assert list(parsed) == ["loss", "accuracy"]
    loss = parsed["loss"]
    assert loss.steps.tolist() == [200, 250] and loss.epochs.tolist() == [2, NO_EPOCH]
    assert loss.values.tolist() == [0.25, 0.3]
    assert loss.timestamps.tolist() == [
        datetime(2026, 3, 1, 2, 15, 19, 8778, tzinfo=UTC).timestamp(),
        datetime(2026, 3, 1, 2, 15, 20, 112001, tzinfo=UTC).timestamp(),
    ]
    assert parsed["accuracy"].steps.tolist() == [200]


@pytest.mark.parametrize("sort_keys", [False, True])
def test_sdk_output_takes_the_fast_path_and_matches_the_loader(sort_keys: bool) -> None:
    data = sdk_file(3000, ("loss", "accuracy", "top 1", "lr/group_0"), sort_keys=sort_keys)
    assert _scan_canonical(data) is not None
    parsed = both(data)
    assert sorted(parsed) == sorted(["loss", "accuracy", "top 1", "lr/group_0"])
    assert len(parsed["loss"]) == 3000


@pytest.mark.parametrize(
    "text",
    [
        "- value:\n    a: 1\n    a: 2\n"
        "  sequence:\n    epoch: 1\n    step: 1\n    timestamp: '2026-03-01T10:15:19+08:00'\n",
        "# a comment\n" + EXAMPLE_VAL,
        "- value: {loss: 0.25}\n  sequence: {epoch: 2, step: 200, timestamp: '2026-03-01T10:15:19.008778+08:00'}\n",
        "- value:\n    loss: 1.0e+3\n    x: -0\n    y: -0.0\n    z: 12345678901234567890123\n"
        "  sequence:\n    epoch: -3\n    step: 0\n    timestamp: '2026-03-01 10:15:19.008778'\n",
    ],
)
def test_other_layouts_fall_back_and_give_what_yaml_means(text: str) -> None:
    parsed = both(text.encode())
    document = yaml.safe_load(text)
    names = [name for point in document for name in point["value"]]
    assert sorted(str(n) for n in parsed) == sorted({str(n) for n in names})


def test_negative_zero_integers_and_large_integers_match_yaml() -> None:
    text = (
        "- value:\n    x: -0\n    y: -0.0\n    z: 123456789012345678901\n"
        "  sequence:\n    epoch: null\n    step: 3\n    timestamp: '2026-03-01T10:15:19.008778+08:00'\n"
    )
    assert _scan_canonical(text.encode()) is not None
    parsed = both(text.encode())
    assert math.copysign(1, parsed["x"].values[0]) == 1.0
    assert math.copysign(1, parsed["y"].values[0]) == -1.0
    assert parsed["z"].values[0] == float(123456789012345678901)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{a: 1}\n", "must be a list of points, not a mapping"),
        ("- 1\n", "point 0: must be a mapping with `value` and `sequence`, not int"),
        ("- value: {a: 1}\n  sequence: {step: 1.5}\n", "point 0: `sequence.step` must be an integer, not 1.5"),
        (
            "- value: {a: 1}\n  sequence: {step: 1, timestamp: soon}\n",
            "point 0: `sequence.timestamp` is not an ISO 8601 time: 'soon'",
        ),
        (
            "- value: {a: 1}\n  sequence: {step: 1, timestamp: 2026-03-01}\n",
            "point 0: `sequence.timestamp` must be a date and time, not 2026-03-01",
        ),
    ],
)
def test_malformed_points_are_named(text: str, message: str) -> None:
    with pytest.raises(MetricFileError) as caught:
        parse_metric_file(text.encode())
    assert str(caught.value) == message


def test_a_name_yaml_reads_as_a_boolean_is_refused_by_both_paths() -> None:
    text = b"- value:\n    yes: 1\n  sequence:\n    epoch: 1\n    step: 1\n    timestamp: '2026-03-01T10:15:19+08:00'\n"
    for allow_fast in (True, False):
        with pytest.raises(MetricFileError, match="point 0: metric name True is not text"):
            parse_metric_file(text, allow_fast=allow_fast)


def test_canonical_files_report_errors_exactly_as_the_loader_does() -> None:
    good = "- value:\n    loss: 1.5\n  sequence:\n    epoch: 1\n    step: {step}\n    timestamp: '{ts}'\n"
    text = (
        good.format(step=1, ts="2026-03-01T10:15:19.008778+08:00")
        + good.format(step=2, ts="2026-02-30T10:15:19.008778+08:00")
        + good.format(step=2**63, ts="2026-03-01T10:15:19.008778+08:00")
    )
    assert _scan_canonical(text.replace("2026-02-30", "2026-03-01").replace(str(2**63), "3").encode()) is not None
    messages = []
    for allow_fast in (True, False):
        with pytest.raises(MetricFileError) as caught:
            parse_metric_file(text.encode(), allow_fast=allow_fast)
        messages.append(str(caught.value))
    assert (
        messages[0]
        == messages[1]
        == "point 1: `sequence.timestamp` is not an ISO 8601 time: '2026-02-30T10:15:19.008778+08:00'"
    )


def test_vectorised_timestamps_equal_fromisoformat() -> None:
    rng = np.random.default_rng(3)
    texts = [
        f"{y:04d}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{us:06d}{sign}{oh:02d}:{om:02d}"
        for y, m, d, h, mi, s, us, sign, oh, om in zip(
            rng.choice([1700, 1969, 1970, 2000, 2024, 2026, 2100, 2200], 5000),
            rng.integers(1, 13, 5000),
            rng.integers(1, 32, 5000),
            rng.integers(0, 25, 5000),
            rng.integers(0, 60, 5000),
            rng.integers(0, 61, 5000),
            rng.integers(0, 10**6, 5000),
            rng.choice(["+", "-"], 5000),
            rng.integers(0, 24, 5000),
            rng.integers(0, 60, 5000),
            strict=True,
        )
    ]
    for text in texts:
        try:
            expected = parse_timestamp(text)
        except ValueError:
            expected = None
        got, error = parse_timestamps([text.encode()])
        assert (error is None) == (expected is not None), text
        if expected is not None:
            assert got[0] == expected, text
    valid = [t.encode() for t in texts if _valid(t)]
    got, error = parse_timestamps(valid)
    assert error is None and got.tolist() == [parse_timestamp(t.decode()) for t in valid]


def _valid(text: str) -> bool:
    try:
        parse_timestamp(text)
    except ValueError:
        return False
    return True


def test_load_bundle_collects_every_problem_without_a_database() -> None:
    files = example_bundle(**{"metrics__train.yaml": "- [", "git.yaml": "entrypoint: [1, 2]\n"})
    problems = []
    try:
        load_bundle({p: len(d) for p, d in files.items()}, lambda p, limit: files[p][:limit])
    except BundleError as exc:
        problems = exc.problems
    assert [p["file"] for p in problems] == ["metrics/train.yaml"]
    assert problems[0]["message"].endswith("(line 2, column 1)")


def test_load_bundle_reads_the_example() -> None:
    files = example_bundle()
    bundle = load_bundle({p: len(d) for p, d in files.items()}, lambda p, limit: files[p][:limit])
    assert sorted(bundle.metrics) == ["train.loss", "val.accuracy", "val.loss"]
    assert bundle.log == "stdout.log" and bundle.source_name == "train.py"
