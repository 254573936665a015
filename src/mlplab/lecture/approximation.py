"""L10: universal approximation, constructive and trained (see :mod:`mlplab.theory.approx`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..theory.approx import (
    DEFAULT_STEPS,
    PRESETS,
    ConstructiveResult,
    TrainedResult,
    constructive,
    trained,
)
from .registry import Claim, Figure, Settings, register
from .text import show_approximation


@dataclass
class ApproximationResult:
    """ε = max |g − f| by width: exact step networks for several targets, trained MLPs for one."""

    constructive: dict[str, ConstructiveResult]
    trained: TrainedResult


def approximation(
    targets: Iterable[str] = tuple(PRESETS),
    steps: Sequence[int] = DEFAULT_STEPS,
    *,
    trained_target: str = "sin",
    widths: Sequence[int] = (2, 4, 8, 16, 32, 64),
    epochs: int = 2000,
    seed: int = 0,
    backend: str = "numpy",
) -> ApproximationResult:
    """Run the constructive method and a trained network on each target (theory.approx)."""
    built = {t: constructive(t, steps) for t in targets}
    fitted = trained(trained_target, widths, epochs=epochs, seed=seed, backend=backend)
    return ApproximationResult(built, fitted)


# --- the claim ------------------------------------------------------------------------------


def _decreasing(values: Sequence[float]) -> bool:
    return all(b < a for a, b in zip(values[:-1], values[1:], strict=False))


def _verdict(r: ApproximationResult) -> tuple[bool, str]:
    lipschitz = [c for n, c in r.constructive.items() if n != "step"]
    t = r.trained  # the trained nets must also improve from the narrowest to the widest
    ok = all(_decreasing(c.heaviside_max) and _decreasing(c.sigmoid_max) for c in lipschitz)
    ok = ok and all(v[-1] < v[0] for v in t.max_error.values())
    parts = [
        f"{n}: ε {c.heaviside_max[0]:.3g} → {c.heaviside_max[-1]:.3g} "
        f"(N {c.steps[0]} → {c.steps[-1]})"
        for n, c in r.constructive.items()
    ]
    trained_parts = [
        f"{a} width {t.widths[0]} → {t.widths[-1]}: ε {v[0]:.3g} → {v[-1]:.3g}"
        for a, v in t.max_error.items()
    ]
    return ok, "; ".join(parts) + "; trained " + ", ".join(trained_parts)


# the presets' formulas for figure titles (matplotlib's math notation)
LATEX = {
    "sin": r"\sin x",
    "cubic": "x^3 - 2x^2 - x + 2",
    "abs": "|x|",
    "step": "H(x - 1/3)",
    "bump": "e^{-25 x^2}",
}


def _tex(c: ConstructiveResult | TrainedResult) -> str:
    return f"${LATEX[c.target]}$" if c.target in LATEX else str(getattr(c, "expression", c.target))


def _figures(r: ApproximationResult, out_dir: str | os.PathLike[str]) -> list[Figure]:
    from .. import plots

    out = Path(out_dir)
    series = {f"{_tex(c)}, Heaviside": (c.steps, c.heaviside_max) for c in r.constructive.values()}
    if "sin" in r.constructive:
        c = r.constructive["sin"]
        series[f"{_tex(c)}, steep sigmoid"] = (c.steps, c.sigmoid_max)
    path = plots.plot_error_vs_width(
        series,
        out / "l10_error_vs_width.png",
        title=r"L10: $\varepsilon = \max\,|g - f|$ against the width $N$",
    )
    figs = [Figure(path, "ε falls like 1/N for continuous targets; at the step's jump it stays.")]
    for c in r.constructive.values():
        curves = {f"target $g(x) = {LATEX.get(c.target, 'g(x)')}$": c.g}
        curves.update({f"$N = {k}$ Heaviside neurons": f for k, f in c.f_by_steps.items()})
        path = plots.plot_curves(
            c.x,
            curves,
            out / f"l10_{c.target}.png",
            title=f"L10: step networks for {_tex(c)}",
            xlabel="$x$",
            ylabel="$g(x)$, $f(x)$",
        )
        figs.append(
            Figure(
                path, f"{c.expression}: each extra neuron adds one step; more steps, closer fit."
            )
        )
    t = r.trained
    path = plots.plot_error_vs_width(
        {a: (t.widths, t.max_error[a]) for a in t.activations},
        out / "l10_trained.png",
        title=f"L10: trained 1-$w$-1 MLPs on {_tex(r.constructive.get(t.target, t))}",
        xlabel="hidden width $w$",
        reference=False,
    )
    figs.append(Figure(path, "Trained by gradient descent, wider networks also fit better."))
    return figs


def _run(s: Settings) -> ApproximationResult:
    return approximation(
        targets=("sin", "abs", "step") if s.quick else ("sin", "cubic", "abs", "step", "bump"),
        widths=(2, 8, 32) if s.quick else (2, 4, 8, 16, 32, 64),
        epochs=500 if s.quick else 2000,
        seed=s.seed,
        backend=s.backend,
    )


register(
    Claim(
        id="L10",
        title="Universal approximation: the error ε shrinks as the network widens.",
        statement=(
            r"Universal approximation: any continuous $g$ on an interval is approximated by "
            r"$\theta_{2,0} + \theta_{2,1} \sum_j \sigma(\theta_{1,0} + \theta_{1,j} x)$; the "
            r"error $\varepsilon$ shrinks as the network widens."
        ),
        explanation=(
            "The step networks are built exactly (no training): for an $L$-Lipschitz $g$ on "
            r"$[a, b]$ the error of $N$ Heaviside neurons is at most $L(b - a)/2N$. Trained "
            "tanh and ReLU networks of growing width are shown too."
        ),
        command="mlplab approx --target sin",
        run=_run,
        verdict=_verdict,
        text=show_approximation,
        figures=_figures,
    )
)

__all__ = ["ApproximationResult", "approximation"]
