"""Lecture commands: the tour and each experiment on its own.

(Until the full tour lands, ``mlplab tour`` runs a short end-to-end demo: the
lecture's gates and XOR network, and an MLP trained on XOR on every backend.)
"""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "tour",
        help="reproduce the lecture's claims",
        description="Reproduce the lecture's claims.",
        epilog="Example: mlplab tour --quick",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", default="tour-out", help="folder for the report (default tour-out)")
    p.add_argument("--backend", default="numpy", choices=["numpy", "torch", "jax"])
    p.add_argument("--quick", action="store_true", help="a faster, smaller run")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run_tour)


def run_tour(args) -> int:
    import numpy as np

    import mlplab as ml
    from mlplab.gates import TRUTH_INPUTS, TRUTH_TABLES

    X = TRUTH_INPUTS
    for name in ("and", "or", "xor"):
        out = ml.to_numpy(ml.gate(name)(X)).ravel().astype(int)
        print(f"{name.upper():>4}: {out.tolist()}  (expected {TRUTH_TABLES[name].tolist()})")
    y = TRUTH_TABLES["xor"]
    for backend in ml.available_backends():
        net = ml.MLP(2, [8], 1, activation="tanh", seed=args.seed, backend=backend)
        hist = ml.fit(net, X, y, optimizer="sgd", lr=0.5, steps=2000, verbose=0)
        pred = net.predict_class(X)
        print(
            f"XOR learned by a 2-8-1 tanh MLP on {backend:>5}: predictions {pred.tolist()}, "
            f"final loss {hist.train_loss[-1]:.5f}, accuracy {np.mean(pred == y):.0%}"
        )
    return 0
