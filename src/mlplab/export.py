"""Export to and import from PyTorch, Equinox and ONNX.

An :class:`~mlplab.nn.mlp.MLP` is a list of ``(b, W)`` with ``W`` `(d_out, d_in)`,
which is exactly ``torch.nn.Linear``'s and ``equinox.nn.Linear``'s layout, so
the conversions copy the numbers and map each activation onto its
counterpart:

========================  ==========================  ================================
mlplab                    PyTorch                     Equinox / JAX
========================  ==========================  ================================
identity                  (omitted)                   (omitted)
heaviside                 :class:`Heaviside` (here)   ``H`` with the same surrogate
sigmoid                   ``nn.Sigmoid``              ``jax.nn.sigmoid``
tanh                      ``nn.Tanh``                 ``jax.numpy.tanh``
relu                      ``nn.ReLU``                 ``jax.nn.relu``
leaky_relu (slope k)      ``nn.LeakyReLU(k)``         ``jax.nn.leaky_relu(·, k)``
softplus                  ``nn.Softplus()``           ``jax.nn.softplus``
gelu (tanh form)          ``nn.GELU("tanh")``         ``jax.nn.gelu(·, approximate=True)``
========================  ==========================  ================================

The Heaviside step keeps the lecture's ``H(0) = 0`` and its surrogate
gradient (if any), on both frameworks, so an exported step network trains the
same way it does in mlplab.

Files are written atomically and never pickled: ``save_torch`` writes a
``safetensors`` state dict with the architecture as JSON metadata;
``save_equinox`` writes a JSON line followed by ``eqx.tree_serialise_leaves``
(Equinox's documented pattern); ``save_onnx`` runs ``torch.onnx.export``.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass

import numpy as np

from .backend.arrays import get_backend, to_numpy
from .errors import ConfigError, DataError, ModelFileError
from .files.model import FORMAT_VERSION  # exports carry mlplab's own header version
from .nn.activations import Activation, get_activation
from .nn.mlp import MLP

TORCH_FORMAT = "mlplab-torch-sequential"
EQUINOX_FORMAT = "mlplab-equinox-mlp"
_METADATA_KEY = "mlplab_architecture"


# --- PyTorch -----------------------------------------------------------------


@functools.cache
def _torch_classes():
    """Define the PyTorch classes on first use (PyTorch is an optional dependency)."""
    import torch
    from torch import nn

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
                s = torch.sigmoid(ctx.slope * z)
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
            get_activation(_heaviside_spec(surrogate, slope))  # validates the settings
            self.surrogate = surrogate
            self.slope = float(slope)

        def forward(self, z):
            if torch.is_grad_enabled() and z.requires_grad:
                return HeavisideFunction.apply(z, self.surrogate, self.slope)
            return (z > 0).to(z.dtype)  # inference (and ONNX export): a plain comparison

        def extra_repr(self) -> str:
            if self.surrogate is None:
                return ""
            if self.surrogate == "sigmoid":
                return f"surrogate='sigmoid', slope={self.slope:g}"
            return f"surrogate={self.surrogate!r}"

    return Heaviside


def __getattr__(name: str):
    # `mlplab.export.Heaviside` and `.EquinoxMLP` are built on first access, so
    # importing this module needs neither PyTorch nor JAX.
    if name == "Heaviside":
        return _torch_classes()
    if name == "EquinoxMLP":
        return _equinox_classes()
    raise AttributeError(f"module 'mlplab.export' has no attribute {name!r}")


def _heaviside_spec(surrogate, slope) -> dict:
    spec: dict = {"name": "heaviside"}
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
        return _torch_classes()(params.get("surrogate"), params.get("slope", 10.0))
    if act.name == "leaky_relu":
        return nn.LeakyReLU(params["negative_slope"])
    if act.name == "gelu":
        return nn.GELU(approximate="tanh")
    simple = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "softplus": nn.Softplus}
    return simple[act.name]()


def to_torch(model: MLP):
    """``model`` as a ``torch.nn.Sequential`` of ``nn.Linear`` and activation modules.

    Layer ℓ becomes ``nn.Linear(d_{ℓ−1}, d_ℓ)`` with ``weight = W_ℓ`` `(d_ℓ, d_{ℓ−1})`
    and ``bias = b_ℓ``, followed by its activation module (none for identity),
    in the model's dtype, on the CPU. ``seq(x)`` for ``x`` `(batch, d_in)` equals
    ``model(x)`` to float rounding.

    Example:
        >>> import mlplab as ml
        >>> seq = to_torch(ml.xor_network())
        >>> [type(m).__name__ for m in seq]
        ['Linear', 'Heaviside', 'Linear', 'Heaviside']
    """
    import torch
    from torch import nn

    _check_model(model)
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
    return nn.Sequential(*modules)


def _from_torch_activation(module, where: str) -> dict | None:
    from torch import nn

    name = type(module).__name__
    if isinstance(module, _torch_classes()):
        return _heaviside_spec(module.surrogate, module.slope)
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
    defaults to the weights' dtype (float32 / float64).

    Raises:
        ConfigError: a module that is not ``Linear`` or a supported activation
            (named, with its position), two activations in a row, an activation
            before the first ``Linear``, or widths that do not chain.
    """
    import torch
    from torch import nn

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


