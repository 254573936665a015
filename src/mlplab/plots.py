"""Matplotlib figures for training runs and the lecture tour.

Every figure has a title, labelled axes (with units where they exist) and a
legend or colour bar. Figures are drawn with the non-interactive Agg backend
(matplotlib is imported only when a figure is drawn) and written through
the one atomic writer (:mod:`mlplab.files.atomic`: a temporary file next to
``path``, ``fsync``-ed and renamed into place), so a failed plot never leaves a
half-written PNG. Each function returns the path written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import DataError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .lecture.regression import ExtrapolationResult
    from .train.state import History

#: Where a figure is written.
PathArg = str | os.PathLike[str]


def _pyplot() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Figure, path: PathArg) -> Path:
    """Write ``fig`` as a PNG to ``path`` atomically (:mod:`mlplab.files.atomic`) and close it."""
    from .files.atomic import atomic_writer

    plt = _pyplot()
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(out) as f:
            fig.savefig(f, format="png", dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)
    return out


def _history_dict(history: History | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(history, dict):
        return history
    if hasattr(history, "as_dict"):
        d: dict[str, Any] = history.as_dict()
        return d
    raise DataError(f"`history` must be a History or a dict; got {type(history).__name__}.")


# --- training ----------------------------------------------------------------


def plot_loss_curve(
    history: History | Mapping[str, Any], path: PathArg, title: str | None = None
) -> Path:
    """Training (and validation) loss per epoch.

    Args:
        history: a :class:`~mlplab.train.state.History` or its ``as_dict()``.
        path: the PNG to write.
        title: figure title (default "Loss curve (<loss>)").
    """
    h = _history_dict(history)
    train = np.asarray(h.get("train_loss", []), dtype=np.float64)
    if train.size == 0:
        raise DataError("`history` has no training losses to plot; train for at least one epoch.")
    epochs = np.asarray(h.get("epoch") or np.arange(1, train.size + 1))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, train, label="training loss")
    val = np.asarray(h.get("val_loss", []), dtype=np.float64)
    if val.size:
        ax.plot(epochs[: val.size], val, label="validation loss")
    if h.get("best_epoch"):
        ax.axvline(h["best_epoch"], color="grey", linestyle=":", label="best epoch")
    if np.all(train > 0) and (val.size == 0 or np.all(val > 0)):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"loss ({h.get('loss', 'loss')})")
    ax.set_title(title or f"Loss curve ({h.get('loss', 'loss')})")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_decision_boundary(
    model: Any,
    X: ArrayLike,
    y: ArrayLike,
    path: PathArg,
    title: str | None = None,
    *,
    transform: Callable[[NDArray[np.float64]], Any] | None = None,
    resolution: int = 200,
) -> Path:
    """Predicted class over the plane, with the training points coloured by class.

    Args:
        model: a classifier with ``predict_class`` (an :class:`~mlplab.nn.mlp.MLP`).
        X: `(n, 2)` raw 2-D inputs.
        y: `(n,)` integer class labels.
        path: the PNG to write.
        title: figure title.
        transform: applied to the `(m, 2)` grid points before the model (e.g.
            the standardisation the model was trained with); ``None``: none.
        resolution: grid points per axis.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).ravel()
    if X.ndim != 2 or X.shape[1] != 2:
        raise DataError(f"a decision boundary needs 2-D inputs (n, 2); got shape {tuple(X.shape)}.")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    g0 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    g1 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    G0, G1 = np.meshgrid(g0, g1)
    grid = np.column_stack([G0.ravel(), G1.ravel()])  # (resolution², 2)
    inputs = transform(grid) if transform is not None else grid
    Z = np.asarray(model.predict_class(inputs)).reshape(G0.shape)
    classes = np.unique(np.concatenate([np.unique(y), np.unique(Z)]))
    plt = _pyplot()
    cmap = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(5.5, 5))
    levels = np.arange(classes.max() + 2) - 0.5
    ax.contourf(G0, G1, Z, levels=levels, cmap=cmap, vmin=-0.5, vmax=9.5, alpha=0.25)
    for c in np.unique(y):
        m = y == c
        ax.scatter(
            X[m, 0],
            X[m, 1],
            s=18,
            color=cmap(int(c) % 10),
            edgecolor="k",
            lw=0.4,
            label=f"class {c}",
        )
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(title or "Decision boundary")
    ax.legend(loc="best", fontsize="small")
    return _save(fig, path)


