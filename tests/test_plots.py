"""Figures: every one has a title, labelled axes and a legend/colour bar, written atomically."""

from __future__ import annotations

import os

import numpy as np
import pytest

import mlplab as ml
from mlplab import plots
from mlplab.errors import DataError
from mlplab.nn.gates import TRUTH_INPUTS, TRUTH_TABLES

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def figures(monkeypatch):
    """Every figure saved during a test, inspected just before it is written."""
    seen = []
    real_save = plots._save

    def save(fig, path):
        seen.append(
            [
                {
                    "title": ax.get_title() or (fig._suptitle.get_text() if fig._suptitle else ""),
                    "xlabel": ax.get_xlabel(),
                    "ylabel": ax.get_ylabel(),
                    "legend": ax.get_legend() is not None,
                }
                for ax in fig.axes
                if ax.get_label() != "<colorbar>"
            ]
        )
        return real_save(fig, path)

    monkeypatch.setattr(plots, "_save", save)
    return seen


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG and os.path.getsize(path) > 1000


def _labelled(axes, legend=True):
    for ax in axes:
        assert ax["title"] and ax["xlabel"] and ax["ylabel"]
        if legend:
            assert ax["legend"]


def test_loss_curve(tmp_path, figures):
    net = ml.MLP(2, [4], 1, seed=0)
    hist = ml.fit(
        net, TRUTH_INPUTS, TRUTH_TABLES["xor"], epochs=5, validation_split=0.25, verbose=0
    )
    path = plots.plot_loss_curve(hist, tmp_path / "loss.png")
    assert _is_png(path)
    _labelled(figures[-1])
    assert _is_png(plots.plot_loss_curve(hist.as_dict(), tmp_path / "loss2.png", title="t"))
    with pytest.raises(DataError, match="History"):
        plots.plot_loss_curve([1, 2], tmp_path / "x.png")


def test_decision_boundary_with_transform(tmp_path, figures):
    calls = []

    def transform(g):
        calls.append(g.shape)
        return g

    path = plots.plot_decision_boundary(
        ml.xor_network(),
        TRUTH_INPUTS,
        TRUTH_TABLES["xor"],
        tmp_path / "db.png",
        title="XOR",
        transform=transform,
    )
    assert _is_png(path) and calls == [(200 * 200, 2)]
    _labelled(figures[-1])
    with pytest.raises(DataError, match="2-D inputs"):
        plots.plot_decision_boundary(
            ml.xor_network(), np.zeros((4, 3)), [0, 1, 1, 0], tmp_path / "bad.png"
        )


def test_confusion_matrix(tmp_path, figures):
    C = np.array([[5, 1], [0, 4]])
    assert _is_png(plots.plot_confusion_matrix(C, tmp_path / "c.png", class_names=["a", "b"]))
    _labelled(figures[-1], legend=False)  # a colour bar, not a legend
    with pytest.raises(DataError, match="square"):
        plots.plot_confusion_matrix(np.zeros((2, 3)), tmp_path / "c2.png")
    with pytest.raises(DataError, match="class_names"):
        plots.plot_confusion_matrix(C, tmp_path / "c3.png", class_names=["a"])


def test_tour_figures(tmp_path, figures):
    x = np.linspace(0, 1, 20)
    plots.plot_curves(
        x,
        {"target": x, "fit": x**2},
        tmp_path / "a.png",
        title="t",
        xlabel="x",
        ylabel="y",
        points=(x[:3], x[:3], "samples"),
        shade=(0, 0.5, "data"),
    )
    plots.plot_error_vs_width({"h": ([2, 4, 8], [1, 0.5, 0.25])}, tmp_path / "b.png", title="e")
    plots.plot_separability(
        TRUTH_INPUTS, TRUTH_TABLES["and"], [-1, 1, 1], tmp_path / "c.png", title="AND"
    )
    plots.plot_separability(
        TRUTH_INPUTS, TRUTH_TABLES["xor"], None, tmp_path / "d.png", title="XOR"
    )
    plots.plot_bars(
        ["a", "b"], [0.9, 0.8], tmp_path / "e.png", title="acc", ylabel="accuracy", threshold=0.85
    )
    for name in "abcde":
        assert _is_png(tmp_path / f"{name}.png")
    for axes in figures:
        _labelled(axes)
    plots.plot_blame([np.ones((4, 3)), np.ones((4, 1))], tmp_path / "f.png", title="blame")
    assert _is_png(tmp_path / "f.png")
    _labelled(figures[-1], legend=False)


def test_failed_save_leaves_no_partial_file(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()  # a directory where the PNG should go: the rename fails
    with pytest.raises(OSError):
        plots.plot_curves([0, 1], {"a": [0, 1]}, target, title="t", xlabel="x", ylabel="y")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
