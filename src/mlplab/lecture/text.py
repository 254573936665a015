"""Terminal rendering of the tour's result objects (rich tables; plain text when piped).

``render(claim_id, result, console)`` prints one claim's section;
each ``show_*`` function prints one kind of result and is reused by the
single-experiment commands (``mlplab gates``, ``mlplab approx``, …).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ..theory.approx import ConstructiveResult, TrainedResult
    from ..theory.linear import PolyCost
    from ..theory.perceptron import PerceptronResult
    from ..theory.separability import SeparabilityResult
    from .approximation import ApproximationResult
    from .backends import BackendResult
    from .backprop import BackpropStepResult, GradCheckResult
    from .images import ImageResult
    from .neurons import (
        DeepNetworkResult,
        GateTable,
        NeuronResult,
        WideLayerResult,
        XorImpossibilityResult,
        XorNetworkResult,
    )
    from .regression import ExtrapolationResult, LinearRegressionResult, PolyBlowupResult


class ConsoleLike(Protocol):
    """What the ``show_*`` functions print to: a rich ``Console`` or the page's ``HtmlConsole``."""

    def print(self, *objects: Any) -> None: ...

    def rule(
        self, title: str = "", *, align: Literal["left", "center", "right"] = "center"
    ) -> None: ...


def fmt_num(v: float) -> str:
    """``-1.0`` -> ``'−1'``, ``0.5`` -> ``'0.5'`` (unicode minus, no trailing .0)."""
    s = f"{float(v):g}"
    return s.replace("-", "−")


def console(width: int | None = None) -> Console:
    """A rich console (no colour when output is not a terminal)."""
    from rich.console import Console

    return Console(width=width or 132, highlight=False)


def _table(title: str | None, *columns: str) -> Table:
    from rich import box
    from rich.table import Table

    t = Table(
        title=title,
        box=box.SIMPLE_HEAVY,
        title_justify="left",
        title_style="bold",
        min_width=min(len(title or "") + 4, 110),
    )
    for c in columns:
        t.add_column(c)
    return t


def _theta(theta: Iterable[float]) -> str:
    return "[" + ", ".join(fmt_num(v) for v in theta) + "]"


def _bytes(n: int) -> str:
    from ..backend.memory import format_bytes

    return format_bytes(n)


_MARKS = {
    "shown": "[green]✓ shown[/green]: ",
    "NOT shown": "[red]✗ NOT shown[/red]: ",
    "not run": "[yellow]○[/yellow] ",  # the summary says "not run: install …"
}


def header(
    con: ConsoleLike,
    cid: str,
    status: str | bool | None = None,
    summary: str = "",
    seconds: float | None = None,
) -> None:
    """The section title: claim id, the lecture's claim, and the verdict line.

    ``status`` is ``"shown"``, ``"NOT shown"`` or ``"not run"`` (or a bool: shown or not).
    """
    from .registry import get_claim

    con.rule(f"[bold]{cid}[/bold]  {get_claim(cid).title}", align="left")
    if status is not None:
        if isinstance(status, bool):
            status = "shown" if status else "NOT shown"
        took = f"  ({seconds:.1f} s)" if seconds is not None else ""
        from rich.markup import escape

        con.print(f"{_MARKS[status]}{escape(summary)}{took}")


# --- L1–L3 --------------------------------------------------------------------------------


def show_linear(con: ConsoleLike, r: LinearRegressionResult) -> None:
    t = _table(
        f"L1 normal equations on {r.n_samples} samples, {r.n_inputs} inputs (+ bias column)",
        "θ",
        "true",
        "solve(XᵀX, Xᵀy)",
        "lstsq",
        "scipy lstsq",
        "scikit-learn",
    )
    for j in range(len(r.theta_true)):
        t.add_row(
            f"θ{j}",
            *(
                f"{v[j]:.6f}"
                for v in (
                    r.theta_true,
                    r.theta_solve,
                    r.theta_lstsq,
                    r.theta_reference,
                    r.theta_sklearn,
                )
            ),
        )
    con.print(t)
    con.print(
        f"max |θ_solve − θ_scipy| = {r.max_diff_reference:.2e}, "
        f"max |θ_solve − θ_sklearn| = {r.max_diff_sklearn:.2e}; no matrix was inverted."
    )


def poly_table(
    con: ConsoleLike, costs: Iterable[PolyCost | Mapping[str, Any]], n_samples: int
) -> None:
    """The L2 table from :class:`~mlplab.theory.linear.PolyCost` objects (or dicts of them)."""
    t = _table(
        f"L2 polynomial design matrices (n = {n_samples:,} samples, float64)",
        "inputs d",
        "degree m",
        "columns C(d+m, m)",
        "design matrix",
        "XᵀX",
        "solve ≈ p³/3 flops",
    )
    for c in costs:
        row = c if isinstance(c, dict) else vars(c)
        t.add_row(
            f"{row['d']:,}",
            str(row["m"]),
            f"{row['columns']:,}",
            _bytes(row["design_bytes"]),
            _bytes(row["gram_bytes"]),
            _flops(row["columns"] ** 3, 3),
        )
    con.print(t)