def _flatten(module, prefix: str = ""):
    from torch import nn

    for name, child in module.named_children():
        where = f"{prefix}{name}"
        if isinstance(child, nn.Sequential):
            yield from _flatten(child, f"{where}.")
        else:
            yield f"position {where}", child


def save_torch(model: MLP, path, *, metadata: dict | None = None) -> None:
    """Write ``to_torch(model)``'s ``state_dict`` to ``path`` as safetensors, atomically.

    The file's metadata entry ``"mlplab_architecture"`` is JSON: the format
    name, ``sizes``, ``activations`` (mlplab specs), the ``modules`` of the
    ``nn.Sequential`` in order, the dtype and ``extra`` (``metadata``, e.g. the
    model file's preprocessing). :func:`load_torch` rebuilds the module from it;
    no pickle is involved.
    """
    from safetensors.torch import save

    from .files.atomic import atomic_write_bytes

    seq = to_torch(model)
    header = _architecture(model, TORCH_FORMAT, metadata)
    header["modules"] = [type(m).__name__ for m in seq]
    state = {k: v.detach().contiguous() for k, v in seq.state_dict().items()}
    atomic_write_bytes(path, save(state, metadata={_METADATA_KEY: json.dumps(header)}))


def load_torch(path):
    """``(nn.Sequential, extra)`` from a file written by :func:`save_torch`."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    header = _read_header(path, TORCH_FORMAT, lambda p: safe_open(p, "pt").metadata())
    seq = to_torch(_skeleton(header))
    try:
        seq.load_state_dict(load_file(os.fspath(path)))
    except (RuntimeError, OSError, ValueError) as err:
        raise ModelFileError(f"{os.fspath(path)!r}: tensors do not match: {err}") from None
    return seq, header.get("extra", {})


# --- Equinox -------------------------------------------------------------------


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
    import jax.numpy as jnp

    settings = dict(spec)
    name = settings.pop("name")
    if name == "heaviside":
        surrogate, slope = settings.get("surrogate"), float(settings.get("slope", 10.0))

        @jax.custom_jvp
        def step(z):
            return (z > 0).astype(z.dtype)  # H(0) = 0

        @step.defjvp
        def _(primals, tangents):
            (z,), (t,) = primals, tangents
            if surrogate == "sigmoid":
                s = jax.nn.sigmoid(slope * z)
                d = slope * s * (1 - s)
            elif surrogate == "straight-through":
                d = jnp.ones_like(z)
            else:
                d = jnp.zeros_like(z)
            return step(z), t * d

        return step
    if name == "leaky_relu":
        k = float(settings["negative_slope"])
        return lambda z: jax.nn.leaky_relu(z, k)
    return {
        "identity": lambda z: z,
        "sigmoid": jax.nn.sigmoid,
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "softplus": jax.nn.softplus,
        "gelu": lambda z: jax.nn.gelu(z, approximate=True),
    }[name]


@functools.cache
def _equinox_classes():
    import equinox as eqx
    import jax

    class EquinoxMLP(eqx.Module):
        """An MLP as an Equinox module: ``eqx.nn.Linear`` layers and their activations.

        ``model(x)`` takes one sample `(d_in,)` -> `(d_out,)`, as Equinox layers
        do, or a batch `(batch, d_in)` -> `(batch, d_out)` (vmapped).
        """

        layers: list
        activations: tuple = eqx.field(static=True)

        @eqx.filter_jit
        def __call__(self, x):
            if x.ndim == 2:
                return jax.vmap(self._one)(x)
            return self._one(x)

        def _one(self, x):
            for layer, sigma in zip(self.layers, self.activations, strict=True):
                x = sigma(layer(x))  # W (d_out, d_in) @ x (d_in,) + b
            return x

    return EquinoxMLP


def to_equinox(model: MLP):
    """``model`` as an Equinox module (a list of ``eqx.nn.Linear`` plus activations).

    ``eqx.nn.Linear`` stores ``weight`` `(d_out, d_in)` and ``bias`` `(d_out,)`:
    the same layout as mlplab. The result maps one sample `(d_in,)` to
    `(d_out,)` and a batch `(batch, d_in)` to `(batch, d_out)`, equal to
    ``model(x)`` to float rounding, and is a JAX pytree (``jax.grad``,
    ``eqx.filter_jit`` work on it).
    """
    import equinox as eqx
    import jax

    _check_model(model)
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
    return _equinox_classes()(layers, acts)


def from_equinox(module, *, backend: str = "numpy", dtype: str | None = None) -> MLP:
    """The :class:`~mlplab.nn.mlp.MLP` of a module made by :func:`to_equinox`."""
    if type(module).__name__ != "EquinoxMLP" or not hasattr(module, "layers"):
        raise ConfigError(
            f"from_equinox needs a module made by mlplab.export.to_equinox; "
            f"got {type(module).__name__}."
        )
    params = [(to_numpy(layer.bias), to_numpy(layer.weight)) for layer in module.layers]
    specs = [dict(a.spec) for a in module.activations]
    dtype = dtype or str(params[0][1].dtype)
    return MLP.from_params(params, specs, backend=backend, dtype=dtype)


def save_equinox(model: MLP, path, *, metadata: dict | None = None) -> None:
    """Write ``to_equinox(model)`` to ``path``: one JSON line, then ``eqx.tree_serialise_leaves``.

    This is Equinox's documented pattern for saving a model with its
    hyperparameters; :func:`load_equinox` reads it back. Written atomically.
    """
    import equinox as eqx

    from .files.atomic import atomic_writer

    module = to_equinox(model)
    header = _architecture(model, EQUINOX_FORMAT, metadata)
    with atomic_writer(path) as f:
        f.write((json.dumps(header) + "\n").encode())
        eqx.tree_serialise_leaves(f, module)


def load_equinox(path):
    """``(EquinoxMLP, extra)`` from a file written by :func:`save_equinox`."""
    import equinox as eqx

    def first_line(p):
        with open(p, "rb") as f:
            return {_METADATA_KEY: f.readline(1_000_000).decode()}

    header = _read_header(path, EQUINOX_FORMAT, first_line)
    skeleton = to_equinox(_skeleton(header))
    with open(path, "rb") as f:
        f.readline(1_000_000)
        try:
            module = eqx.tree_deserialise_leaves(f, skeleton)
        except Exception as err:  # numpy raises several kinds on truncated data
            raise ModelFileError(
                f"{os.fspath(path)!r}: the weights after the header are truncated or "
                f"corrupted ({type(err).__name__})."
            ) from None
    return module, header.get("extra", {})


# --- ONNX ------------------------------------------------------------------------


def to_onnx_bytes(model: MLP, *, metadata: dict | None = None) -> bytes:
    """``model`` as an ONNX model (bytes), through ``torch.onnx.export``.

    The graph has one input ``x`` `(batch, d_in)` with a dynamic batch size and
    one output ``y`` `(batch, d_out)`; ``metadata`` and the architecture are
    stored in the model's ``metadata_props`` under ``"mlplab_architecture"``.
    Needs the ``onnx`` and ``onnxscript`` packages (``pip install onnx onnxscript``).
    """
    import contextlib
    import io as _io
    import logging

    import torch

    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as err:
        raise ConfigError(
            f"ONNX export needs the `onnx` and `onnxscript` packages ({err.name} is missing): "
            "pip install onnx onnxscript."
        ) from None
    seq = to_torch(model).eval()
    example = torch.zeros((2, model.n_inputs), dtype=getattr(torch, model.backend.dtype))
    batch = torch.export.Dim("batch", min=1)
    quiet = _io.StringIO()  # the exporter prints progress lines; keep them off the terminal
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with torch.no_grad(), contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            program = torch.onnx.export(
                seq,
                (example,),
                input_names=["x"],
                output_names=["y"],
                dynamic_shapes=({0: batch},),
                dynamo=True,
                verbose=False,
            )
    finally:
        logger.setLevel(level)
    proto = program.model_proto
    entry = proto.metadata_props.add()
    entry.key = _METADATA_KEY
    entry.value = json.dumps(_architecture(model, "mlplab-onnx", metadata))
    return proto.SerializeToString()


def save_onnx(model: MLP, path, *, metadata: dict | None = None) -> None:
    """Write :func:`to_onnx_bytes` of ``model`` to ``path`` atomically."""
    from .files.atomic import atomic_write_bytes

    atomic_write_bytes(path, to_onnx_bytes(model, metadata=metadata))


# --- shared helpers -------------------------------------------------------------------


def _check_model(model) -> None:
    if not isinstance(model, MLP):
        raise ConfigError(f"`model` must be an mlplab MLP; got {type(model).__name__}.")
    for i, (b, W) in enumerate(model.numpy_params()):
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise DataError(f"cannot export: layer {i} holds NaN or infinite weights.")


def _architecture(model: MLP, fmt: str, metadata: dict | None) -> dict:
    """mlplab's own architecture header (``io``), with the export's format name and metadata."""
    from .files.model import _architecture as architecture
    from .files.model import _check_json_dict

    return {**architecture(model, fmt), "extra": _check_json_dict("metadata", metadata)}


def _read_header(path, fmt: str, read) -> dict:
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise ModelFileError(f"{name!r} does not exist or is not a file.")
    try:
        raw = read(name) or {}
        header = json.loads(raw[_METADATA_KEY])
    except Exception:  # any parse failure of a foreign or damaged file
        raise ModelFileError(
            f"{name!r} is not a file written by mlplab's {fmt} export (no readable "
            f"{_METADATA_KEY!r} header)."
        ) from None
    found = header.get("format") if isinstance(header, dict) else None
    if found != fmt:
        raise ModelFileError(f"{name!r} is not an {fmt} file (format {found!r}).")
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{name!r} has format version {header.get('format_version')!r}; this mlplab reads "
            f"version {FORMAT_VERSION}."
        )
    return header


def _skeleton(header: dict) -> MLP:
    """A zero-weight MLP with the header's architecture (to be filled by loaded weights)."""
    try:
        sizes = [int(s) for s in header["sizes"]]
        params = [
            (np.zeros(o), np.zeros((o, i))) for i, o in zip(sizes[:-1], sizes[1:], strict=True)
        ]
        return MLP.from_params(params, header["activations"], dtype=header["dtype"])
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"the file's architecture header is invalid: {err}") from None


__all__ = [
    "JaxActivation",
    "from_equinox",
    "from_torch",
    "load_equinox",
    "load_torch",
    "save_equinox",
    "save_onnx",
    "save_torch",
    "to_equinox",
    "to_onnx_bytes",
    "to_torch",
]
