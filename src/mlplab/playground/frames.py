"""What the page draws, computed by mlplab: one batched forward pass per frame.

The pass runs the network on the 100×100 output grid, the 10×10 neuron grid
and every train and test point stacked into one batch; the heat-maps, the
losses, accuracies and the confusion matrix all come from its outputs and the
per-layer caches (``MLP.forward``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

import mlplab as ml

from . import data as pdata
from .protocol import encode_frame

OUTPUT_RES = 100  # the output heat-map is OUTPUT_RES × OUTPUT_RES
NEURON_RES = 10  # every neuron's heat-map


@dataclass
class Problem:
    """What the network predicts: ``kind`` binary / multiclass / regression."""

    kind: str
    n_classes: int = 2
    classes: tuple[Any, ...] = (0, 1)  # the original label values (JSON-able)

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.kind == "multiclass" else 1


def loss_name(problem: Problem, output_activation: str) -> str:
    """The loss a setting trains with (classification from logits when the output is linear)."""
    if problem.kind == "multiclass":
        return "softmax_cross_entropy"
    if problem.kind == "binary" and output_activation == "identity":
        return "bce"
    return "mse"


def targets(problem: Problem, labels: NDArray[Any], loss: str) -> NDArray[Any]:
    """Labels as ``fit`` takes them for ``loss``: class indices, or `(n, 1)` floats."""
    if loss in ("bce", "softmax_cross_entropy"):
        return labels.astype(np.int64)
    return labels.astype(np.float64).reshape(-1, 1)


def probabilities(
    problem: Problem, output_activation: str, out: NDArray[np.float64]
) -> NDArray[np.float64]:
    """`(n, k)` class probabilities (classification) or `(n, 1)` values (regression)."""
    if problem.kind == "regression":
        return out
    if problem.kind == "multiclass":
        z: NDArray[np.float64] = out - out.max(axis=1, keepdims=True)
        e = np.exp(z)
        total: NDArray[np.float64] = e.sum(axis=1, keepdims=True)
        return e / total
    if output_activation == "identity":
        p = 0.5 * (1 + np.tanh(0.5 * out[:, 0]))  # sigmoid of the logit, without overflow
    elif output_activation == "tanh":
        p = (np.clip(out[:, 0], -1, 1) + 1) / 2
    else:
        p = np.clip(out[:, 0], 0, 1)
    return np.stack([1 - p, p], axis=1)


def to_uint8(v: NDArray[Any], lo: float, hi: float) -> NDArray[np.uint8]:
    """Values in [lo, hi] (clipped) as 0…255."""
    scaled: NDArray[np.float64] = (np.clip(np.nan_to_num(v, nan=lo), lo, hi) - lo) / (hi - lo)
    return np.round(scaled * 255).astype(np.uint8)


class FrameMaker:
    """Builds frames for one data set, feature list and view (rebuilt when they change)."""

    def __init__(
        self,
        feature_names: Sequence[str],
        view: tuple[float, float],
        train_x: pdata.Points,
        test_x: pdata.Points,
    ):
        lo, hi = view
        self.view = view
        self.out_grid = pdata.grid(OUTPUT_RES, lo, hi)
        self.neuron_grid = pdata.grid(NEURON_RES, lo, hi)
        points = np.concatenate([self.out_grid, self.neuron_grid, train_x, test_x])
        self.inputs = pdata.features(points, feature_names)
        self.inputs32 = self.inputs.astype(np.float32)
        n_out, n_small = len(self.out_grid), len(self.neuron_grid)
        self.slices = {
            "out": slice(0, n_out),
            "small": slice(n_out, n_out + n_small),
            "train": slice(n_out + n_small, n_out + n_small + len(train_x)),
            "test": slice(n_out + n_small + len(train_x), len(points)),
        }
        small = self.inputs[self.slices["small"]]
        scale = np.maximum(np.abs(small).max(axis=0), 1e-12)
        self.input_maps = to_uint8(small / scale, -1, 1).T  # (n_features, 100)

    def make(
        self,
        model: ml.MLP,
        problem: Problem,
        out_act: str,
        ys: Mapping[str, NDArray[Any]],
        info: Mapping[str, Any],
    ) -> tuple[bytes, dict[str, Any]]:
        """The frame of ``model`` now, and its numbers (losses, accuracies) as a dict.

        The pass runs on NumPy in float32 whatever the model's backend: the maps are
        8-bit and the weights go out as float32, so float64 would only cost time.
        """
        view = model.to("numpy", "float32")
        out, caches = view.forward(self.inputs32)
        out = ml.to_numpy(out).astype(np.float64)
        s = self.slices
        blocks: dict[str, NDArray[Any]] = {"inputs": self.input_maps}
        for i, cache in enumerate(caches[:-1]):
            a = ml.to_numpy(cache.a)[s["small"]].astype(np.float64)  # (100, d)
            blocks[f"layer{i + 1}"] = to_uint8(a.T, -1, 1)
        blocks.update(self._output_blocks(problem, out_act, out[s["out"]]))
        if problem.kind == "multiclass":  # each output neuron's map: P(its class)
            p = probabilities(problem, out_act, out[s["small"]])
            blocks[f"layer{len(caches)}"] = to_uint8(p.T, 0, 1)
        blocks["weights"] = np.concatenate(
            [np.concatenate([b.ravel(), W.ravel()]) for b, W in view.numpy_params()]
        )
        stats = self._stats(model, problem, out_act, out, ys)
        header = {"type": "frame", **info, **stats}
        return encode_frame(header, blocks), stats

    def _output_blocks(
        self, problem: Problem, out_act: str, out: NDArray[np.float64]
    ) -> dict[str, NDArray[np.uint8]]:
        if problem.kind == "regression":
            return {"output": to_uint8(out[:, 0], -1, 1)}
        p = probabilities(problem, out_act, out)
        if problem.kind == "binary":
            return {"output": to_uint8(p[:, 1], 0, 1)}
        cls = np.argmax(p, axis=1).astype(np.uint8)
        return {"output": cls, "confidence": to_uint8(p.max(axis=1), 0, 1)}

    def _stats(
        self,
        model: ml.MLP,
        problem: Problem,
        out_act: str,
        out: NDArray[np.float64],
        ys: Mapping[str, NDArray[Any]],
    ) -> dict[str, Any]:
        """``loss_train``, ``loss_test`` (``None`` without points), ``acc_*``, ``confusion``."""
        loss_fn = ml.get_loss(loss_name(problem, out_act))
        stats: dict[str, Any] = {}
        for part in ("train", "test"):
            o, y = out[self.slices[part]], ys[part]
            if not len(y):
                stats[f"loss_{part}"] = None
                continue
            target = loss_fn.prepare_targets(
                targets(problem, y, loss_fn.name),
                model.n_outputs,
                ml.get_backend("numpy", "float64"),
            )
            value = float(loss_fn.value_and_grad(o, target)[0])
            stats[f"loss_{part}"] = value if np.isfinite(value) else None
            if problem.kind != "regression":
                pred = np.argmax(probabilities(problem, out_act, o), axis=1)
                stats[f"acc_{part}"] = ml.accuracy(y.astype(np.int64), pred)
                if part == "test" or not len(ys["test"]):
                    stats["confusion"] = ml.confusion_matrix(
                        y.astype(np.int64), pred, n_classes=problem.n_classes
                    ).tolist()
        return stats