def _flops(numerator: int, denominator: int) -> str:
    """``numerator / denominator`` of exact integers, rounded to 3 significant digits.

    ``2.67`` for p = 2 (8/3, not the integer quotient 2), ``3.44e+40`` for large p,
    and correct beyond float range (10^400).
    """
    n, d = int(numerator), int(denominator)
    scale = max(len(str(n)) - len(str(d)) - 6, 0)  # keep ~6 digits, then let float round
    value = (n // 10**scale) / d  # n / d / 10**scale, exact to those 6 digits
    if scale == 0 and value < 1e6:
        return f"{value:.3g}"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa}e+{int(exponent) + scale:02d}"


def show_poly(con: ConsoleLike, r: PolyBlowupResult) -> None:
    poly_table(con, r.rows, r.n_samples)
    con.print(
        f"256×256 image, degree 3: C(65539, 3) = {r.lecture_columns:,} columns "
        f"(≈ {float(r.lecture_columns):.1e}); 2 inputs, degree 3: {r.small_columns} columns "
        f"(built: shape {r.small_shape}, matches scikit-learn: {r.small_matches_sklearn})."
    )
    if r.refused:
        con.print(
            f"Asked to build it anyway, mlplab refuses before allocating:\n  {r.refusal_message}"
        )


def show_extrapolation(
    con: ConsoleLike, r: ExtrapolationResult | dict[str, ExtrapolationResult]
) -> None:
    if isinstance(r, dict):  # the tour's L3: one result per target
        for one in r.values():
            show_extrapolation(con, one)
        return
    lo, hi = r.interval
    t = _table(
        f"L3 fits to {r.formula} sampled at {', '.join(f'{v:g}' for v in r.x_train)}",
        "model",
        "RMSE on samples",
        f"f({lo:g})",
        f"f({hi:g})",
        f"max |f| on [{lo:g}, {hi:g}]",
    )
    for name, mx in r.max_abs.items():
        rmse = r.train_rmse.get(name)
        f_lo, f_hi = r.at_ends[name]
        t.add_row(
            name,
            "—" if rmse is None else f"{rmse:.2e}",
            f"{f_lo:,.2f}",
            f"{f_hi:,.2f}",
            f"{mx:,.2f}",
        )
    con.print(t)
    con.print(
        f"Every polynomial of degree ≥ 1 tends to ±∞; the tanh MLP is bounded everywhere: "
        f"|f(x)| ≤ |b₂| + Σ|W₂| = {r.mlp_bound:.2f} for all x."
    )


# --- L4–L9 --------------------------------------------------------------------------------


def show_neuron(con: ConsoleLike, r: NeuronResult) -> None:
    t = _table("L4 Heaviside H(z) = 1 if z > 0 else 0", "z", "H(z)")
    for z, h in zip(r.z, r.heaviside, strict=True):
        t.add_row(f"{z:g}", str(h))
    con.print(t)
    diffs = ", ".join(f"{k} {v:.1e}" for k, v in r.max_diff.items())
    con.print(f"neuron(x, θ) vs σ(θ₀ + Σᵢ θᵢxᵢ) by hand on {r.n_examples} inputs: {diffs}")


def show_gate(con: ConsoleLike, table: GateTable) -> None:
    t = _table(
        f"{table.name.upper()} with θ = {_theta(table.theta)}",
        "x₁",
        "x₂",
        "H(θ₀ + θ₁x₁ + θ₂x₂)",
        "expected",
        "",
    )
    for row in table.rows:
        t.add_row(
            str(row.x[0]),
            str(row.x[1]),
            row.arithmetic,
            str(row.expected),
            "✓" if row.output == row.expected else "✗",
        )
    con.print(t)


def show_gates(con: ConsoleLike, r: Mapping[str, GateTable]) -> None:
    for table in r.values():
        show_gate(con, table)


def show_separability(
    con: ConsoleLike, r: Mapping[str, SeparabilityResult], gates: Collection[str] | None = None
) -> None:
    t = _table(
        "L6 can one neuron compute it? (LP: θ₀ + θ·x ≥ 1 on 1s, ≤ 0 on 0s)",
        "gate",
        "LP status",
        "separable",
        "separating θ",
        "verified",
    )
    for name, s in r.items():
        if gates and name not in gates:
            continue
        t.add_row(
            name.upper(),
            f"{s.lp_status} ({'feasible' if s.separable else 'infeasible'})",
            "yes" if s.separable else "NO",
            _theta(s.theta) if s.theta is not None else "none exists",
            "✓" if s.verified else "✗",
        )
    con.print(t)
    for name, s in r.items():
        if s.certificate is not None and (not gates or name in gates):
            con.print(
                f"[bold]Proof that no single neuron computes {name.upper()}[/bold] "
                f"(Farkas multipliers u = {s.certificate.multipliers.tolist()}):"
            )
            for line in s.certificate.lines:
                con.print("  " + line)


