"""The tour: run every experiment L1–L13 in the lecture's order and collect the results.

:func:`run_tour` only computes; :mod:`~mlplab.lecture.text` prints and
:mod:`~mlplab.lecture.report` writes the HTML page, the figures and
``results.json``. :func:`verdict` states, from a result alone, whether the
claim was shown and the key numbers that show it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import CLAIMS


@dataclass
class TourResult:
    """Every claim's result object, with timings and the settings of the run."""

    quick: bool
    seed: int
    backend: str
    results: dict = field(default_factory=dict)  # "L1" … "L13" -> result object
    seconds: dict = field(default_factory=dict)  # claim -> seconds

    def verdicts(self) -> dict[str, tuple[bool, str]]:
        return {cid: verdict(cid, r) for cid, r in self.results.items()}


def experiments(quick: bool = False, seed: int = 0, backend: str = "numpy") -> dict[str, Callable]:
    """The experiment of each claim as a zero-argument callable, in the lecture's order."""
    from . import approximation, backends, backprop, images, neurons, regression

    return {
        "L1": lambda: regression.linear_regression(seed=seed),
        "L2": lambda: regression.polynomial_blowup(),
        "L3": lambda: regression.extrapolation(
            epochs=1000 if quick else 3000, seed=seed, backend=backend
        ),
        "L4": lambda: neurons.neuron_demo(seed=seed),
        "L5": lambda: neurons.gate_tables(),
        "L6": lambda: neurons.xor_impossibility(),
        "L7": lambda: neurons.wide_layer(seed=seed),
        "L8": lambda: neurons.deep_network(seed=seed),
        "L9": lambda: neurons.xor_network_table(),
        "L10": lambda: approximation.approximation(
            targets=("sin", "abs", "step") if quick else ("sin", "cubic", "abs", "step", "bump"),
            widths=(2, 8, 32) if quick else (2, 4, 8, 16, 32, 64),
            epochs=500 if quick else 2000,
            seed=seed,
            backend=backend,
        ),
        "L11": lambda: backprop.backprop_step(seed=seed),
        "L12": lambda: backends.backend_agreement(epochs=20 if quick else 100, seed=seed),
        "L13": lambda: {
            name: images.train_images(name, quick=quick, seed=seed, backend=backend)
            for name in ("digits", "mnist1d")
        },
    }


def run_tour(
    *,
    quick: bool = False,
    seed: int = 0,
    backend: str = "numpy",
    claims=None,
    on_result: Callable | None = None,
) -> TourResult:
    """Run the experiments (all, or the ``claims`` listed) and return a :class:`TourResult`.

    ``on_result(claim_id, result, seconds)`` is called after each one (the CLI
    prints each section as soon as it is ready).
    """
    from ..errors import ConfigError, check_choice, check_number

    check_number("seed", seed, ge=0, integer=True)
    check_choice("backend", backend, ("numpy", "torch", "jax"))
    todo = experiments(quick, seed, backend)
    wanted = list(todo) if claims is None else [c.upper() for c in claims]
    unknown = [c for c in wanted if c not in todo]
    if unknown:
        raise ConfigError(f"unknown claim(s) {unknown}; known: {', '.join(todo)}.")
    from .images import single_threaded_blas

    tour = TourResult(quick, seed, backend)
    for cid in todo:
        if cid not in wanted:
            continue
        start = time.perf_counter()
        with single_threaded_blas():  # small matrices: threads only contend
            tour.results[cid] = todo[cid]()
        tour.seconds[cid] = time.perf_counter() - start
        if on_result is not None:
            on_result(cid, tour.results[cid], tour.seconds[cid])
    return tour


def _decreasing(values) -> bool:
    return all(b < a for a, b in zip(values[:-1], values[1:], strict=False))


