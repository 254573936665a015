"""The lecture's views of the network: the math at a point, one SGD step, ε of a construction.

Every number here comes from mlplab: ``MLP.forward`` (every layer's ``x, z, a``),
``MLP.gradients`` (the loss, the gradients and every neuron's blame δ),
``mlplab.SGD`` (the update), :mod:`mlplab.theory.approx` (the constructive network).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

import mlplab as ml

from . import _engine
from . import data as pdata
from .frames import probabilities, targets
from .protocol import CommandError, Message

if TYPE_CHECKING:
    from mlplab.nn.mlp import Array

    from .session import Session


def _floats(a: Array) -> list[Any]:
    out: list[Any] = np.asarray(ml.to_numpy(a), dtype=np.float64).tolist()
    return out


def inspect(session: Session, x1: float, x2: float, layer: int, neuron: int) -> Message:
    """σ(b + w·x) of one neuron at the point (x1, x2), with every number in it."""
    model = session.model
    if not 1 <= layer <= model.depth or neuron >= model.sizes[layer]:
        raise CommandError(
            f"there is no neuron {neuron} in layer {layer}; the network's sizes are {model.sizes}."
        )
    x = pdata.features(np.array([[x1, x2]]), session.settings["features"])
    _, caches = model.forward(x)
    cache = caches[layer - 1]
    b, W = model.numpy_params()[layer - 1]
    return {
        "type": "inspect",
        "layer": layer,
        "neuron": neuron,
        "point": [x1, x2],
        "activation": model.activations[layer - 1].name,
        "b": float(b[neuron]),
        "w": W[neuron].tolist(),
        "x": _floats(cache.x)[0],
        "z": _floats(cache.z)[0][neuron],
        "a": _floats(cache.a)[0][neuron],
    }


def step_detail(session: Session, index: int) -> Message:
    """One SGD step on one training sample, in stages: forward, blame δ, updates."""
    n = len(session.X_train)
    if n == 0:
        raise CommandError("there are no training points; add some or raise the train ratio.")
    k = index % n
    x = session.X_train[k : k + 1]
    y = targets(session.problem, session.ys["train"][k : k + 1], session.loss)
    model, lr = session.model, session.settings["lr"]
    loss, back = model.gradients(x, y, session.loss)
    _, caches = model.forward(x)
    layers = []
    for cache, (gb, gW), delta in zip(caches, back.grads, back.deltas, strict=True):
        layers.append(
            {
                "z": _floats(cache.z)[0],
                "a": _floats(cache.a)[0],
                "delta": _floats(delta)[0],
                "grad_b": _floats(gb),
                "grad_W": _floats(gW),
                "update_b": (-lr * np.asarray(_floats(gb))).tolist(),
                "update_W": (-lr * np.asarray(_floats(gW))).tolist(),
            }
        )
    session.step_cache = back.grads
    return {
        "type": "stepmode",
        "index": k,
        "point": session.points[session.train_idx[k]].tolist(),
        "input": x[0].tolist(),
        "target": np.asarray(y, dtype=np.float64).ravel().tolist(),
        "loss_name": session.loss,
        "loss": loss,
        "lr": lr,
        "layers": layers,
    }


def step_apply(session: Session) -> None:
    """Apply the step shown by :func:`step_detail`: ``θ ← θ − lr · ∇θ L`` (mlplab.SGD)."""
    if session.step_cache is None:
        raise CommandError("show a step first (Step mode → forward), then apply it.")
    params, _ = ml.SGD().update(
        session.model.params, session.step_cache, {}, session.settings["lr"], 1
    )
    session._set_params([(ml.to_numpy(b), ml.to_numpy(W)) for b, W in params])


TRAIN_EPOCHS = 1500


def approximation(target: str, n: int) -> Message:
    """L10: the N-step Heaviside network for g, its ε = max|g − f|, and a trained tanh MLP."""
    t = _engine.get_target(target)
    net = _engine.heaviside_network(t, n)
    eps, _ = _engine.max_error(net, t)
    x = np.linspace(t.a, t.b, 401)
    xs = np.linspace(t.a, t.b, 256)
    width = min(n, 64)
    mlp = ml.MLP(1, [width], 1, activation="tanh", seed=0, dtype="float64")
    ml.fit(mlp, xs[:, None], t(xs)[:, None], loss="mse", lr=0.01, epochs=TRAIN_EPOCHS, verbose=0)
    trained_eps, _ = _engine.max_error(mlp, t)
    b1, _ = net.numpy_params()[0]
    f = np.asarray(net.predict(x[:, None]))[:, 0]
    trained_f = np.asarray(mlp.predict(x[:, None]))[:, 0]
    return {
        "type": "plot1d",
        "id": "approx",
        "title": f"L10: {t.description} with N = {n} Heaviside steps",
        "x": x.tolist(),
        "series": [
            {"name": "g (target)", "y": t(x).tolist(), "color": "#222"},
            {"name": f"f: {n} steps", "y": f.tolist(), "color": "#e8710a"},
            {"name": f"trained tanh 1-{width}-1", "y": trained_f.tolist(), "color": "#1a73e8"},
        ],
        "lines": [
            f"ε = max|g − f| = {eps:.4g} with N = {n} steps (thresholds s_j = {-b1[0]:.3g}, …).",
            "The bound L(b − a)/(2N) shrinks like 1/N: double N, halve ε.",
            f"The same target trained: a tanh MLP with {width} hidden neurons, "
            f"{TRAIN_EPOCHS} epochs of Adam: ε = {trained_eps:.4g}.",
        ],
        "eps": eps,
        "trained_eps": trained_eps,
    }


def extrapolation() -> Message:
    """L3: the cubic's 8 samples, polynomials and a tanh MLP, zoomed out to [−5, 5]."""
    res = _engine.extrapolation(degrees=(3,))
    colors = ["#222", "#e8710a", "#d93025", "#a142f4", "#1a73e8"]
    series = [
        {"name": name, "y": np.clip(values, -60, 60).tolist(), "color": colors[i % len(colors)]}
        for i, (name, values) in enumerate(res.predictions.items())
    ]
    lines = [f"{name}: f(−5) = {lo:.3g}, f(5) = {hi:.3g}" for name, (lo, hi) in res.at_ends.items()]
    lines.append(
        f"The tanh MLP is bounded everywhere: |f(x)| ≤ |b₂| + Σ|W₂| = {res.mlp_bound:.3g}; "
        "every polynomial of degree ≥ 1 leaves for ±∞ (the plot clips at ±60)."
    )
    return {
        "type": "plot1d",
        "id": "extrapolation",
        "title": "L3: the cubic's samples on [0, 1.75], seen on [−5, 5]",
        "x": res.x.tolist(),
        "series": series,
        "points": [[float(a), float(b)] for a, b in zip(res.x_train, res.y_train, strict=True)],
        "ylim": [-60, 60],
        "lines": lines,
    }


