"""Lecture commands: the tour (every claim L1–L13) and each experiment on its own.

``mlplab tour`` runs :func:`mlplab.lecture.tour.run_tour`, prints each claim's
section as it is computed and writes ``DIR/report.html``, the PNG figures and
``DIR/results.json``. The other commands run one experiment each. Handlers
import the library (and through it NumPy, SciPy, matplotlib, frameworks) only
when they run.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from .main import Subparsers

BACKENDS = ("numpy", "torch", "jax")


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 2,4,8; got {text!r}"
        ) from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers; got {text!r}")
    return values


def _interval(text: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected two numbers a,b such as -1,1; got {text!r}"
        ) from None
    if not a < b:
        raise argparse.ArgumentTypeError(f"expected a < b; got {text!r}")
    return a, b


def _gates(text: str) -> list[str]:
    names = [g.strip().lower() for g in text.split(",") if g.strip()]
    known = ("and", "or", "nand", "nor", "xor")
    bad = [g for g in names if g not in known]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown gate(s) {bad or text!r}; known: {', '.join(known)}"
        )
    return names


def _parser(
    sub: Subparsers, name: str, help: str, example: str, description: str = ""
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help,
        description=description or (help[0].upper() + help[1:] + "."),
        epilog=example,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _seed(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def register(sub: Subparsers) -> None:
    """Add ``tour`` and the single-experiment commands."""
    p = _parser(
        sub,
        "tour",
        "reproduce every claim of the lecture (L1–L13) and write an HTML report",
        "Examples:\n  mlplab tour --quick\n  mlplab tour --out tour-out --backend torch\n"
        "  mlplab tour --only L5,L6,L9",
        "Reproduce every claim of the lecture, L1–L13: print each as a section here and "
        "write DIR/report.html (one self-contained page), the PNG figures and "
        "DIR/results.json.",
    )
    p.add_argument(
        "--out", default="tour-out", metavar="DIR", help="output folder (default tour-out)"
    )
    p.add_argument(
        "--backend",
        default="numpy",
        choices=BACKENDS,
        help="backend for the trained models (L12 always uses every installed one)",
    )
    p.add_argument("--quick", action="store_true", help="smaller, faster run (under a minute)")
    p.add_argument(
        "--only",
        type=lambda s: [c.strip() for c in s.split(",") if c.strip()],
        metavar="L1,L2,…",
        help="run only these claims",
    )
    _seed(p)
    p.set_defaults(func=run_tour)

    p = _parser(
        sub,
        "gates",
        "truth tables of the lecture's one-neuron gates, with arithmetic",
        "Example:\n  mlplab gates --gate and,or,nand,nor",
    )
    p.add_argument("--gate", type=_gates, default=["and", "or"], help="gates (default and,or)")
    p.set_defaults(func=run_gates)

    p = _parser(
        sub,
        "xor-proof",
        "prove by linear programming which gates one neuron can compute (XOR: no)",
        "Examples:\n  mlplab xor-proof\n  mlplab xor-proof --gate xor",
    )
    p.add_argument(
        "--gate",
        type=_gates,
        default=["and", "or", "nand", "nor", "xor"],
        help="gates to decide (default all five)",
    )
    p.set_defaults(func=run_xor_proof)

    p = _parser(
        sub,
        "perceptron",
        "Rosenblatt's learning rule on the gates (cycles on XOR)",
        "Example:\n  mlplab perceptron --gate and,or,xor --max-epochs 100",
    )
    p.add_argument("--gate", type=_gates, default=["and", "or", "xor"], help="gates")
    p.add_argument("--lr", type=float, default=1.0, help="learning rate η (default 1)")
    p.add_argument("--max-epochs", type=int, default=1000, help="epoch cap (default 1000)")
    p.set_defaults(func=run_perceptron)

    p = _parser(
        sub,
        "xor",
        "the lecture's 2-2-1 XOR network with its hidden OR and AND",
        "Example:\n  mlplab xor",
    )
    p.set_defaults(func=run_xor)

    p = _parser(
        sub,
        "approx",
        "universal approximation: exact step networks and trained MLPs",
        "Examples:\n  mlplab approx --target sin\n  mlplab approx --target cubic --steps 4,16,64\n"
        "  mlplab approx --target 'sin(3*x) + x/2' --interval=-2,2 --trained --out approx.png",
        "Universal approximation (L10). TARGET is a preset (sin, cubic, abs, step, bump) or an "
        "expression of x using numbers, + - * / ** %, pi, e and functions such as sin, exp, "
        "abs, sqrt (parsed safely, never evaluated as Python).",
    )
    p.add_argument("--target", default="sin", help="preset or expression of x (default sin)")
    p.add_argument("--interval", type=_interval, help="a,b (default: the preset's, or -1,1)")
    p.add_argument("--steps", type=_ints, default=None, help="widths N (default 2,4,8,…,256)")
    p.add_argument("--slope", type=float, default=20.0, help="sigmoid steepness k·h (default 20)")
    p.add_argument("--trained", action="store_true", help="also train tanh/ReLU MLPs")
    p.add_argument("--widths", type=_ints, default=[2, 4, 8, 16, 32, 64], help="trained widths")
    p.add_argument("--epochs", type=int, default=2000, help="training epochs (default 2000)")
    p.add_argument("--backend", default="numpy", choices=BACKENDS)
    p.add_argument("--out", metavar="PNG", help="write the error-vs-width figure here")
    _seed(p)
    p.set_defaults(func=run_approx)

    p = _parser(
        sub,
        "poly",
        "columns, memory and cost of polynomial regression (exact)",
        "Examples:\n  mlplab poly --inputs 65536 --degree 3\n"
        "  mlplab poly --inputs 2,784,65536 --degree 1,2,3,4 --samples 60000",
    )
    p.add_argument("--inputs", type=_ints, default=[2, 784, 65536], help="d values")
    p.add_argument("--degree", type=_ints, default=[1, 2, 3], help="m values")
    p.add_argument("--samples", type=int, default=1000, help="rows n of the design matrix")
    p.set_defaults(func=run_poly)

    p = _parser(
        sub,
        "extrapolate",
        "polynomials vs a tanh MLP outside the data (the cubic)",
        "Example:\n  mlplab extrapolate --degrees 1,3,7 --out extrapolate.png",
    )
    p.add_argument("--degrees", type=_ints, default=[1, 2, 3, 5, 7], help="polynomial degrees")
    p.add_argument("--hidden", type=int, default=16, help="MLP hidden width (default 16)")
    p.add_argument("--epochs", type=int, default=3000, help="MLP training epochs")
    p.add_argument("--backend", default="numpy", choices=BACKENDS)
    p.add_argument("--out", metavar="PNG", help="write the figure here")
    _seed(p)
    p.set_defaults(func=run_extrapolate)

    p = _parser(
        sub,
        "backprop",
        "one gradient-descent step with every delta and gradient shown",
        "Example:\n  mlplab backprop --lr 0.5",
    )
    p.add_argument("--lr", type=float, default=0.5, help="learning rate η (default 0.5)")
    _seed(p)
    p.set_defaults(func=run_backprop)

    p = _parser(
        sub,
        "gradcheck",
        "explicit backprop vs finite differences and torch/jax autodiff, as a table",
        "Example:\n  mlplab gradcheck --sizes 3,5,4,2 --activation relu "
        "--loss softmax_cross_entropy",
    )
    p.add_argument("--sizes", type=_ints, default=[3, 5, 4, 2], help="layer sizes")
    p.add_argument("--activation", default="tanh", choices=["tanh", "sigmoid", "relu"])
    p.add_argument("--loss", default="mse", choices=["mse", "softmax_cross_entropy"])
    p.add_argument("--batch", type=int, default=6, help="batch size (default 6)")
    _seed(p)
    p.set_defaults(func=run_gradcheck)

    for name, what in (("digits", "scikit-learn's 8×8 digits"), ("mnist1d", "MNIST-1D")):
        p = _parser(
            sub,
            name,
            f"train the lecture's MLP on {what} beside logistic regression",
            f"Example:\n  mlplab {name} --out {name}-out",
        )
        p.add_argument("--quick", action="store_true", help="fewer epochs")
        p.add_argument("--epochs", type=int, help="override the number of epochs")
        p.add_argument("--backend", default="numpy", choices=BACKENDS)
        p.add_argument("--out", metavar="DIR", help="write the confusion-matrix PNG here")
        _seed(p)
        p.set_defaults(func=run_images, dataset=name)


# --- handlers ---------------------------------------------------------------------------------


def _console() -> Console:
    from mlplab.lecture.text import console

    return console()


def run_tour(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlplab.errors import ConfigError
    from mlplab.lecture.report import write_report
    from mlplab.lecture.text import render
    from mlplab.lecture.tour import run_tour as tour

    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise ConfigError(f"--out {args.out!r} is a file; the tour writes a folder there.")
    con = _console()
    mode = "quick" if args.quick else "full"
    con.print(f"[bold]mlplab tour[/bold] ({mode} run, seed {args.seed}, backend {args.backend})")
    result = tour(
        quick=args.quick,
        seed=args.seed,
        backend=args.backend,
        claims=args.only,
        on_result=lambda cid, r, s: render(con, cid, r, s),
    )
    files = write_report(result, args.out)
    statuses = result.statuses()
    shown = [c for c, (st, _) in statuses.items() if st == "shown"]
    missing = [c for c, (st, _) in statuses.items() if st == "NOT shown"]
    not_run = [c for c, (st, _) in statuses.items() if st == "not run"]
    n_figs = sum(len(v) for v in files.figures.values())
    con.rule()
    con.print(
        f"{len(shown)}/{len(statuses)} claims shown"
        + (f"; NOT shown: {', '.join(missing)}" if missing else "")
        + (f"; not run: {', '.join(not_run)} (install mlplab\\[torch,jax])" if not_run else "")
        + "."
    )
    con.print(
        f"report: {files.html}\nresults: {files.json}\nfigures: {n_figs} PNG files in {args.out}"
    )
    return 0 if not missing else 1


def run_gates(args: argparse.Namespace) -> int:
    from mlplab.lecture.neurons import gate_table, xor_network_table
    from mlplab.lecture.text import show_gate, show_xor_network

    con = _console()
    for name in args.gate:
        if name == "xor":
            con.print("XOR needs two layers (see `mlplab xor-proof`); the lecture's network:")
            show_xor_network(con, xor_network_table())
        else:
            show_gate(con, gate_table(name))
    return 0


def run_xor_proof(args: argparse.Namespace) -> int:
    from mlplab.lecture.text import show_separability
    from mlplab.theory.separability import check_gate

    show_separability(_console(), {g: check_gate(g) for g in args.gate})
    return 0


def run_perceptron(args: argparse.Namespace) -> int:
    from mlplab.lecture.text import show_perceptron
    from mlplab.theory.perceptron import train_gate

    results = {g: train_gate(g, lr=args.lr, max_epochs=args.max_epochs) for g in args.gate}
    show_perceptron(_console(), results)
    return 0


def run_xor(args: argparse.Namespace) -> int:
    from mlplab.lecture.neurons import xor_network_table
    from mlplab.lecture.text import show_xor_network

    r = xor_network_table()
    show_xor_network(_console(), r)
    return 0 if r.correct else 1


def run_approx(args: argparse.Namespace) -> int:
    from mlplab.lecture.text import show_constructive, show_trained
    from mlplab.theory.approx import DEFAULT_STEPS, constructive, get_target, trained

    con = _console()
    target = get_target(args.target, args.interval)
    c = constructive(target, args.steps or DEFAULT_STEPS, slope=args.slope)
    show_constructive(con, c)
    series = {"Heaviside": (c.steps, c.heaviside_max), "steep sigmoid": (c.steps, c.sigmoid_max)}
    if args.trained:
        t = trained(target, args.widths, epochs=args.epochs, seed=args.seed, backend=args.backend)
        show_trained(con, t)
        series.update({f"trained {a}": (t.widths, t.max_error[a]) for a in t.activations})
    if args.out:
        from mlplab.plots import plot_error_vs_width

        path = plot_error_vs_width(series, args.out, title=f"max |g − f| for {target.expression}")
        con.print(f"figure: {path}")
    return 0


def run_poly(args: argparse.Namespace) -> int:
    from mlplab.backend.memory import available_memory, format_bytes
    from mlplab.lecture.text import poly_table
    from mlplab.theory.linear import poly_cost

    con = _console()
    costs = [poly_cost(d, m, args.samples) for d in args.inputs for m in args.degree]
    poly_table(con, costs, args.samples)
    free = available_memory()
    for c in costs:
        fits = "fits" if c.design_bytes <= free else "does NOT fit"
        con.print(
            f"d = {c.d:,}, m = {c.m}: C({c.d}+{c.m}, {c.m}) = {c.columns:,} columns; the "
            f"{args.samples:,}-row design matrix ({format_bytes(c.design_bytes)}) {fits} in "
            f"the {format_bytes(free)} available."
        )
    return 0


def run_extrapolate(args: argparse.Namespace) -> int:
    from mlplab.lecture.regression import extrapolation
    from mlplab.lecture.text import show_extrapolation

    con = _console()
    r = extrapolation(
        args.degrees, hidden=args.hidden, epochs=args.epochs, seed=args.seed, backend=args.backend
    )
    show_extrapolation(con, r)
    if args.out:
        from mlplab.plots import plot_extrapolation

        path = plot_extrapolation(r, args.out, title="fitted on [0, 1.75]")
        con.print(f"figure: {path}")
    return 0


def run_backprop(args: argparse.Namespace) -> int:
    from mlplab.errors import check_number
    from mlplab.lecture.backprop import backprop_step
    from mlplab.lecture.text import show_backprop

    check_number("lr", args.lr, gt=0, hint="Pass a positive learning rate such as --lr 0.5.")
    show_backprop(_console(), backprop_step(lr=args.lr, seed=args.seed))
    return 0


def run_gradcheck(args: argparse.Namespace) -> int:
    from mlplab.errors import ConfigError
    from mlplab.lecture.backprop import gradient_check
    from mlplab.lecture.text import show_gradcheck

    if len(args.sizes) < 2:
        raise ConfigError(
            f"--sizes needs at least two layer sizes (inputs, outputs); got {args.sizes}."
        )
    if args.loss == "softmax_cross_entropy" and args.sizes[-1] < 2:
        raise ConfigError(
            "softmax cross-entropy needs at least 2 outputs; end --sizes with 2 or more."
        )
    g = gradient_check(args.sizes, args.activation, args.loss, batch=args.batch, seed=args.seed)
    show_gradcheck(_console(), g)
    ok = g.max_fd_rel_err < 1e-4 and g.max_autodiff_abs_err < 1e-8
    _console().print(
        f"{'PASS' if ok else 'FAIL'}: worst relative error vs finite differences "
        f"{g.max_fd_rel_err:.1e}, worst difference vs autodiff "
        f"{g.max_autodiff_abs_err:.1e}"
    )
    return 0 if ok else 1


def run_images(args: argparse.Namespace) -> int:
    from mlplab.lecture.images import train_images
    from mlplab.lecture.text import show_images

    con = _console()
    r = train_images(
        args.dataset, quick=args.quick, epochs=args.epochs, seed=args.seed, backend=args.backend
    )
    show_images(con, r)
    if args.out:
        from pathlib import Path

        from mlplab.plots import plot_confusion_matrix

        path = plot_confusion_matrix(
            r.confusion,
            Path(args.out) / f"{args.dataset}_confusion.png",
            title=f"{args.dataset}: accuracy {r.test_accuracy:.1%}",
        )
        con.print(f"figure: {path}")
    return 0 if r.meets_threshold else 1
