"""L10: universal approximation, constructive and trained (see :mod:`mlplab.theory.approx`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..theory.approx import (
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
    """Run the constructive method and a trained network on each target (theory.approx)."""
    built = {t: constructive(t, steps) for t in targets}
    fitted = trained(trained_target, widths, epochs=epochs, seed=seed, backend=backend)
    return ApproximationResult(built, fitted)


__all__ = ["ApproximationResult", "approximation"]