def plot_confusion_matrix(
    C: ArrayLike, path: PathArg, class_names: Sequence[str] | None = None, title: str | None = None
) -> Path:
    """A confusion matrix ``C[i, j]`` = samples of true class i predicted as j, with counts."""
    C = np.asarray(C)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise DataError(f"`C` must be a square matrix; got shape {tuple(C.shape)}.")
    k = C.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    if len(names) != k:
        raise DataError(f"`class_names` has {len(names)} names for {k} classes.")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * k, 0.8 + 0.5 * k))
    im = ax.imshow(C, cmap="Blues")
    fig.colorbar(im, ax=ax, label="number of samples")
    for i in range(k):
        for j in range(k):
            color = "white" if C[i, j] > C.max() / 2 else "black"
            ax.text(j, i, str(C[i, j]), ha="center", va="center", color=color, fontsize=8)
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    acc = np.trace(C) / max(C.sum(), 1)
    ax.set_title(title or f"Confusion matrix (accuracy {acc:.1%})")
    return _save(fig, path)


# --- the tour ------------------------------------------------------------------


def plot_curves(
    x: ArrayLike,
    curves: Mapping[str, ArrayLike],
    path: PathArg,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    points: tuple[ArrayLike, ArrayLike, str] | None = None,
    ylim: tuple[float, float] | None = None,
    shade: tuple[float, float, str] | None = None,
) -> Path:
    """Several named curves over the same ``x`` (e.g. fits evaluated on a wide interval).

    Args:
        x: `(m,)` abscissae.
        curves: ``{label: (m,) values}``, drawn in order.
        points: optional ``(x_samples, y_samples, label)`` drawn as markers.
        ylim: y-axis limits (curves beyond them are clipped by the axes).
        shade: optional ``(lo, hi, label)`` x-interval to shade (e.g. the training support).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, values in curves.items():
        style = "k--" if label.startswith("target") else "-"
        ax.plot(x, np.asarray(values, dtype=np.float64), style, label=label, lw=1.6)
    if points is not None:
        ax.plot(points[0], points[1], "o", color="black", ms=5, label=points[2])
    if shade is not None:
        ax.axvspan(shade[0], shade[1], color="gold", alpha=0.25, label=shade[2])
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small", loc="best")
    ax.grid(alpha=0.3)
    return _save(fig, path)


# colour-blind-safe (Okabe-Ito), readable on the white card the report puts figures on
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]


def plot_extrapolation(
    result: ExtrapolationResult, path: PathArg, *, title: str, samples: str = "samples"
) -> Path:
    """L3's figure for one target: fits of 8 samples on [0, 1.75], drawn far beyond them.

    ``result`` is an :class:`~mlplab.lecture.regression.ExtrapolationResult`
    (``x``, ``predictions``, ``x_train``, ``y_train``).
    """
    return plot_extrapolation_panels({title: result}, path, samples=samples)


def plot_extrapolation_panels(
    results: Mapping[str, ExtrapolationResult],
    path: PathArg,
    *,
    samples: str = "samples",
    keep: Sequence[str] | None = None,
) -> Path:
    """L3: one panel per target (``{title: ExtrapolationResult}``), the fits beyond the data.

    ``keep``: the prediction names to draw (default all); the y-axis is cut at
    four times the data's range so the curves that run away leave the frame.
    """
    plt = _pyplot()
    n = len(results)
    fig, axes = plt.subplots(1, n, figsize=(6.2 * n, 4.6), squeeze=False, layout="constrained")
    for ax, (title, r) in zip(axes[0], results.items(), strict=True):
        span = float(np.ptp(r.y_train)) or 1.0
        mid = float(np.mean(r.y_train))
        k = 0
        for label, values in r.predictions.items():
            if keep is not None and label not in keep and not label.startswith("target"):
                continue
            style: dict[str, Any] = dict(color="0.2", ls=(0, (4, 3)), lw=2.0, zorder=4)  # truth
            if not label.startswith("target"):
                style = dict(color=PALETTE[k % len(PALETTE)], lw=2.2, zorder=2)
                k += 1
            ax.plot(r.x, np.asarray(values, dtype=np.float64), label=label, **style)
        ax.axvspan(
            float(r.x_train[0]),
            float(r.x_train[-1]),
            color="#E69F00",
            alpha=0.18,
            label="the data's range",
            zorder=0,
        )
        ax.plot(r.x_train, r.y_train, "o", color="black", ms=5, label=samples, zorder=3)
        ax.set_ylim(mid - 2.5 * span, mid + 2.5 * span)
        ax.set_xlabel("$x$")
        ax.set_ylabel("$f(x)$")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(
            fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False
        )
    return _save(fig, path)


def plot_error_vs_width(
    series: Mapping[str, tuple[ArrayLike, ArrayLike]],
    path: PathArg,
    *,
    title: str,
    xlabel: str = "N (hidden neurons)",
    reference: bool = True,
) -> Path:
    """max |g − f| against network width on log-log axes, one line per method.

    Args:
        series: ``{label: (widths, errors)}``.
        reference: also draw the slope ``C / N`` through the first series' last point.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    first: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
    for label, (w_in, e_in) in series.items():
        widths, errors = np.asarray(w_in, float), np.asarray(e_in, float)
        ax.loglog(widths, errors, "o-", label=label, ms=4)
        first = first or (widths, errors)
    if reference and first is not None:
        w, e = first
        ax.loglog(w, e[-1] * w[-1] / w, "k:", label="∝ 1/N (reference)")
    if first is not None:  # label the widths themselves, not powers of ten
        from matplotlib.ticker import NullFormatter, ScalarFormatter

        ax.set_xticks(first[0])
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel("max |g(x) − f(x)| on a dense grid")
    ax.set_title(title)
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3, which="both")
    return _save(fig, path)