def verdict(claim: str, r) -> tuple[bool, str]:
    """Whether ``r`` shows ``claim``, and the numbers that say so (one line)."""
    if claim == "L1":
        ok = r.max_diff_reference < 1e-8 and r.max_diff_sklearn < 1e-8
        return ok, (
            f"normal equations match scipy lstsq to {r.max_diff_reference:.1e} and "
            f"scikit-learn to {r.max_diff_sklearn:.1e} (float64, {r.n_inputs} inputs + bias)"
        )
    if claim == "L2":
        ok = r.lecture_columns == 46_916_791_205_889 and r.small_columns == 10 and r.refused
        return ok, (
            f"C(65539, 3) = {r.lecture_columns:,} columns; d=2, m=3 → {r.small_columns}; "
            f"building the image's features was {'refused' if r.refused else 'NOT refused'} "
            f"before allocating (peak {r.refusal_peak_bytes:,} bytes traced)"
        )
    if claim == "L3":
        mlp = next(k for k in r.max_abs if k.startswith("tanh MLP"))
        polys = {k: v for k, v in r.max_abs.items() if k.startswith("polynomial")}
        train_max = float(np.max(np.abs(r.y_train)))
        # the MLP must fit the 8 samples and stay bounded; the polynomials must run away
        ok = (
            r.train_rmse[mlp] < 0.2
            and r.max_abs[mlp] < 3 * train_max
            and all(v > 3 * train_max for v in polys.values())
        )
        worst = max(polys.values())
        return ok, (
            f"on [{r.interval[0]:g}, {r.interval[1]:g}] the polynomials reach |f| up to "
            f"{worst:,.0f} (data stay within {train_max:.2f}); the tanh MLP stays within "
            f"{r.max_abs[mlp]:.2f} and |f(x)| ≤ {r.mlp_bound:.2f} for every x"
        )
    if claim == "L4":
        ok = r.heaviside == [0, 0, 0, 1, 1] and max(r.max_diff.values()) < 1e-12
        return ok, (
            f"H(−1), H(−1e−9), H(0), H(1e−9), H(1) = {r.heaviside}; neuron(x, θ) equals "
            f"σ(b + w·x) to {max(r.max_diff.values()):.1e}"
        )
    if claim == "L5":
        from .neurons import fmt_num

        ok = all(t.correct for t in r.values())
        return ok, "truth tables reproduced: " + ", ".join(
            f"{n.upper()} θ = [{', '.join(fmt_num(v) for v in t.theta)}]" for n, t in r.items()
        )
    if claim == "L6":
        xor = r.separability["xor"]
        others = [r.separability[g] for g in ("and", "or", "nand", "nor")]
        p = r.perceptron
        ok = (
            not xor.separable
            and xor.lp_status == 2
            and xor.verified
            and all(s.separable and s.verified for s in others)
            and p["and"].converged
            and p["or"].converged
            and not p["xor"].converged
        )
        return ok, (
            f"XOR: LP infeasible (status {xor.lp_status}), Farkas certificate verified; "
            f"AND/OR/NAND/NOR separable with verified θ; perceptron converges on AND "
            f"({p['and'].epochs} epochs) and OR ({p['or'].epochs}), not on XOR "
            f"({p['xor'].stop_reason} after {p['xor'].epochs} epochs)"
        )
    if claim == "L7":
        worst = max(r.max_diff.values())
        return worst < 1e-6, (
            f"a layer of {r.n_neurons} neurons equals {r.n_neurons} neuron() calls to "
            f"{worst:.1e} on {len(r.max_diff)} backend/activation pairs"
        )
    if claim == "L8":
        ok = (
            r.depth == 4
            and r.n_matrices == 4
            and r.n_params == r.n_params_counted
            and r.composition_max_diff < 1e-12
        )
        return ok, (
            f"MLP {r.sizes}: {r.n_matrices} parameter matrices "
            f"{[s[1] for s in r.shapes]}, {r.n_params:,} parameters; forward = composition "
            f"of 4 layers to {r.composition_max_diff:.1e}"
        )
    if claim == "L9":
        ok = r.correct and r.hidden_is_or_and
        return ok, (
            f"outputs {[row.output for row in r.rows]} = XOR; hidden neurons compute OR "
            f"{[row.hidden[0] for row in r.rows]} and AND {[row.hidden[1] for row in r.rows]}"
        )
    if claim == "L10":
        lipschitz = [c for n, c in r.constructive.items() if n != "step"]
        t = r.trained  # the trained nets must also improve from the narrowest to the widest
        ok = all(
            _decreasing(c.heaviside_max) and _decreasing(c.sigmoid_max) for c in lipschitz
        ) and all(v[-1] < v[0] for v in t.max_error.values())
        parts = [
            f"{n}: ε {c.heaviside_max[0]:.3g} → {c.heaviside_max[-1]:.3g} "
            f"(N {c.steps[0]} → {c.steps[-1]})"
            for n, c in r.constructive.items()
        ]
        return ok, (
            "; ".join(parts)
            + "; trained "
            + ", ".join(
                f"{a} width {t.widths[0]} → {t.widths[-1]}: ε {v[0]:.3g} → {v[-1]:.3g}"
                for a, v in t.max_error.items()
            )
        )
    if claim == "L11":
        ok = (
            r.check.max_fd_rel_err < 1e-5
            and r.by_hand_max_diff < 1e-12
            and r.loss_after < r.loss_before
            and r.check.max_autodiff_abs_err < 1e-10
            and bool(r.check.frameworks)  # an autodiff oracle actually ran
        )
        fws = " and ".join(r.check.frameworks) or "no autodiff framework"
        return ok, (
            f"one step: loss {r.loss_before:.4f} → {r.loss_after:.4f}; gradients match the "
            f"matrix formulas to {r.by_hand_max_diff:.1e}, finite differences to "
            f"{r.check.max_fd_rel_err:.1e} (relative) and {fws} to "
            f"{r.check.max_autodiff_abs_err:.1e}"
        )
    if claim == "L12":
        worst = max(r.max_loss_diff.values())
        # shown only when there is something to agree with: PyTorch and JAX both ran
        ok = {"torch", "jax"} <= set(r.backends) and worst < 1e-8
        ok = ok and max(r.max_param_diff.values()) < 1e-8
        return ok, (
            f"trained on {', '.join(r.backends)}: final losses "
            + ", ".join(f"{b} {v:.6f}" for b, v in r.final_loss.items())
            + f"; loss curves agree to {worst:.1e}"
        )
    if claim == "L13":
        ok = all(x.meets_threshold for x in r.values())
        return ok, "; ".join(
            f"{x.dataset}: MLP test accuracy {x.test_accuracy:.1%} (needs ≥ {x.threshold:.1%}), "
            f"logistic regression {x.baseline_accuracy:.1%}"
            for x in r.values()
        )
    raise KeyError(claim)


