"""Export to and import from Equinox (JAX).

``eqx.nn.Linear`` stores ``weight`` `(d_out, d_in)` and ``bias`` `(d_out,)`, mlplab's
layout. Every activation is mlplab's own array-API function run on JAX
arrays, with a ``jax.custom_jvp`` whose tangent is mlplab's derivative: the
values and gradients are mlplab's to float rounding at every ``z`` — the
leaky_relu's gradient at ``z = 0`` is its slope ``k`` (``jax.nn.leaky_relu``
gives 1 there), the step keeps ``H(0) = 0`` and its surrogate.

With a preprocessing recipe, :func:`to_equinox` returns an ``EquinoxPipeline``:
raw feature rows → the outputs of ``mlplab predict``. Its preprocessing is
float64, as mlplab's, so building one turns on ``jax_enable_x64``.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass

from ..backend.arrays import get_backend, to_numpy
from ..errors import ConfigError, ModelFileError
from ..nn.activations import get_activation
from ..nn.mlp import MLP
from ._common import (
    EQUINOX_FORMAT,
    METADATA_KEY,
    architecture,
    check_model,
    header_recipe,
    read_header,
    skeleton,
)
from .recipe import Recipe


@dataclass(frozen=True)
class JaxActivation:
    """An mlplab activation as a JAX function (hashable, so a static Equinox field).

    ``spec`` is the activation's ``spec()`` as sorted ``(key, value)`` pairs.
    """

    spec: tuple

    @property
    def name(self) -> str:
        return dict(self.spec)["name"]

    def __call__(self, z):
        return _jax_activation_fn(self.spec)(z)


@functools.cache
def _jax_activation_fn(spec: tuple):
    import jax

    act = get_activation(dict(spec))
    if act.name == "identity":
        return lambda z: z

    @jax.custom_jvp
    def sigma(z):
        return act.forward(z)

    @sigma.defjvp
    def _(primals, tangents):
        (z,), (t,) = primals, tangents
        a = act.forward(z)
        return a, t * act.derivative(z, a)

    return sigma


@functools.cache
def _equinox_classes() -> dict[str, type]:
    """The Equinox classes, imported on first use (Equinox and JAX are optional)."""
    from . import _equinox_modules as m

    return {"EquinoxMLP": m.EquinoxMLP, "EquinoxPipeline": m.EquinoxPipeline}


def to_equinox(model: MLP, preprocessor=None):
    """``model`` as an Equinox module (a list of ``eqx.nn.Linear`` plus activations).

    The result maps one sample `(d_in,)` to `(d_out,)` and a batch
    `(batch, d_in)` to `(batch, d_out)`, equal to ``model(x)`` to float
    rounding, gradients included, and is a JAX pytree (``jax.grad``,
    ``eqx.filter_jit`` work on it). With ``preprocessor`` (a fitted
    :class:`~mlplab.data.Preprocessor` or a :class:`Recipe`) it is an
    ``EquinoxPipeline`` from raw feature rows to ``mlplab predict``'s outputs.
    """
    import equinox as eqx
    import jax

    check_model(model)
    jx = get_backend("jax", model.backend.dtype)
    key = jax.random.PRNGKey(0)
    layers = []
    for b, W in model.numpy_params():
        # An abstract Linear (shapes only: no random init is run or compiled),
        # then the real weight (d_out, d_in) and bias (d_out,) put in.
        shell = eqx.filter_eval_shape(
            eqx.nn.Linear, W.shape[1], W.shape[0], dtype=jx.asarray(W).dtype, key=key
        )
        linear = eqx.tree_at(lambda m: (m.weight, m.bias), shell, (jx.asarray(W), jx.asarray(b)))
        layers.append(linear)
    acts = tuple(JaxActivation(tuple(sorted(a.spec().items()))) for a in model.activations)
    network = _equinox_classes()["EquinoxMLP"](layers, acts)
    if preprocessor is None:
        return network
    recipe = Recipe.of(preprocessor, model)
    return _pipeline(network, recipe, model.backend.dtype)


def _pipeline(network, recipe: Recipe, dtype: str):
    f64 = get_backend("jax", "float64")  # turns on jax_enable_x64
    return _equinox_classes()["EquinoxPipeline"](
        network,
        f64.asarray(recipe.fill),
        f64.asarray(recipe.mean),
        f64.asarray(recipe.scale),
        f64.asarray(recipe.target_mean or [0.0]),
        f64.asarray(recipe.target_scale or [1.0]),
        json.dumps(recipe.to_dict()),
        dtype,
    )


def from_equinox(module, *, backend: str = "numpy", dtype: str | None = None) -> MLP:
    """The :class:`~mlplab.nn.mlp.MLP` of a module made by :func:`to_equinox`."""
    if type(module).__name__ == "EquinoxPipeline":
        module = module.network
    if type(module).__name__ != "EquinoxMLP" or not hasattr(module, "layers"):
        raise ConfigError(
            f"from_equinox needs a module made by mlplab.export.to_equinox; "
            f"got {type(module).__name__}."
        )
    params = [(to_numpy(layer.bias), to_numpy(layer.weight)) for layer in module.layers]
    specs = [dict(a.spec) for a in module.activations]
    dtype = dtype or str(params[0][1].dtype)
    return MLP.from_params(params, specs, backend=backend, dtype=dtype)


def save_equinox(
    model: MLP, path: str | os.PathLike, *, metadata: dict | None = None, preprocessor=None
) -> None:
    """Write ``to_equinox(model)`` to ``path``: one JSON line, then ``eqx.tree_serialise_leaves``.

    This is Equinox's documented pattern for saving a model with its
    hyperparameters; :func:`load_equinox` reads it back (with its
    ``preprocessing`` recipe when ``preprocessor`` is given). Written atomically.
    """
    import equinox as eqx

    from ..files.atomic import atomic_writer

    module = to_equinox(model)
    recipe = None
    if preprocessor is not None:
        recipe = Recipe.of(preprocessor, model)
    header = architecture(model, EQUINOX_FORMAT, metadata, recipe)
    with atomic_writer(path) as f:
        f.write((json.dumps(header) + "\n").encode())
        eqx.tree_serialise_leaves(f, module)


def load_equinox(path: str | os.PathLike):
    """``(module, extra)`` from a file written by :func:`save_equinox`.

    The module is the ``EquinoxMLP``, or the ``EquinoxPipeline`` when the file
    carries preprocessing.
    """
    import equinox as eqx

    def first_line(p):
        with open(p, "rb") as f:
            return {METADATA_KEY: f.readline(1_000_000).decode()}

    header = read_header(path, EQUINOX_FORMAT, first_line)
    model = skeleton(header)
    shell = to_equinox(model)
    with open(path, "rb") as f:
        f.readline(1_000_000)
        try:
            module = eqx.tree_deserialise_leaves(f, shell)
        except Exception as err:  # numpy raises several kinds on truncated data
            raise ModelFileError(
                f"{os.fspath(path)!r}: the weights after the header are truncated or "
                f"corrupted ({type(err).__name__})."
            ) from None
    recipe = header_recipe(header)
    if recipe is not None:
        module = _pipeline(module, recipe, model.backend.dtype)
    return module, header.get("extra", {})
