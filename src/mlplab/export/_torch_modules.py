"""The PyTorch modules of :mod:`mlplab.export.torch`: ``Heaviside``, ``Softplus``, ``Pipeline``.

This module imports PyTorch at its top; :mod:`mlplab.export.torch` imports it
only on first use (PyTorch is an optional dependency), through ``_classes()``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..nn.activations import get_activation
from .recipe import Recipe
from .torch import heaviside_spec


def stable_sigmoid(z: torch.Tensor) -> torch.Tensor:  # mlplab's: exp only ever sees −|z| ≤ 0
    """``1 / (1 + e^−z)`` for every z, without overflow."""
    e = torch.exp(-torch.abs(z))
    return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))


class HeavisideFunction(torch.autograd.Function):
    """H(z) forward; the chosen surrogate derivative backward."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, surrogate: str | None, slope: float) -> torch.Tensor:
        ctx.save_for_backward(z)
        ctx.surrogate, ctx.slope = surrogate, slope
        return (z > 0).to(z.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (z,) = ctx.saved_tensors
        if ctx.surrogate == "sigmoid":
            s = stable_sigmoid(ctx.slope * z)
            return grad * ctx.slope * s * (1 - s), None, None
        if ctx.surrogate == "straight-through":
            return grad, None, None
        return torch.zeros_like(grad), None, None


class Heaviside(nn.Module):
    """The lecture's step ``H(z) = 1 if z > 0 else 0`` as a PyTorch module.

    Args:
        surrogate: ``None`` (true derivative, 0), ``"sigmoid"`` (derivative of
            ``sigmoid(slope · z)``) or ``"straight-through"`` (1), as in
            :func:`mlplab.nn.activations.heaviside`.
        slope: steepness of the sigmoid surrogate.
    """

    def __init__(self, surrogate: str | None = None, slope: float = 10.0):
        super().__init__()
        get_activation(heaviside_spec(surrogate, slope))  # validates the settings
        self.surrogate = surrogate
        self.slope = float(slope)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and z.requires_grad:
            out: torch.Tensor = HeavisideFunction.apply(z, self.surrogate, self.slope)  # type: ignore[no-untyped-call]  # Function.apply is untyped in torch
            return out
        return (z > 0).to(z.dtype)  # inference: a plain comparison

    def extra_repr(self) -> str:
        if self.surrogate is None:
            return ""
        if self.surrogate == "sigmoid":
            return f"surrogate='sigmoid', slope={self.slope:g}"
        return f"surrogate={self.surrogate!r}"


class SoftplusFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, z: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(z)
        return torch.clamp_min(z, 0.0) + torch.log1p(torch.exp(-torch.abs(z)))

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (z,) = ctx.saved_tensors
        return grad * stable_sigmoid(z)


class Softplus(nn.Module):
    """``log(1 + e^z) = max(z, 0) + log1p(e^−|z|)`` for every z; gradient ``sigmoid(z)``.

    mlplab's softplus: unlike ``nn.Softplus`` it has no threshold above which
    it returns ``z`` itself.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = SoftplusFunction.apply(z)  # type: ignore[no-untyped-call]  # Function.apply is untyped in torch
        return out


class Pipeline(nn.Module):
    """Raw feature rows → ``mlplab predict``'s outputs: preprocessing, network, reading.

    ``forward(x)`` takes `(batch, n_columns)` float64 (the ``columns``
    in order; a categorical column holds its category's index, see
    :meth:`encode`) and returns class probabilities `(batch, n_classes)`
    or regression values in target units `(batch, n_targets)`, float64.
    """

    numeric_index: torch.Tensor
    fill: torch.Tensor
    mean: torch.Tensor
    scale: torch.Tensor
    order: torch.Tensor
    target_mean: torch.Tensor
    target_scale: torch.Tensor

    def __init__(self, network: nn.Sequential, recipe: Recipe, dtype: torch.dtype):
        super().__init__()
        self.network = network
        self.recipe = recipe
        self.columns, self.classes = recipe.columns, recipe.classes
        self.dtype = dtype
        f64 = torch.float64
        idx = [i for i, c in enumerate(recipe.columns) if c not in recipe.categories]
        self.register_buffer("numeric_index", torch.tensor(idx, dtype=torch.long))
        for name in ("fill", "mean", "scale"):
            self.register_buffer(name, torch.tensor(getattr(recipe, name), dtype=f64))
        self.register_buffer("order", torch.tensor(recipe.order, dtype=torch.long))
        self.one_hot = [
            (recipe.columns.index(c), len(recipe.categories[c])) for c in recipe.categorical
        ]
        t_mean, t_scale = recipe.target_mean or [0.0], recipe.target_scale or [1.0]
        self.register_buffer("target_mean", torch.tensor(t_mean, dtype=f64))
        self.register_buffer("target_scale", torch.tensor(t_scale, dtype=f64))

    def features(self, x: Any) -> torch.Tensor:
        """`(batch, n_columns)` raw → `(batch, d_in)` model inputs in the model's dtype."""
        x = torch.as_tensor(x, dtype=torch.float64)
        num = x[:, self.numeric_index]
        if self.recipe.impute:
            num = torch.where(torch.isnan(num), self.fill, num)
        blocks = [(num - self.mean) / self.scale]
        for j, k in self.one_hot:
            codes = torch.arange(k, dtype=torch.float64, device=x.device)
            blocks.append((x[:, j : j + 1] == codes).to(torch.float64))
        return torch.cat(blocks, dim=1)[:, self.order].to(self.dtype)

    def forward(self, x: Any) -> torch.Tensor:
        out: torch.Tensor = self.network(self.features(x)).to(torch.float64)
        kind = self.recipe.output
        if kind == "values":
            return out * self.target_scale + self.target_mean
        if kind == "softmax":
            e = torch.exp(out - out.max(dim=1, keepdim=True).values)
            return e / e.sum(dim=1, keepdim=True)
        p = out[:, 0] if kind == "probability" else stable_sigmoid(out[:, 0])
        return torch.stack([1 - p, p], dim=1)

    def encode(self, rows: Any) -> torch.Tensor:
        """Raw rows (DataFrame, dicts, sequences) → the float64 tensor :meth:`forward` takes."""
        return torch.as_tensor(self.recipe.encode(rows))

    @torch.no_grad()
    def predict(self, rows: Any) -> Any:
        """Class labels (classification) or `(n, n_targets)` values, as ``mlplab predict``."""
        out = self(self.encode(rows))
        if self.recipe.is_regression or self.classes is None:
            return out.numpy()
        return [self.classes[int(i)] for i in out.argmax(dim=1)]