def show_perceptron(con: ConsoleLike, r: Mapping[str, PerceptronResult]) -> None:
    t = _table(
        "Rosenblatt's rule θ ← θ + η (y − ŷ) [1, x], η = 1, θ starts at 0",
        "gate",
        "outcome",
        "epochs",
        "mistakes per epoch",
        "final θ",
        "outputs",
    )
    for name, p in r.items():
        if p.stop_reason == "cycle":
            outcome = (
                f"cycle: θ at the start of epoch {p.cycle_start} comes back after "
                f"{p.cycle_length} epoch(s) with mistakes, so it never converges"
            )
        elif p.converged:
            outcome = "converged"
        else:
            outcome = "epoch cap reached"
        t.add_row(
            name.upper(),
            outcome,
            str(p.epochs),
            str(p.mistakes[:12]),
            _theta(p.theta),
            str(p.predictions.tolist()) if p.predictions is not None else "not computed",
        )
    con.print(t)


def show_xor_impossibility(con: ConsoleLike, r: XorImpossibilityResult) -> None:
    show_separability(con, r.separability)
    show_perceptron(con, r.perceptron)


def show_wide_layer(con: ConsoleLike, r: WideLayerResult) -> None:
    t = _table(
        f"L7 σ(b + W x) with W of shape ({r.n_neurons}, {r.n_inputs}) vs "
        f"{r.n_neurons} separate neurons, batch {r.batch}",
        "backend / activation",
        "max |layer − neurons|",
    )
    for k, v in r.max_diff.items():
        t.add_row(k, f"{v:.1e}")
    con.print(t)


def show_deep(con: ConsoleLike, r: DeepNetworkResult) -> None:
    t = _table(
        f"L8 MLP {r.sizes}: {r.n_matrices} layers = {r.n_matrices} parameter matrices",
        "layer",
        "W shape (d_out, d_in)",
        "b shape",
        "parameters",
    )
    for i, (bs, ws) in enumerate(r.shapes):
        t.add_row(str(i + 1), str(ws), str(bs), f"{ws[0] * ws[1] + bs[0]:,}")
    con.print(t)
    con.print(
        f"total {r.n_params:,} parameters (counted on the arrays: {r.n_params_counted:,}); "
        f"MLP(x) − f₄(f₃(f₂(f₁(x)))) = {r.composition_max_diff:.1e}"
    )


def show_xor_network(con: ConsoleLike, r: XorNetworkResult) -> None:
    t = _table(
        "L9 XOR = OR and not AND, θ = " + ", ".join(_theta(th) for th in r.thetas),
        "x",
        "hidden 1 (OR)",
        "hidden 2 (AND)",
        "output",
        "XOR",
    )
    for row in r.rows:
        t.add_row(
            str(row.x),
            row.hidden_arithmetic[0],
            row.hidden_arithmetic[1],
            row.output_arithmetic,
            str(row.expected),
        )
    con.print(t)


# --- L10–L13 ------------------------------------------------------------------------------


def show_constructive(con: ConsoleLike, c: ConstructiveResult) -> None:
    t = _table(
        f"L10 {c.expression} on [{c.interval[0]:.3g}, {c.interval[1]:.3g}]: "
        f"exact step networks, max |g − f| on {c.grid_points:,} points",
        "N neurons",
        "ε Heaviside",
        "N·ε",
        "ε steep sigmoid",
        "bound L(b−a)/2N",
        "mean |g − f|",
    )
    for i, n in enumerate(c.steps):
        t.add_row(
            str(n),
            f"{c.heaviside_max[i]:.4g}",
            f"{n * c.heaviside_max[i]:.3g}",
            f"{c.sigmoid_max[i]:.4g}",
            f"{c.lipschitz_bound[i]:.4g}",
            f"{c.heaviside_mean[i]:.3g}",
        )
    con.print(t)
    if c.target == "step":
        con.print(
            "A step is not continuous: the max error stays at the jump size for every N "
            "(no continuous-target guarantee applies), while the mean error falls."
        )


def show_trained(con: ConsoleLike, t: TrainedResult) -> None:
    tab = _table(
        f"L10 trained 1-w-1 MLPs on {t.target} ({t.epochs} epochs of Adam, "
        f"{t.n_train} samples): max |g − f|",
        "width w",
        *t.activations,
    )
    for i, w in enumerate(t.widths):
        tab.add_row(str(w), *(f"{t.max_error[a][i]:.4g}" for a in t.activations))
    con.print(tab)