def plot_separability(
    points: ArrayLike, labels: ArrayLike, theta: ArrayLike | None, path: PathArg, *, title: str
) -> Path:
    """The four truth-table inputs coloured by output, with a separating line if one exists.

    Args:
        points: `(4, 2)` inputs; labels: `(4,)` 0/1 targets.
        theta: `(3,)` separating ``[θ₀, θ₁, θ₂]`` or ``None`` (no line exists).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4, 4.6), layout="constrained")
    _separability_axes(ax, points, labels, theta, title)
    return _save(fig, path)


def plot_separability_panels(
    panels: Sequence[Mapping[str, Any]], path: PathArg, *, note: str | None = None
) -> Path:
    """Several truth tables side by side, each ``dict(points, labels, theta, title)``.

    ``note`` is written under the panels (e.g. why points on the line are 0s).
    """
    plt = _pyplot()
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(3.9 * n, 4.3), squeeze=False, layout="constrained")
    for ax, p in zip(axes[0], panels, strict=True):
        _separability_axes(ax, p["points"], p["labels"], p["theta"], p["title"])
    if note:
        fig.text(0.5, -0.02, note, ha="center", va="top", fontsize=10, wrap=True)
    return _save(fig, path)


def _separability_axes(
    ax: Axes, points: ArrayLike, labels: ArrayLike, theta: ArrayLike | None, title: str
) -> None:
    xy = np.asarray(points, float)
    classes = np.asarray(labels).ravel()
    for v, marker, color in ((0, "o", PALETTE[0]), (1, "s", PALETTE[1])):
        m = classes == v
        ax.scatter(
            xy[m, 0],
            xy[m, 1],
            s=140,
            marker=marker,
            color=color,
            edgecolor="k",
            label=f"output {v}",
            zorder=3,
        )
    xs = np.linspace(-0.5, 1.5, 50)
    if theta is not None:
        t0, t1, t2 = (float(t) for t in np.asarray(theta).ravel())
        if abs(t2) > 1e-12:
            ax.plot(
                xs,
                -(t0 + t1 * xs) / t2,
                "k-",
                label=r"$\theta_0 + \theta_1 x_1 + \theta_2 x_2 = 0$",
            )
        else:
            ax.axvline(-t0 / t1, color="k", label=r"$\theta_0 + \theta_1 x_1 = 0$")
    else:
        ax.plot([], [], " ", label="no separating line exists")
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)


def plot_bars(
    labels: Sequence[str],
    values: Sequence[float],
    path: PathArg,
    *,
    title: str,
    ylabel: str,
    xlabel: str = "model",
    threshold: float | None = None,
    threshold_label: str = "threshold",
) -> Path:
    """A bar chart (e.g. test accuracy per model) with an optional horizontal threshold."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    bars = ax.bar(list(labels), list(values), color=PALETTE[0], label=ylabel)
    for bar, v in zip(bars, values, strict=True):
        ax.text(bar.get_x() + bar.get_width() / 2, v, f"{v:.3g}", ha="center", va="bottom")
    if threshold is not None:
        ax.axhline(threshold, color=PALETTE[1], linestyle="--", label=threshold_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15), frameon=False)
    return _save(fig, path)


