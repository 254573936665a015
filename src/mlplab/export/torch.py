"""Export to and import from PyTorch.

An :class:`~mlplab.nn.mlp.MLP` is a list of ``(b, W)`` with ``W`` `(d_out, d_in)`,
which is exactly ``torch.nn.Linear``'s layout, so :func:`to_torch` copies the
numbers and maps each activation onto a module that computes the same values
*and gradients* as mlplab, to the dtype's precision, for every ``z`` (0 and
large ``|z|`` included):

| mlplab           | PyTorch                                                          |
|------------------|------------------------------------------------------------------|
| identity         | (omitted)                                                        |
| heaviside        | ``Heaviside`` (here): ``H(0) = 0``, its surrogate backward       |
| sigmoid          | ``nn.Sigmoid``                                                   |
| tanh             | ``nn.Tanh``                                                      |
| relu             | ``nn.ReLU`` (gradient 0 at z = 0, as mlplab)                     |
| leaky_relu (k)   | ``nn.LeakyReLU(k)`` (gradient k at z = 0, as mlplab)             |
| softplus         | ``Softplus`` (here), exact where ``nn.Softplus`` is not (below)  |
| gelu (tanh form) | ``nn.GELU("tanh")``                                              |

``nn.Softplus`` switches to ``z`` above its threshold 20 (an error of 2e-9 in
float64 at z = 20.001), hence mlplab's own module.

With a preprocessing recipe (a model trained by ``mlplab train``),
:func:`to_torch` returns a ``Pipeline`` module: raw feature rows → the
outputs of ``mlplab predict`` (see :mod:`mlplab.export.recipe`).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, ModelFileError
from ..nn.activations import Activation
from ..nn.mlp import MLP
from ._common import (
    METADATA_KEY,
    TORCH_FORMAT,
    architecture,
    header_recipe,
    read_header,
    skeleton,
)
from .estimators import resolve
from .recipe import Recipe

if TYPE_CHECKING:
    from torch import nn

    from ..data.preprocessing import Preprocessor


@functools.cache
def _classes() -> dict[str, type]:
    """The PyTorch classes, imported on first use (PyTorch is an optional dependency)."""
    from . import _torch_modules as m

    return {"Heaviside": m.Heaviside, "Softplus": m.Softplus, "Pipeline": m.Pipeline}


def heaviside_spec(surrogate: str | None, slope: float) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": "heaviside"}
    if surrogate is not None:
        spec["surrogate"] = surrogate
    if surrogate == "sigmoid":
        spec["slope"] = float(slope)
    return spec


def _torch_activation(act: Activation) -> nn.Module | None:
    from torch import nn

    params = dict(act.params)
    if act.name == "identity":
        return None
    if act.name == "heaviside":
        module: nn.Module = _classes()["Heaviside"](
            params.get("surrogate"), params.get("slope", 10.0)
        )
        return module
    if act.name == "leaky_relu":
        return nn.LeakyReLU(params["negative_slope"])
    if act.name == "gelu":
        return nn.GELU(approximate="tanh")
    if act.name == "softplus":
        softplus: nn.Module = _classes()["Softplus"]()
        return softplus
    simple: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
    return simple[act.name]()


def to_torch(model: object, preprocessor: Preprocessor | Recipe | None = None) -> nn.Module:
    """``model`` as a ``torch.nn.Sequential`` of ``nn.Linear`` and activation modules.

    Layer ℓ becomes ``nn.Linear(d_{ℓ−1}, d_ℓ)`` with ``weight = W_ℓ`` `(d_ℓ, d_{ℓ−1})`
    and ``bias = b_ℓ``, followed by its activation module (none for identity),
    in the model's dtype, on the CPU. ``seq(x)`` for ``x`` `(batch, d_in)` equals
    ``model(x)`` to float rounding, and so do its gradients.

    Args:
        model: the :class:`~mlplab.nn.mlp.MLP`; or a fitted
            :class:`mlplab.sklearn.MLPClassifier` / ``MLPRegressor``, or a
            scikit-learn ``Pipeline`` of affine scalers ending in one (see
            :mod:`mlplab.export.estimators`): then the result is a ``Pipeline``
            module from raw rows to ``predict_proba`` / ``predict``.
        preprocessor: a fitted :class:`~mlplab.data.Preprocessor` (or a
            :class:`~mlplab.export.recipe.Recipe`) of an ``MLP``: then the result is a
            ``Pipeline`` from raw feature rows to ``mlplab predict``'s outputs.

    Examples:
        >>> import mlplab as ml
        >>> seq = to_torch(ml.xor_network())
        >>> [type(m).__name__ for m in seq]
        ['Linear', 'Heaviside', 'Linear', 'Heaviside']
    """
    import torch

    net, recipe = resolve(model, preprocessor)
    seq = _sequential(net)
    if recipe is None:
        return seq
    pipeline: nn.Module = _classes()["Pipeline"](seq, recipe, getattr(torch, net.backend.dtype))
    return pipeline


def _sequential(model: MLP) -> nn.Sequential:
    """The network of ``model`` (a checked MLP) as an ``nn.Sequential``."""
    import torch
    from torch import nn

    dtype = getattr(torch, model.backend.dtype)
    modules: list[nn.Module] = []
    for (b, W), act in zip(model.numpy_params(), model.activations, strict=True):
        linear = nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(W))  # (d_out, d_in): the same layout
            linear.bias.copy_(torch.as_tensor(b))
        modules.append(linear)
        module = _torch_activation(act)
        if module is not None:
            modules.append(module)
    return nn.Sequential(*modules)


def _from_torch_activation(module: nn.Module, where: str) -> dict[str, Any] | None:
    from torch import nn

    from . import _torch_modules as m

    name = type(module).__name__
    if isinstance(module, m.Heaviside):
        return heaviside_spec(module.surrogate, module.slope)
    if isinstance(module, m.Softplus):
        return {"name": "softplus"}
    if isinstance(module, nn.Identity):
        return None
    if isinstance(module, nn.GELU):
        if module.approximate != "tanh":
            raise ConfigError(
                f"from_torch: {where} is nn.GELU(approximate={module.approximate!r}); mlplab's "
                "gelu is the tanh approximation. Use nn.GELU(approximate='tanh')."
            )
        return {"name": "gelu"}
    if isinstance(module, nn.LeakyReLU):
        return {"name": "leaky_relu", "negative_slope": float(module.negative_slope)}
    if isinstance(module, nn.Softplus):
        if module.beta != 1 or module.threshold < 20:
            raise ConfigError(
                f"from_torch: {where} is nn.Softplus(beta={module.beta}, "
                f"threshold={module.threshold}); only beta=1 with threshold >= 20 (the "
                "default) computes log(1 + e^z)."
            )
        return {"name": "softplus"}
    simple = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu"}
    for cls, act in simple.items():
        if type(module) is cls:
            return {"name": act}
    raise ConfigError(
        f"from_torch: unsupported module {name} at {where}; an mlplab MLP is made of nn.Linear "
        "and the activations Heaviside, Sigmoid, Tanh, ReLU, LeakyReLU, Softplus, "
        "GELU(approximate='tanh') and Identity."
    )


def from_torch(
    module: nn.Module, *, backend: str = "numpy", dtype: str | None = None, device: Any = None
) -> MLP:
    """Import a PyTorch MLP: an ``nn.Sequential`` of ``nn.Linear`` and supported activations.

    Nested ``nn.Sequential`` blocks are flattened; ``nn.Identity`` is skipped;
    a ``Linear`` not followed by an activation gets ``identity``. ``dtype``
    defaults to the weights' dtype (float32 / float64). A ``Pipeline``
    gives its network.

    Raises:
        ConfigError: a module that is not ``Linear`` or a supported activation
            (named, with its position), two activations in a row, an activation
            before the first ``Linear``, or widths that do not chain.
    """
    import torch
    from torch import nn

    from ._torch_modules import Pipeline

    if isinstance(module, Pipeline):
        module = module.network
    if not isinstance(module, nn.Sequential):
        raise ConfigError(
            f"from_torch needs a torch.nn.Sequential of Linear and activation modules; "
            f"got {type(module).__name__}."
        )
    params: list[tuple[Any, Any]] = []
    activations: list[dict[str, Any] | None] = []
    for where, child in _flatten(module):
        if isinstance(child, nn.Linear):
            W = child.weight.detach().cpu()  # (d_out, d_in)
            if W.dtype not in (torch.float32, torch.float64):  # half / bfloat16 -> float32
                W = W.float()
            b = child.bias.detach().cpu() if child.bias is not None else torch.zeros(W.shape[0])
            params.append((b.to(W.dtype).numpy(), W.numpy()))
            activations.append(None)
            continue
        spec = _from_torch_activation(child, where)
        if spec is None:
            continue
        _check_activation_place(params, activations, where, child)
        activations[-1] = spec
    if not params:
        raise ConfigError("from_torch: the module holds no nn.Linear layer.")
    for i in range(1, len(params)):
        if params[i][1].shape[1] != params[i - 1][1].shape[0]:
            raise ConfigError(
                f"from_torch: Linear layer {i} takes {params[i][1].shape[1]} inputs but layer "
                f"{i - 1} gives {params[i - 1][1].shape[0]} outputs."
            )
    weight_dtype = str(params[0][1].dtype)
    if dtype is None:
        dtype = weight_dtype if weight_dtype in ("float32", "float64") else "float32"
    acts = [a if a is not None else "identity" for a in activations]
    return MLP.from_params(params, acts, backend=backend, dtype=dtype, device=device)


def _check_activation_place(
    params: list[tuple[Any, Any]],
    activations: list[dict[str, Any] | None],
    where: str,
    child: nn.Module,
) -> None:
    if not params:
        raise ConfigError(
            f"from_torch: {where} ({type(child).__name__}) comes before the first nn.Linear; "
            "an MLP starts with a Linear layer."
        )
    if activations[-1] is not None:
        raise ConfigError(
            f"from_torch: {where} ({type(child).__name__}) follows another activation; "
            "an mlplab layer has one activation after each Linear."
        )


def _flatten(module: nn.Module, prefix: str = "") -> Iterator[tuple[str, nn.Module]]:
    from torch import nn

    for name, child in module.named_children():
        where = f"{prefix}{name}"
        if isinstance(child, nn.Sequential):
            yield from _flatten(child, f"{where}.")
        else:
            yield f"position {where}", child


def save_torch(
    model: object,
    path: str | os.PathLike[str],
    *,
    metadata: dict[str, Any] | None = None,
    preprocessor: Preprocessor | Recipe | None = None,
) -> None:
    """Write ``to_torch(model)``'s ``state_dict`` to ``path`` as safetensors, atomically.

    The file's metadata entry ``"mlplab_architecture"`` is JSON: the format
    name, ``sizes``, ``activations`` (mlplab specs), the ``modules`` of the
    ``nn.Sequential`` in order, the dtype, ``extra`` (``metadata``) and, with a
    ``preprocessor`` (or for an estimator or pipeline, see :func:`to_torch`), the
    ``preprocessing`` recipe, from which :func:`load_torch` rebuilds the
    ``Pipeline``. No pickle is involved.
    """
    from safetensors.torch import save

    from ..files.atomic import atomic_write_bytes

    net, recipe = resolve(model, preprocessor)
    seq = _sequential(net)
    header = architecture(net, TORCH_FORMAT, metadata, recipe)
    header["modules"] = [type(m).__name__ for m in seq]
    state = {k: v.detach().contiguous() for k, v in seq.state_dict().items()}
    atomic_write_bytes(path, save(state, metadata={METADATA_KEY: json.dumps(header)}))


def _safetensors_metadata(path: str) -> dict[str, str] | None:
    from safetensors import safe_open

    with safe_open(path, "pt") as f:
        meta: dict[str, str] | None = f.metadata()
    return meta


def load_torch(path: str | os.PathLike[str]) -> tuple[nn.Module, dict[str, Any]]:
    """``(module, extra)`` from a file written by :func:`save_torch`.

    The module is the ``nn.Sequential``, or the ``Pipeline`` when the
    file carries preprocessing.
    """
    from safetensors.torch import load_file

    header = read_header(path, TORCH_FORMAT, _safetensors_metadata)
    model = skeleton(header)
    seq = _sequential(model)
    try:
        seq.load_state_dict(load_file(os.fspath(path)))
    except (RuntimeError, OSError, ValueError) as err:
        raise ModelFileError(f"{os.fspath(path)!r}: tensors do not match: {err}") from None
    recipe = header_recipe(header)
    if recipe is not None:
        import torch

        pipeline: nn.Module = _classes()["Pipeline"](
            seq, recipe, getattr(torch, model.backend.dtype)
        )
        return pipeline, header.get("extra", {})
    return seq, header.get("extra", {})
