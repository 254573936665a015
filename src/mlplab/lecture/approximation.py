"""L10: universal approximation, constructive and trained (see :mod:`mlplab.approx`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..approx import (
    DEFAULT_STEPS,
    PRESETS,
    ConstructiveResult,
    TrainedResult,
    constructive,
    trained,
)


@dataclass
class ApproximationResult:
    """ε = max |g − f| by width: exact step networks for several targets, trained MLPs for one."""

    constructive: dict[str, ConstructiveResult]
    trained: TrainedResult


def approximation(
    targets=tuple(PRESETS),
    steps=DEFAULT_STEPS,
    *,
    trained_target: str = "sin",
    widths=(2, 4, 8, 16, 32, 64),
    epochs: int = 2000,
    seed: int = 0,
    backend: str = "numpy",
) -> ApproximationResult:
    """Run :func:`~mlplab.approx.constructive` on each target and :func:`~mlplab.approx.trained`."""
    built = {t: constructive(t, steps) for t in targets}
    fitted = trained(trained_target, widths, epochs=epochs, seed=seed, backend=backend)
    return ApproximationResult(built, fitted)


__all__ = ["ApproximationResult", "approximation"]
