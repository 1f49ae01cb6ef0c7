"""Calibration of token estimates against the usage providers report."""

from __future__ import annotations

import json

import pytest

from chatthy.context import Calibration
from chatthy.errors import ConfigError


def test_starts_neutral():
    cal = Calibration()
    assert cal.factor == 1.0 and cal.samples == 0


def test_first_sample_seeds_then_moving_average():
    cal = Calibration()
    cal.observe(1000, 1200)
    assert cal.factor == pytest.approx(1.2)
    cal.observe(1000, 1000)
    assert cal.factor == pytest.approx(0.3 * 1.0 + 0.7 * 1.2)
    assert cal.samples == 2


def test_converges_toward_the_reported_ratio():
    cal = Calibration.from_dict({"factor": 0.8, "samples": 10})
    previous_gap = abs(cal.factor - 1.25)
    for _ in range(30):
        cal.observe(2000, 2500)
        gap = abs(cal.factor - 1.25)
        assert gap < previous_gap or gap < 1e-9
        previous_gap = gap
    assert cal.factor == pytest.approx(1.25, abs=1e-3)


@pytest.mark.parametrize(("estimated", "reported", "bound"), [(100, 1000, 2.0), (1000, 10, 0.5)])
def test_clamps_to_half_and_double(estimated, reported, bound):
    cal = Calibration()
    for _ in range(20):
        cal.observe(estimated, reported)
    assert cal.factor == bound
    assert Calibration(factor=5.0).factor == 2.0
    assert Calibration(factor=0.1).factor == 0.5


def test_one_wild_sample_moves_the_factor_at_most_alpha_times_the_clamp():
    cal = Calibration.from_dict({"factor": 1.0, "samples": 50})
    cal.observe(100, 100_000)
    assert cal.factor == pytest.approx(0.3 * 2.0 + 0.7 * 1.0)


@pytest.mark.parametrize(("estimated", "reported"), [(15, 100), (0, 50), (3, 3), (500, 0), (500, -1)])
def test_ignores_tiny_or_missing_samples(estimated, reported):
    cal = Calibration.from_dict({"factor": 1.3, "samples": 4})
    cal.observe(estimated, reported)
    assert cal.factor == pytest.approx(1.3) and cal.samples == 4


def test_sixteen_is_the_smallest_counted_sample():
    cal = Calibration()
    cal.observe(16, 24)
    assert cal.factor == pytest.approx(1.5) and cal.samples == 1


def test_round_trips_through_json():
    cal = Calibration()
    for estimated, reported in [(400, 520), (1000, 1100), (90, 130)]:
        cal.observe(estimated, reported)
    stored = json.loads(json.dumps(cal.to_dict()))
    back = Calibration.from_dict(stored)
    assert back.factor == cal.factor and back.samples == cal.samples
    assert back.to_dict() == cal.to_dict()


@pytest.mark.parametrize(
    "data",
    [{}, {"factor": "lots"}, {"factor": None}, {"factor": -1.0}, {"factor": float("nan")},
     {"factor": 1.0, "samples": -3}, "1.2", None],
)
def test_malformed_stored_rows_are_config_errors(data):
    with pytest.raises(ConfigError):
        Calibration.from_dict(data)
