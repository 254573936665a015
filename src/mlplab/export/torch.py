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
:func:`to_torch` returns a :class:`Pipeline` module: raw feature rows → the
outputs of ``mlplab predict`` (see :mod:`mlplab.export.recipe`).
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from ..errors import ConfigError, ModelFileError
from ..nn.activations import Activation, get_activation
from ..nn.mlp import MLP
from ._common import (
    METADATA_KEY,
    TORCH_FORMAT,
    architecture,
    check_model,
    header_recipe,
    read_header,
    skeleton,
)
from .recipe import Recipe


@functools.cache
def _classes() -> dict[str, type]:
    """Define the PyTorch classes on first use (PyTorch is an optional dependency)."""
    import torch
    from torch import nn

    def stable_sigmoid(z):  # mlplab's: exp only ever sees −|z| ≤ 0
        e = torch.exp(-torch.abs(z))
        return torch.where(z >= 0, 1 / (1 + e), e / (1 + e))

    class HeavisideFunction(torch.autograd.Function):
        """H(z) forward; the chosen surrogate derivative backward."""

        @staticmethod
        def forward(ctx, z, surrogate, slope):
            ctx.save_for_backward(z)
            ctx.surrogate, ctx.slope = surrogate, slope
            return (z > 0).to(z.dtype)

        @staticmethod
        def backward(ctx, grad):
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

        def forward(self, z):
            if torch.is_grad_enabled() and z.requires_grad:
                return HeavisideFunction.apply(z, self.surrogate, self.slope)
            return (z > 0).to(z.dtype)  # inference: a plain comparison

        def extra_repr(self) -> str:
            if self.surrogate is None:
                return ""
            if self.surrogate == "sigmoid":
                return f"surrogate='sigmoid', slope={self.slope:g}"
            return f"surrogate={self.surrogate!r}"

    class SoftplusFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return torch.clamp_min(z, 0.0) + torch.log1p(torch.exp(-torch.abs(z)))

        @staticmethod
        def backward(ctx, grad):
            (z,) = ctx.saved_tensors
            return grad * stable_sigmoid(z)

    class Softplus(nn.Module):
        """``log(1 + e^z) = max(z, 0) + log1p(e^−|z|)`` for every z; gradient ``sigmoid(z)``.

        mlplab's softplus: unlike ``nn.Softplus`` it has no threshold above which
        it returns ``z`` itself.
        """

        def forward(self, z):
            return SoftplusFunction.apply(z)

    class Pipeline(nn.Module):
        """Raw feature rows → ``mlplab predict``'s outputs: preprocessing, network, reading.

        ``forward(x)`` takes `(batch, n_columns)` float64 (the :attr:`columns`
        in order; a categorical column holds its category's index, see
        :meth:`encode`) and returns class probabilities `(batch, n_classes)`
        or regression values in target units `(batch, n_targets)`, float64.
        """

        def __init__(self, network: nn.Sequential, recipe: Recipe, dtype):
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

        def features(self, x):
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

        def forward(self, x):
            out = self.network(self.features(x)).to(torch.float64)
            kind = self.recipe.output
            if kind == "values":
                return out * self.target_scale + self.target_mean
            if kind == "softmax":
                e = torch.exp(out - out.max(dim=1, keepdim=True).values)
                return e / e.sum(dim=1, keepdim=True)
            p = out[:, 0] if kind == "probability" else stable_sigmoid(out[:, 0])
            return torch.stack([1 - p, p], dim=1)

        def encode(self, rows):
            """Raw rows (DataFrame, dicts, sequences) → the float64 tensor :meth:`forward` takes."""
            return torch.as_tensor(self.recipe.encode(rows))

        @torch.no_grad()
        def predict(self, rows) -> list:
            """Class labels (classification) or `(n, n_targets)` values, as ``mlplab predict``."""
            out = self(self.encode(rows))
            if self.recipe.is_regression:
                return out.numpy()
            return [self.classes[int(i)] for i in out.argmax(dim=1)]

    return {"Heaviside": Heaviside, "Softplus": Softplus, "Pipeline": Pipeline}


def heaviside_spec(surrogate: str | None, slope: float) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": "heaviside"}
    if surrogate is not None:
        spec["surrogate"] = surrogate
    if surrogate == "sigmoid":
        spec["slope"] = float(slope)
    return spec


def _torch_activation(act: Activation):
    from torch import nn

    params = dict(act.params)
    if act.name == "identity":
        return None
    if act.name == "heaviside":
        return _classes()["Heaviside"](params.get("surrogate"), params.get("slope", 10.0))
    if act.name == "leaky_relu":
        return nn.LeakyReLU(params["negative_slope"])
    if act.name == "gelu":
        return nn.GELU(approximate="tanh")
    if act.name == "softplus":
        return _classes()["Softplus"]()
    simple = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
    return simple[act.name]()


