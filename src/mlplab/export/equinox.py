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
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..backend.arrays import get_backend, to_numpy
from ..errors import ConfigError, ModelFileError
from ..nn.activations import get_activation
from ..nn.mlp import MLP
from ._common import (
    EQUINOX_FORMAT,
    METADATA_KEY,
    architecture,
    header_recipe,
    read_header,
    skeleton,
)
from .estimators import resolve
from .recipe import Recipe

if TYPE_CHECKING:
    import jax

    from ..data.preprocessing import Preprocessor
    from ._equinox_modules import EquinoxMLP, EquinoxPipeline


@dataclass(frozen=True)
class JaxActivation:
    """An mlplab activation as a JAX function (hashable, so a static Equinox field).

    ``spec`` is the activation's ``spec()`` as sorted ``(key, value)`` pairs.
    """

    spec: tuple[tuple[str, Any], ...]

    @property
    def name(self) -> str:
        return str(dict(self.spec)["name"])

    def __call__(self, z: jax.Array) -> jax.Array:
        return _jax_activation_fn(self.spec)(z)


@functools.cache
def _jax_activation_fn(spec: tuple[tuple[str, Any], ...]) -> Callable[[jax.Array], jax.Array]:
    import jax

    act = get_activation(dict(spec))
    if act.name == "identity":
        return lambda z: z

    @jax.custom_jvp
    def sigma(z: jax.Array) -> jax.Array:
        a: jax.Array = act.forward(z)
        return a

    @sigma.defjvp
    def _(primals: tuple[jax.Array], tangents: tuple[jax.Array]) -> tuple[jax.Array, jax.Array]:
        (z,), (t,) = primals, tangents
        a = act.forward(z)
        return a, t * act.derivative(z, a)

    return sigma


@functools.cache
def _equinox_classes() -> dict[str, type]:
    """The Equinox classes, imported on first use (Equinox and JAX are optional)."""
    from . import _equinox_modules as m

    return {"EquinoxMLP": m.EquinoxMLP, "EquinoxPipeline": m.EquinoxPipeline}


def to_equinox(
    model: object, preprocessor: Preprocessor | Recipe | None = None
) -> EquinoxMLP | EquinoxPipeline:
    """``model`` as an Equinox module (a list of ``eqx.nn.Linear`` plus activations).

    The result maps one sample `(d_in,)` to `(d_out,)` and a batch
    `(batch, d_in)` to `(batch, d_out)`, equal to ``model(x)`` to float
    rounding, gradients included, and is a JAX pytree (``jax.grad``,
    ``eqx.filter_jit`` work on it). With ``preprocessor`` (a fitted
    :class:`~mlplab.data.Preprocessor` or a :class:`Recipe`) it is an
    ``EquinoxPipeline`` from raw feature rows to ``mlplab predict``'s outputs;
    a fitted :class:`mlplab.sklearn.MLPClassifier` / ``MLPRegressor`` or a
    scikit-learn ``Pipeline`` of affine scalers ending in one (see
    :mod:`mlplab.export.estimators`) gives the ``EquinoxPipeline`` of its
    ``predict_proba`` / ``predict``.
    """
    net, recipe = resolve(model, preprocessor)
    network = _network(net)
    return network if recipe is None else _pipeline(network, recipe, net.backend.dtype)


def _network(model: MLP) -> EquinoxMLP:
    """The network of ``model`` (a checked MLP) as an ``EquinoxMLP``."""
    import equinox as eqx
    import jax

    from ._equinox_modules import EquinoxMLP

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
    return EquinoxMLP(layers, acts)


def _pipeline(network: EquinoxMLP, recipe: Recipe, dtype: str) -> EquinoxPipeline:
    from ._equinox_modules import EquinoxPipeline

    f64 = get_backend("jax", "float64")  # turns on jax_enable_x64
    return EquinoxPipeline(
        network,
        f64.asarray(recipe.fill),
        f64.asarray(recipe.mean),
        f64.asarray(recipe.scale),
        f64.asarray(recipe.target_mean or [0.0]),
        f64.asarray(recipe.target_scale or [1.0]),
        json.dumps(recipe.to_dict()),
        dtype,
    )


def from_equinox(module: Any, *, backend: str = "numpy", dtype: str | None = None) -> MLP:
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
    model: object,
    path: str | os.PathLike[str],
    *,
    metadata: dict[str, Any] | None = None,
    preprocessor: Preprocessor | Recipe | None = None,
) -> None:
    """Write ``to_equinox(model)`` to ``path``: one JSON line, then ``eqx.tree_serialise_leaves``.

    This is Equinox's documented pattern for saving a model with its
    hyperparameters; :func:`load_equinox` reads it back (with its
    ``preprocessing`` recipe when ``preprocessor`` is given, or ``model`` is an
    estimator or pipeline, see :func:`to_equinox`). Written atomically.
    """
    import equinox as eqx

    from ..files.atomic import atomic_writer

    net, recipe = resolve(model, preprocessor)
    module = _network(net)
    header = architecture(net, EQUINOX_FORMAT, metadata, recipe)
    with atomic_writer(path) as f:
        f.write((json.dumps(header) + "\n").encode())
        eqx.tree_serialise_leaves(f, module)


def load_equinox(
    path: str | os.PathLike[str],
) -> tuple[EquinoxMLP | EquinoxPipeline, dict[str, Any]]:
    """``(module, extra)`` from a file written by :func:`save_equinox`.

    The module is the ``EquinoxMLP``, or the ``EquinoxPipeline`` when the file
    carries preprocessing.
    """
    import equinox as eqx

    def first_line(p: str) -> dict[str, str]:
        with open(p, "rb") as f:
            return {METADATA_KEY: f.readline(1_000_000).decode()}

    header = read_header(path, EQUINOX_FORMAT, first_line)
    model = skeleton(header)
    shell = _network(model)
    with open(path, "rb") as f:
        f.readline(1_000_000)
        try:
            module: EquinoxMLP = eqx.tree_deserialise_leaves(f, shell)
        except Exception as err:  # numpy raises several kinds on truncated data
            raise ModelFileError(
                f"{os.fspath(path)!r}: the weights after the header are truncated or "
                f"corrupted ({type(err).__name__})."
            ) from None
    recipe = header_recipe(header)
    if recipe is not None:
        return _pipeline(module, recipe, model.backend.dtype), header.get("extra", {})
    return module, header.get("extra", {})
