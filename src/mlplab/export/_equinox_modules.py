"""The Equinox modules of :mod:`mlplab.export.equinox`: ``EquinoxMLP``, ``EquinoxPipeline``.

This module imports Equinox and JAX at its top; :mod:`mlplab.export.equinox`
imports it only on first use (both are optional dependencies), through
``_equinox_classes()``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ..backend.arrays import to_numpy
from ..nn.activations import stable_sigmoid as _sigmoid
from .recipe import Recipe

if TYPE_CHECKING:
    from .equinox import JaxActivation


class EquinoxMLP(eqx.Module):
    """An MLP as an Equinox module: ``eqx.nn.Linear`` layers and their activations.

    ``model(x)`` takes one sample `(d_in,)` -> `(d_out,)`, as Equinox layers
    do, or a batch `(batch, d_in)` -> `(batch, d_out)` (vmapped).
    """

    layers: list[eqx.nn.Linear]
    activations: tuple[JaxActivation, ...] = eqx.field(static=True)

    @eqx.filter_jit
    def __call__(self, x: jax.Array) -> jax.Array:
        if x.ndim == 2:
            return jax.vmap(self._one)(x)
        return self._one(x)

    def _one(self, x: jax.Array) -> jax.Array:
        for layer, sigma in zip(self.layers, self.activations, strict=True):
            x = sigma(layer(x))  # W (d_out, d_in) @ x (d_in,) + b
        return x


class EquinoxPipeline(eqx.Module):
    """Raw feature rows → ``mlplab predict``'s outputs (see :mod:`mlplab.export.recipe`).

    ``module(x)``: `(batch, n_columns)` float64 (categorical columns as
    category indices, see :meth:`encode`) → class probabilities or values in
    target units, float64.
    """

    network: EquinoxMLP
    fill: jax.Array
    mean: jax.Array
    scale: jax.Array
    target_mean: jax.Array
    target_scale: jax.Array
    recipe_json: str = eqx.field(static=True)
    dtype: str = eqx.field(static=True)

    @property
    def recipe(self) -> Recipe:
        return Recipe.from_dict(json.loads(self.recipe_json))

    @property
    def classes(self) -> list[Any] | None:
        return self.recipe.classes

    def features(self, x: Any) -> jax.Array:
        recipe = self.recipe
        x = jnp.asarray(x, dtype=jnp.float64)
        numeric = [i for i, c in enumerate(recipe.columns) if c not in recipe.categories]
        num = x[:, jnp.asarray(numeric, dtype=jnp.int32)]
        if recipe.impute:
            num = jnp.where(jnp.isnan(num), self.fill, num)
        blocks = [(num - self.mean) / self.scale]
        for c in recipe.categorical:
            j, k = recipe.columns.index(c), len(recipe.categories[c])
            codes = jnp.arange(k, dtype=jnp.float64)
            blocks.append((x[:, j : j + 1] == codes).astype(jnp.float64))
        order = jnp.asarray(recipe.order, dtype=jnp.int32)
        return jnp.concatenate(blocks, axis=1)[:, order].astype(self.dtype)

    def __call__(self, x: Any) -> jax.Array:
        out = self.network(self.features(x)).astype(jnp.float64)
        kind = self.recipe.output
        if kind == "values":
            return out * self.target_scale + self.target_mean
        if kind == "softmax":
            e = jnp.exp(out - out.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        p = out[:, 0] if kind == "probability" else _sigmoid(out[:, 0])
        return jnp.stack([1 - p, p], axis=1)

    def encode(self, rows: Any) -> jax.Array:
        """Raw rows (DataFrame, dicts, sequences) → the float64 array ``module(x)`` takes."""
        return jnp.asarray(self.recipe.encode(rows))

    def predict(self, rows: Any) -> Any:
        """Class labels or `(n, n_targets)` values, as ``mlplab predict``."""
        out = self(self.encode(rows))
        recipe = self.recipe
        if recipe.is_regression or recipe.classes is None:
            return to_numpy(out)
        return [recipe.classes[int(i)] for i in to_numpy(out).argmax(axis=1)]