_SYMBOL = {"heaviside": "H", "identity": "", "sigmoid": "σ", "tanh": "tanh", "relu": "ReLU"}


def _sum_text(b: float, w: NDArray[np.float64], x: NDArray[np.float64]) -> str:
    text = f"{b:g}"
    for wi, xi in zip(w, x, strict=True):
        text += f" {'−' if wi < 0 else '+'} {abs(wi):g}·{xi:g}"
    return text.replace("-", "−")


def _neuron_text(
    act: str, b: float, w: NDArray[np.float64], x: NDArray[np.float64], z: float, a: float
) -> str:
    if act == "identity":
        return f"{_sum_text(b, w, x)} = {a:g}".replace("-", "−")
    f = _SYMBOL.get(act, act)
    return f"{f}({_sum_text(b, w, x)}) = {f}({z:g}) = {a:g}".replace("-", "−")


def truth_table(session: Session) -> list[Message]:
    """Every point of a gate preset with the arithmetic of each neuron, live."""
    model = session.model
    x = pdata.features(session.points, session.settings["features"])
    _, caches = model.forward(x)
    params = model.numpy_params()
    out_act = session.settings["output_activation"]
    last = np.asarray(ml.to_numpy(caches[-1].a), dtype=np.float64)
    proba = probabilities(session.problem, out_act, last)  # P(class 1) is what the page shows
    rows = []
    for r in range(len(x)):
        steps = []
        for cache, (b, W), act in zip(caches, params, model.activations, strict=True):
            xin, z, a = (np.asarray(ml.to_numpy(v), dtype=np.float64)[r] for v in cache)
            steps.append(
                [_neuron_text(act.name, b[j], W[j], xin, z[j], a[j]) for j in range(len(b))]
            )
        out = float(proba[r, 1])
        rows.append(
            {
                "x": session.points[r].tolist(),
                "label": int(session.labels[r]),
                "output": out,
                "steps": steps,
            }
        )
    return rows
