"""The tour's report: PNG figures, one self-contained HTML page, and ``results.json``.

Everything is rendered from a :class:`~mlplab.lecture.tour.TourResult`; nothing
is recomputed here except drawing. The page reads like the lecture: for each
claim L1–L13, what the lecture says, what was computed, the verdict, the
evidence (the same tables the terminal shows) and the figures, embedded as
base64 PNG so the page is one file. Files are written atomically.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import CLAIMS

# What the lecture says, in a sentence or two, and the command that shows it alone.
PROSE = {
    "L1": (
        "The linear model ŷ = θ₀ + θ₁x₁ + … + θ_d x_d has a closed-form least-squares "
        "solution θ = (XᵀX)⁻¹Xᵀy once X carries a column of ones for the bias. mlplab "
        "solves XᵀXθ = Xᵀy (never forming the inverse) on a multivariate problem and "
        "compares it with SciPy and scikit-learn.",
        "mlplab tour --only L1",
    ),
    "L2": (
        "Polynomial regression needs one column per monomial: C(d + m, m) of them for d "
        "inputs at degree m. For a 256×256 image at degree 3 that is 46,916,791,205,889 "
        "columns, and solving the normal equations costs O(p³). mlplab counts exactly and "
        "refuses to build a matrix that cannot fit, before allocating it.",
        "mlplab poly --inputs 65536 --degree 3",
    ),
    "L3": (
        "Outside the data, polynomials tend to ±∞. The lecture's cubic x³ − 2x² − x + 2 is "
        "sampled at x = 0, 0.25, …, 1.75; polynomials of several degrees and a tanh MLP are "
        "fitted to those eight points and evaluated on [−5, 5].",
        "mlplab extrapolate",
    ),
    "L4": (
        "A neuron is the linear model followed by an activation: f(x, θ) = σ(θ₀ + Σᵢ θᵢxᵢ). "
        "The Heaviside step is H(z) = 1 if z > 0 else 0, so H(0) = 0.",
        "mlplab gates",
    ),
    "L5": (
        "One Heaviside neuron computes AND with θ = [−1, 1, 1] and OR with θ = [0, 1, 1]. "
        "Each row shows the arithmetic the network performs (the slide's OR table has "
        "arithmetic typos; these are computed).",
        "mlplab gates",
    ),
    "L6": (
        "No single neuron computes XOR. This is proved, not searched for: the linear program "
        "θ₀ + θ·x ≥ 1 on the 1s and ≤ 0 on the 0s is infeasible, and Farkas multipliers give "
        "a human-readable certificate. The same check finds a separating θ for AND, OR, NAND "
        "and NOR. Rosenblatt's learning rule converges on AND and OR and cycles on XOR.",
        "mlplab xor-proof; mlplab perceptron",
    ),
    "L7": (
        "A wide layer f(x, (b, W)) = σ(b + W x) is m neurons side by side: row j of W holds "
        "neuron j's weights, and output j is that neuron's output.",
        "mlplab tour --only L7",
    ),
    "L8": (
        "A deep network is a composition of layers, z₁ = f₁(x), z₂ = f₂(z₁), …; a four-layer "
        "MLP has four parameter matrices.",
        "mlplab tour --only L8",
    ),
    "L9": (
        "Two layers solve XOR: hidden neuron 1 is OR (θ = [−0.5, 1, 1]), hidden neuron 2 is "
        "AND (θ = [−1.5, 1, 1]), and the output neuron (θ = [−0.5, 1, −2]) fires for "
        "'OR and not AND'.",
        "mlplab xor",
    ),
    "L10": (
        "Universal approximation: any continuous g on an interval is approximated by "
        "θ₂,₀ + Σⱼ θ₂,ⱼ σ(θ₁,₀ + θ₁,ⱼ x), and the error shrinks as the network widens. The "
        "step networks are built exactly (no training); for an L-Lipschitz g the error is at "
        "most L(b − a)/2N. Trained tanh and ReLU networks of growing width are shown too.",
        "mlplab approx --target sin",
    ),
    "L11": (
        "Networks are trained, not solved: backpropagation assigns each neuron its share of "
        "the fault, δ_ℓ = ∂L/∂z_ℓ, the gradients follow in matrix form, and gradient descent "
        "updates θ. The gradients are checked against finite differences and autodiff.",
        "mlplab backprop; mlplab gradcheck",
    ),
    "L12": (
        "The same deep and wide network is built in NumPy, PyTorch and JAX: one "
        "configuration trained on each backend gives the same losses and weights.",
        "mlplab tour --only L12",
    ),
    "L13": (
        "McCulloch and Pitts proposed the threshold neuron in 1943; Rosenblatt's perceptron "
        "(1958) read a 20×20 grid of photocells. Today an MLP reads digits: scikit-learn's "
        "8×8 digits and MNIST-1D, each beside a logistic-regression baseline.",
        "mlplab digits; mlplab mnist1d",
    ),
}


@dataclass
class ReportFiles:
    """Paths written by :func:`write_report`."""

    html: Path
    json: Path
    figures: dict = field(default_factory=dict)  # claim -> [(path, caption)]


def _write_atomic(path: Path, data: bytes) -> None:
    from ..files.atomic import atomic_write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)


# --- figures -------------------------------------------------------------------------------


def make_figures(tour, out_dir) -> dict[str, list[tuple[Path, str]]]:
    """Draw every claim's figures into ``out_dir``; return ``{claim: [(path, caption)]}``."""
    from .. import plots
    from ..nn.gates import TRUTH_INPUTS, TRUTH_TABLES, xor_network

    out = Path(out_dir)
    figs: dict[str, list[tuple[Path, str]]] = {}
    res = tour.results

    def add(cid, path, caption):
        figs.setdefault(cid, []).append((Path(path), caption))

    if "L3" in res:
        r = res["L3"]
        add(
            "L3",
            plots.plot_extrapolation(
                r,
                out / "l3_extrapolation.png",
                title="L3: fitted on [0, 1.75], evaluated on [−5, 5]",
                samples="the 8 samples",
            ),
            "Polynomials leave the frame outside the data; the tanh MLP stays bounded.",
        )
    if "L6" in res:
        for name in ("and", "or", "xor"):
            s = res["L6"].separability[name]
            add(
                "L6",
                plots.plot_separability(
                    s.X,
                    s.y,
                    s.theta,
                    out / f"l6_{name}.png",
                    title=f"{name.upper()}: " + ("separable" if s.separable else "not separable"),
                ),
                f"{name.upper()}: the LP's separating line"
                if s.separable
                else "XOR: no line separates the 1s from the 0s (LP infeasible)",
            )
    if "L9" in res:
        add(
            "L9",
            plots.plot_decision_boundary(
                xor_network(),
                TRUTH_INPUTS,
                TRUTH_TABLES["xor"],
                out / "l9_xor_regions.png",
                title="L9: the 2-2-1 Heaviside network's XOR regions",
            ),
            "The hand-set network's output over the plane: a band between two lines.",
        )
    if "L10" in res:
        r = res["L10"]
        series = {f"{n} (Heaviside)": (c.steps, c.heaviside_max) for n, c in r.constructive.items()}
        for n, c in r.constructive.items():
            if n == "sin":
                series[f"{n} (steep sigmoid)"] = (c.steps, c.sigmoid_max)
        add(
            "L10",
            plots.plot_error_vs_width(
                series,
                out / "l10_error_vs_width.png",
                title="L10: constructive networks, ε = max |g − f| against N",
            ),
            "ε falls like 1/N for Lipschitz targets; for the step it stays at the jump.",
        )
        for n, c in r.constructive.items():
            curves = {f"target {c.expression}": c.g}
            curves.update({f"N = {k} Heaviside neurons": f for k, f in c.f_by_steps.items()})
            add(
                "L10",
                plots.plot_curves(
                    c.x,
                    curves,
                    out / f"l10_{n}.png",
                    title=f"L10: step networks for {c.expression}",
                    xlabel="x",
                    ylabel="g(x), f(x)",
                ),
                f"{c.expression}: the exact step networks for several N.",
            )
        t = r.trained
        add(
            "L10",
            plots.plot_error_vs_width(
                {a: (t.widths, t.max_error[a]) for a in t.activations},
                out / "l10_trained.png",
                title=f"L10: trained MLPs on {t.target}",
                xlabel="hidden width w",
                reference=False,
            ),
            "Trained networks: the error also falls as the hidden layer widens.",
        )
    if "L11" in res:
        add(
            "L11",
            plots.plot_blame(
                res["L11"].deltas,
                out / "l11_deltas.png",
                row_labels=[str(tuple(int(v) for v in x)) for x in res["L11"].X],
                title="L11: blame δ = ∂L/∂z per example and neuron",
            ),
            "Each layer's deltas: who was blamed, for which example.",
        )
    if "L12" in res:
        r = res["L12"]
        ep = np.arange(1, r.epochs + 1)
        add(
            "L12",
            plots.plot_curves(
                ep,
                {f"{b}": r.loss_curves[b] for b in r.backends},
                out / "l12_backends.png",
                title="L12: the same training run on each backend",
                xlabel="epoch",
                ylabel="training loss (binary cross-entropy)",
            ),
            "The loss curves lie on top of each other.",
        )
    if "L13" in res:
        for name, x in res["L13"].items():
            add(
                "L13",
                plots.plot_confusion_matrix(
                    x.confusion,
                    out / f"l13_{name}_confusion.png",
                    title=f"L13: {name} test set, MLP accuracy {x.test_accuracy:.1%}",
                ),
                f"{name}: confusion matrix of the MLP on the test set.",
            )
        items = list(res["L13"].values())
        add(
            "L13",
            plots.plot_bars(
                [f"{x.dataset} MLP" for x in items] + [f"{x.dataset} logistic" for x in items],
                [x.test_accuracy for x in items] + [x.baseline_accuracy for x in items],
                out / "l13_accuracy.png",
                title="L13: test accuracy",
                ylabel="test accuracy",
                xlabel="data set and model",
            ),
            "MLPs against logistic-regression baselines.",
        )
    return figs