def to_jsonable(obj, max_items: int = 500):
    """Plain JSON data from result objects: dataclasses, arrays (small ones), numbers."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {
            f.name: to_jsonable(getattr(obj, f.name), max_items) for f in dataclasses.fields(obj)
        }
        for name in dir(type(obj)):
            if isinstance(getattr(type(obj), name, None), property):
                out[name] = to_jsonable(getattr(obj, name), max_items)
        return out
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v, max_items) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v, max_items) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.size > max_items:
            return {"shape": list(obj.shape), "omitted": f"{obj.size} values"}
        return to_jsonable(obj.tolist(), max_items)
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item(), max_items)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, bool | int | str) or obj is None:
        return obj
    return str(obj)


def tour_json(tour: TourResult) -> dict:
    """The whole tour as JSON data: settings, verdicts, timings and every result."""
    verdicts = tour.verdicts()
    return {
        "quick": tour.quick,
        "seed": tour.seed,
        "backend": tour.backend,
        "claims": {
            cid: {
                "claim": CLAIMS[cid],
                "shown": verdicts[cid][0],
                "summary": verdicts[cid][1],
                "seconds": tour.seconds[cid],
                "result": to_jsonable(tour.results[cid]),
            }
            for cid in tour.results
        },
    }


__all__ = ["TourResult", "experiments", "run_tour", "to_jsonable", "tour_json", "verdict"]
