"""A one-point chunk's overview is the general build's header alone, and the sub-bucket a read makes of it
at each level is the one the general build stores there."""

from __future__ import annotations

import math

import numpy as np
import pytest

from em.runs import overview

NO_EPOCH = -(2**63)


@pytest.mark.parametrize(
    ("step", "epoch", "timestamp", "value"),
    [
        (999, NO_EPOCH, 1.7e9, 0.5),
        (0, 3, 0.0, -0.0),
        (-(2**63), 2**63 - 1, math.nan, math.nan),
        (2**62, NO_EPOCH, 253402300799.0, math.inf),
        (7, 1, 12.5, -math.inf),
        (1, NO_EPOCH, 1.0, 1e308),
    ],
)
def test_one_point_overview_is_the_general_one(step: int, epoch: int, timestamp: float, value: float) -> None:
    arrays = (
        np.array([step], dtype=np.int64),
        np.array([epoch], dtype=np.int64),
        np.array([timestamp], dtype=np.float64),
        np.array([value], dtype=np.float64),
    )
    packed = overview.build(*arrays)
    general = overview._many(*arrays)
    assert packed == general[: overview.HEADER_BYTES] and len(packed) == overview.HEADER_BYTES
    assert overview.expanded(packed) == general  # the way back to the padded layout (em 0016's reverse)
    assert overview.current(packed)
    for level in levels():
        stored = general[level.start : level.start + level.length]
        # A read slices the header alone to nothing at every level (SUBSTR past the end is empty).
        made = overview.records([(packed, packed[level.start : level.start + level.length])], level)
        kept = overview.records([(general, stored)], level)
        assert len(made) == len(kept) == 1
        assert made.tobytes() == kept.tobytes()  # to the byte: NaN as NaN, -0.0 as -0.0


def levels() -> list[overview.Level]:
    """Every level of the layout, coarse first: the one a read of a full chunk takes for 1, 16 and 128
    buckets (each level has 8 sub-buckets a bucket for that many)."""
    found = [overview.level_for(10_000, buckets, 10_000) for buckets in (1, 16, 128)]
    assert [level and level.dtype for level in found] == [overview.DTYPE, overview.DTYPE, overview.FINE]
    return [level for level in found if level is not None]