# --- the page ------------------------------------------------------------------------------

_CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #222; }
h1 { font-size: 1.9rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
pre { background: #f6f6f4; padding: .8rem; overflow-x: auto; font-size: .78rem;
      line-height: 1.25; border-radius: 4px; }
.ok { color: #176617; font-weight: bold; } .bad { color: #b00; font-weight: bold; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #555; }
table.toc td { padding: .1rem .6rem; vertical-align: top; }
code { background: #f0f0ee; padding: 0 .2rem; }
"""


def evidence_text(cid: str, result) -> str:
    """The claim's terminal section (tables, proof) as plain text."""
    from rich.console import Console

    from .text import RENDERERS

    con = Console(record=True, width=132, file=io.StringIO(), color_system=None)
    RENDERERS[cid](con, result)
    return con.export_text()


def _img(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(Path(path).name)}" src="data:image/png;base64,{data}">'


def render_html(tour, figures: dict | None = None) -> str:
    """The report as one HTML string (figures embedded from their PNG files)."""
    from .._version import __version__

    figures = figures or {}
    verdicts = tour.verdicts()
    esc = html.escape
    n_ok = sum(ok for ok, _ in verdicts.values())
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>mlplab: the Neural Networks lecture, reproduced</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Neural Networks: the lecture's claims, computed</h1>",
        f"<p>Every claim of the lecture (CISC 7026, “Neural Networks”) below was computed by "
        f"mlplab {esc(__version__)} just now: {n_ok} of {len(verdicts)} claims shown. Settings: "
        f"{'quick run' if tour.quick else 'full run'}, seed {tour.seed}, training backend "
        f"{esc(tour.backend)}. Reproduce with <code>mlplab tour"
        f"{' --quick' if tour.quick else ''} --seed {tour.seed} --backend {esc(tour.backend)}"
        f"</code>.</p>",
        "<table class='toc'>",
    ]
    for cid, (ok, _) in verdicts.items():
        mark = "<span class='ok'>✓</span>" if ok else "<span class='bad'>✗</span>"
        parts.append(
            f"<tr><td>{mark}</td><td><a href='#{cid}'>{cid}</a></td>"
            f"<td>{esc(CLAIMS[cid])}</td></tr>"
        )
    parts.append("</table>")
    for cid, result in tour.results.items():
        ok, summary = verdicts[cid]
        prose, command = PROSE[cid]
        cls, word = ("ok", "Shown") if ok else ("bad", "NOT shown")
        parts += [
            f"<section id='{cid}'><h2>{cid}. {esc(CLAIMS[cid])}</h2>",
            f"<p>{esc(prose)}</p>",
            f"<p><span class='{cls}'>{word}:</span> {esc(summary)}. "
            f"<small>({tour.seconds.get(cid, 0):.1f} s; on its own: "
            f"<code>{esc(command)}</code>)</small></p>",
            f"<pre>{esc(evidence_text(cid, result))}</pre>",
        ]
        for path, caption in figures.get(cid, []):
            parts.append(f"<figure>{_img(path)}<figcaption>{esc(caption)}</figcaption></figure>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(tour, out_dir) -> ReportFiles:
    """Write the figures, ``report.html`` and ``results.json`` into ``out_dir``."""
    from .tour import tour_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures = make_figures(tour, out)
    page = render_html(tour, figures)
    data = tour_json(tour)
    data["figures"] = {cid: [p.name for p, _ in items] for cid, items in figures.items()}
    json_path, html_path = out / "results.json", out / "report.html"
    _write_atomic(json_path, json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))
    _write_atomic(html_path, page.encode("utf-8"))
    return ReportFiles(html_path, json_path, figures)


__all__ = ["PROSE", "ReportFiles", "evidence_text", "make_figures", "render_html", "write_report"]
