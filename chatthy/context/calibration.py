"""Learning how far our token estimate is from what a provider really counts.

For models whose tokenizer is not public (Anthropic, local models) we count
with cl100k_base, which can be off by tens of percent. Every response reports
the input tokens the provider actually billed; the ratio between that and our
estimate of the same request, smoothed over recent requests, corrects future
estimates. The daemon keeps one Calibration per (provider, model) and persists
it in its settings table through ``to_dict``/``from_dict``.
"""

from __future__ import annotations

from chatthy.errors import ConfigError

__all__ = ["Calibration"]

ALPHA = 0.3
MIN_FACTOR = 0.5
MAX_FACTOR = 2.0
# Below this the fixed per-request framing dominates the ratio, so a one-line
# prompt would swing the factor wildly.
MIN_ESTIMATE = 16


def _clamp(value: float) -> float:
    return min(MAX_FACTOR, max(MIN_FACTOR, value))


class Calibration:
    """Exponential moving average of reported ÷ estimated input tokens."""

    __slots__ = ("_factor", "samples")

    def __init__(self, factor: float = 1.0, samples: int = 0) -> None:
        self._factor = _clamp(float(factor))
        self.samples = samples

    @property
    def factor(self) -> float:
        """Multiply an estimate by this to predict the provider's count."""
        return self._factor

    def observe(self, estimated: int, reported: int) -> None:
        """Fold in one request: our ``estimated`` input tokens vs. the ``reported`` usage."""
        if estimated < MIN_ESTIMATE or reported <= 0:
            return
        # Clamp each sample, not only the average: one response with a
        # misreported usage must not drag the factor far from the truth.
        ratio = _clamp(reported / estimated)
        if self.samples == 0:
            # Start from the first real sample rather than 1.0, so a model whose
            # tokenizer differs by 30% is right from the second request on.
            self._factor = ratio
        else:
            self._factor = _clamp(ALPHA * ratio + (1 - ALPHA) * self._factor)
        self.samples += 1

    def to_dict(self) -> dict:
        return {"factor": self._factor, "samples": self.samples}

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        """Rebuild from ``to_dict`` output; ConfigError if the stored row is malformed."""
        try:
            factor = float(data["factor"])
            samples = int(data.get("samples", 0))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"stored token calibration is malformed: {data!r}") from exc
        if not (factor > 0 and samples >= 0):  # also rejects NaN
            raise ConfigError(f"stored token calibration is out of range: {data!r}")
        return cls(factor, samples)

    def __repr__(self) -> str:
        return f"Calibration(factor={self._factor:.4f}, samples={self.samples})"