def plot_grouped_bars(
    groups: Mapping[str, Mapping[str, float]],
    path: PathArg,
    *,
    title: str,
    ylabel: str,
    xlabel: str,
    thresholds: Mapping[str, float] | None = None,
    percent: bool = True,
) -> Path:
    """Bars grouped by category: ``groups = {group: {series: value}}`` (e.g. data set → model).

    ``thresholds``: ``{group: value}``, drawn as a dashed line over that group's bars.
    """
    plt = _pyplot()
    names = list(groups)
    series = list(dict.fromkeys(k for g in groups.values() for k in g))
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    for j, s in enumerate(series):
        xs = [i + (j - (len(series) - 1) / 2) * width for i in range(len(names))]
        vals = [groups[g].get(s, np.nan) for g in names]
        bars = ax.bar(xs, vals, width * 0.92, color=PALETTE[j % len(PALETTE)], label=s)
        for bar, v in zip(bars, vals, strict=True):  # the value inside the bar, half-way up
            text = f"{v:.1%}" if percent else f"{v:.3g}"
            x_mid = bar.get_x() + bar.get_width() / 2
            ax.text(x_mid, v / 2, text, ha="center", va="center", color="white", weight="bold")
    for i, g in enumerate(names):
        if thresholds and g in thresholds:
            label = "the bar the MLP must clear" if i == 0 else None
            t = thresholds[g]
            ax.hlines(t, i - 0.45, i + 0.45, colors="k", linestyles="--", label=label, zorder=3)
            text = f"≥ {t:.1%}" if percent else f"≥ {t:.3g}"
            ax.text(i + 0.45, t, text, ha="right", va="bottom", fontsize=9)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylim(0, 1.12 if percent else None)
    if percent:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(
        fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False
    )
    return _save(fig, path)


def plot_agreement(
    x: ArrayLike,
    curves: Mapping[str, ArrayLike],
    path: PathArg,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
) -> Path:
    """Runs that should coincide: the curves (dashed, so each shows) and their differences.

    Left, every curve of ``curves = {name: (m,) values}`` in its own dash pattern;
    right, ``|curve − first curve|`` on a log scale (exact zeros drawn at the bottom).
    """
    plt = _pyplot()
    fig, (ax, dx) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    names = list(curves)
    ref = np.asarray(curves[names[0]], dtype=np.float64)
    dashes = ["-", (0, (6, 3)), (0, (1, 2)), (0, (3, 2, 1, 2))]
    for k, name in enumerate(names):
        v = np.asarray(curves[name], dtype=np.float64)
        ax.plot(x, v, ls=dashes[k % len(dashes)], lw=2.6 - 0.6 * k, color=PALETTE[k], label=name)
        if k:
            diff = np.abs(v - ref)
            floor = 1e-18
            dx.semilogy(
                x,
                np.maximum(diff, floor),
                "o-",
                ms=3,
                lw=1,
                color=PALETTE[k],
                label=f"|{name} − {names[0]}|",
            )
    dx.axhline(np.finfo(np.float64).eps, color="0.4", ls=":", label="float64 rounding (2.2e−16)")
    dx.set_ylim(1e-18, 1e-6)
    from matplotlib.ticker import MaxNLocator

    for a in (ax, dx):
        a.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs
        a.set_xlabel(xlabel)
        a.grid(alpha=0.3)
        a.legend(fontsize="small")
    ax.set_ylabel(ylabel)
    dx.set_ylabel("difference (values below 1e−18 drawn at 1e−18)")
    ax.set_title(title)
    dx.set_title(f"differences from {names[0]}")
    return _save(fig, path)


def plot_blame(
    deltas: Sequence[ArrayLike],
    path: PathArg,
    *,
    title: str,
    row_labels: Sequence[str] | None = None,
) -> Path:
    """Per-layer deltas (blame per neuron and example) as heat maps, one panel per layer.

    Args:
        deltas: per layer, `(batch, d_ℓ)` arrays ``δ_ℓ = ∂L/∂z_ℓ``.
        row_labels: a name per example (e.g. its input), default its index.
    """
    plt = _pyplot()
    n = len(deltas)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n + 1, 3.8), squeeze=False, layout="constrained")
    for i, (ax, delta) in enumerate(zip(axes[0], deltas, strict=True)):
        d = np.asarray(delta, float)
        lim = max(np.abs(d).max(), 1e-12)
        im = ax.imshow(d, cmap="coolwarm", vmin=-lim, vmax=lim, aspect="auto")
        fig.colorbar(im, ax=ax, label=f"δ{i + 1} = ∂L/∂z{i + 1}")
        ax.set_xticks(range(d.shape[1]), [str(j + 1) for j in range(d.shape[1])])
        labels = list(row_labels) if row_labels is not None else [str(r) for r in range(len(d))]
        ax.set_yticks(range(d.shape[0]), labels)
        ax.set_title(f"layer {i + 1}")
        ax.set_xlabel("neuron")
        ax.set_ylabel("example (input x)" if row_labels is not None else "example")
    fig.suptitle(title)
    return _save(fig, path)


__all__ = [
    "PALETTE",
    "plot_agreement",
    "plot_bars",
    "plot_blame",
    "plot_confusion_matrix",
    "plot_curves",
    "plot_decision_boundary",
    "plot_error_vs_width",
    "plot_extrapolation",
    "plot_extrapolation_panels",
    "plot_grouped_bars",
    "plot_loss_curve",
    "plot_separability",
    "plot_separability_panels",
]