def to_torch(model: MLP, preprocessor=None):
    """``model`` as a ``torch.nn.Sequential`` of ``nn.Linear`` and activation modules.

    Layer ℓ becomes ``nn.Linear(d_{ℓ−1}, d_ℓ)`` with ``weight = W_ℓ`` `(d_ℓ, d_{ℓ−1})`
    and ``bias = b_ℓ``, followed by its activation module (none for identity),
    in the model's dtype, on the CPU. ``seq(x)`` for ``x`` `(batch, d_in)` equals
    ``model(x)`` to float rounding, and so do its gradients.

    Args:
        model: the :class:`~mlplab.nn.mlp.MLP`.
        preprocessor: a fitted :class:`~mlplab.data.Preprocessor` (or a
            :class:`~mlplab.export.recipe.Recipe`): then the result is a
            :class:`Pipeline` from raw feature rows to ``mlplab predict``'s outputs.

    Examples:
        >>> import mlplab as ml
        >>> seq = to_torch(ml.xor_network())
        >>> [type(m).__name__ for m in seq]
        ['Linear', 'Heaviside', 'Linear', 'Heaviside']
    """
    import torch
    from torch import nn

    check_model(model)
    dtype = getattr(torch, model.backend.dtype)
    modules = []
    for (b, W), act in zip(model.numpy_params(), model.activations, strict=True):
        linear = nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(W))  # (d_out, d_in): the same layout
            linear.bias.copy_(torch.as_tensor(b))
        modules.append(linear)
        module = _torch_activation(act)
        if module is not None:
            modules.append(module)
    seq = nn.Sequential(*modules)
    if preprocessor is None:
        return seq
    recipe = _as_recipe(preprocessor, model)
    return _classes()["Pipeline"](seq, recipe, dtype)


def _as_recipe(preprocessor, model: MLP) -> Recipe:
    return (
        preprocessor
        if isinstance(preprocessor, Recipe)
        else Recipe.from_preprocessor(preprocessor, model)
    )


def _from_torch_activation(module, where: str) -> dict | None:
    from torch import nn

    name = type(module).__name__
    classes = _classes()
    if isinstance(module, classes["Heaviside"]):
        return heaviside_spec(module.surrogate, module.slope)
    if isinstance(module, classes["Softplus"]):
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


def from_torch(module, *, backend: str = "numpy", dtype: str | None = None, device=None) -> MLP:
    """Import a PyTorch MLP: an ``nn.Sequential`` of ``nn.Linear`` and supported activations.

    Nested ``nn.Sequential`` blocks are flattened; ``nn.Identity`` is skipped;
    a ``Linear`` not followed by an activation gets ``identity``. ``dtype``
    defaults to the weights' dtype (float32 / float64). A :class:`Pipeline`
    gives its network.

    Raises:
        ConfigError: a module that is not ``Linear`` or a supported activation
            (named, with its position), two activations in a row, an activation
            before the first ``Linear``, or widths that do not chain.
    """
    import torch
    from torch import nn

    if isinstance(module, _classes()["Pipeline"]):
        module = module.network
    if not isinstance(module, nn.Sequential):
        raise ConfigError(
            f"from_torch needs a torch.nn.Sequential of Linear and activation modules; "
            f"got {type(module).__name__}."
        )
    params, activations = [], []
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


def _check_activation_place(params: list, activations: list, where: str, child) -> None:
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


def _flatten(module, prefix: str = ""):
    from torch import nn

    for name, child in module.named_children():
        where = f"{prefix}{name}"
        if isinstance(child, nn.Sequential):
            yield from _flatten(child, f"{where}.")
        else:
            yield f"position {where}", child


def save_torch(
    model: MLP, path: str | os.PathLike, *, metadata: dict | None = None, preprocessor=None
) -> None:
    """Write ``to_torch(model)``'s ``state_dict`` to ``path`` as safetensors, atomically.

    The file's metadata entry ``"mlplab_architecture"`` is JSON: the format
    name, ``sizes``, ``activations`` (mlplab specs), the ``modules`` of the
    ``nn.Sequential`` in order, the dtype, ``extra`` (``metadata``) and, with a
    ``preprocessor``, the ``preprocessing`` recipe, from which
    :func:`load_torch` rebuilds the :class:`Pipeline`. No pickle is involved.
    """
    from safetensors.torch import save

    from ..files.atomic import atomic_write_bytes

    seq = to_torch(model)
    recipe = None if preprocessor is None else _as_recipe(preprocessor, model)
    header = architecture(model, TORCH_FORMAT, metadata, recipe)
    header["modules"] = [type(m).__name__ for m in seq]
    state = {k: v.detach().contiguous() for k, v in seq.state_dict().items()}
    atomic_write_bytes(path, save(state, metadata={METADATA_KEY: json.dumps(header)}))


def load_torch(path: str | os.PathLike):
    """``(module, extra)`` from a file written by :func:`save_torch`.

    The module is the ``nn.Sequential``, or the :class:`Pipeline` when the
    file carries preprocessing.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    header = read_header(path, TORCH_FORMAT, lambda p: safe_open(p, "pt").metadata())
    model = skeleton(header)
    seq = to_torch(model)
    try:
        seq.load_state_dict(load_file(os.fspath(path)))
    except (RuntimeError, OSError, ValueError) as err:
        raise ModelFileError(f"{os.fspath(path)!r}: tensors do not match: {err}") from None
    recipe = header_recipe(header)
    if recipe is not None:
        import torch

        seq = _classes()["Pipeline"](seq, recipe, getattr(torch, model.backend.dtype))
    return seq, header.get("extra", {})
