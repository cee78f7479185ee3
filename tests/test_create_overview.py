"""A one-point chunk's overview, packed without array work, is the general build's to the byte."""

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
    assert packed == overview._many(*arrays)
    assert overview.current(packed)