def show_approximation(con: ConsoleLike, r: ApproximationResult) -> None:
    for c in r.constructive.values():
        show_constructive(con, c)
    show_trained(con, r.trained)


def _matrix(a: ArrayLike) -> str:
    return np.array2string(np.asarray(a), precision=4, suppress_small=True, max_line_width=100)


def show_backprop(con: ConsoleLike, r: BackpropStepResult) -> None:
    con.print(
        f"L11 one gradient-descent step: MLP {r.sizes} ({', '.join(r.activations)}), "
        f"MSE on the XOR inputs, η = {r.lr}"
    )
    for i in reversed(range(len(r.deltas))):
        con.print(f"δ{i + 1} = ∂L/∂z{i + 1}  (rows: examples, columns: neurons, the blame):")
        con.print(_matrix(r.deltas[i]))
        gb, gW = r.grads[i]
        con.print(
            f"∂L/∂W{i + 1} = δ{i + 1}ᵀ a{i} =\n{_matrix(gW)}\n∂L/∂b{i + 1} = Σ δ{i + 1} = "
            f"{_matrix(gb)}"
        )
    con.print(
        f"W ← W − η ∂L/∂W: loss {r.loss_before:.6f} → {r.loss_after:.6f}; "
        f"formulas written out by hand agree to {r.by_hand_max_diff:.1e}"
    )
    show_gradcheck(con, r.check)


def show_gradcheck(con: ConsoleLike, g: GradCheckResult) -> None:
    cols = ["parameter", "shape", "max |∂L/∂θ|", "|explicit − FD|", "relative"]
    cols += [f"|explicit − {f}|" for f in g.frameworks]
    t = _table(
        f"gradient check: MLP {g.sizes}, {g.activation}, {g.loss}, batch {g.batch}, "
        "float64, central differences ε = 1e−6",
        *cols,
    )
    for row in g.rows:
        t.add_row(
            row.parameter,
            str(row.shape),
            f"{row.max_abs_grad:.3e}",
            f"{row.fd_abs_err:.1e}",
            f"{row.fd_rel_err:.1e}",
            *(f"{row.autodiff_abs_err[f]:.1e}" for f in g.frameworks),
        )
    con.print(t)
    if not g.frameworks:
        con.print("(neither torch nor jax is installed: autodiff columns omitted)")


def show_backends(con: ConsoleLike, r: BackendResult) -> None:
    t = _table(
        f"L12 the same MLP {r.sizes} trained on each backend ({r.dtype}, {r.epochs} "
        "epochs of Adam on two moons)",
        "backend",
        "final loss",
        "accuracy",
        "seconds",
        "max |Δ loss| vs numpy",
        "max |Δ θ| vs numpy",
    )
    for b in r.backends:
        t.add_row(
            b,
            f"{r.final_loss[b]:.10f}",
            f"{r.accuracy[b]:.1%}",
            f"{r.seconds[b]:.2f}",
            f"{r.max_loss_diff[b]:.1e}",
            f"{r.max_param_diff[b]:.1e}",
        )
    con.print(t)


def show_images(con: ConsoleLike, r: ImageResult) -> None:
    results = r.values() if isinstance(r, dict) else [r]
    t = _table(
        "L13 MLPs reading digits (inputs standardised; the 8×8 digits trained with their "
        "one-pixel shifts; test sets never trained on)",
        "data set",
        "train / test",
        "MLP",
        "epochs",
        "test accuracy",
        "needs",
        "logistic regression",
        "train accuracy",
        "seconds",
    )
    for x in results:
        t.add_row(
            x.dataset,
            f"{x.n_train} / {x.n_test}",
            f"{x.n_features}-{'-'.join(map(str, x.hidden))}-{x.n_classes} {x.activation}",
            str(x.epochs),
            f"{x.test_accuracy:.1%}" + (" ✓" if x.meets_threshold else " ✗"),
            f"≥ {x.threshold:.1%}",
            f"{x.baseline_accuracy:.1%}",
            f"{x.train_accuracy:.1%}",
            f"{x.seconds:.1f}",
        )
    con.print(t)
    con.print(
        "McCulloch & Pitts proposed the threshold neuron in 1943; Rosenblatt's perceptron "
        "(1958) read a 20×20 grid of photocells."
    )


def render(con: ConsoleLike, cid: str, result: Any, seconds: float | None = None) -> None:
    """Print claim ``cid``'s section: title, verdict, then its tables."""
    from .registry import get_claim

    claim = get_claim(cid)
    status, summary = claim.check(result)
    header(con, cid, status, summary, seconds)
    claim.text(con, result)


__all__ = ["console", "fmt_num", "header", "render"]
