"""Array backends: NumPy (default), PyTorch and JAX, behind the array API.

The math modules never import a framework. They take ``xp = namespace(x)``
(``array_api_compat.array_namespace``) and use it. This module is the one place
that knows the frameworks: importing them lazily, choosing devices and dtypes,
moving arrays between them, and running the training loop (a plain Python loop
on NumPy and PyTorch; one ``jax.jit``-compiled ``lax.scan`` on JAX).
"""

from __future__ import annotations

import importlib
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from array_api_compat import array_namespace

from ..errors import ConfigError, DataError

if TYPE_CHECKING:
    import torch

    from ..nn.mlp import Array, Params

BACKENDS = ("numpy", "torch", "jax")
DTYPES = ("float32", "float64")


_NAMESPACES: dict[type | tuple[type, ...], Any] = {}


def namespace(*arrays: Array) -> Any:
    """The array-API namespace of ``arrays`` (NumPy, PyTorch or JAX).

    Cached by the arrays' types: ``array_namespace`` costs ~2 µs a call, and the
    math asks for it dozens of times a step, which dominated tiny networks on
    NumPy. The namespace depends only on the type (a JAX tracer type maps to
    ``jax.numpy`` like a JAX array does).
    """
    key = type(arrays[0]) if len(arrays) == 1 else tuple(map(type, arrays))
    xp = _NAMESPACES.get(key)
    if xp is None:
        xp = array_namespace(*arrays)
        if xp.__name__ == "array_api_compat.numpy":
            xp = _fast_numpy(xp)
        _NAMESPACES[key] = xp
    return xp


def _fast_numpy(compat: types.ModuleType) -> types.ModuleType:
    """``array_api_compat.numpy`` with ``sum`` spelled as ``np.add.reduce``.

    ``np.sum`` is a Python wrapper around ``np.add.reduce`` (the same pairwise
    summation, the same result) that costs ~1.5 µs a call: several times the
    sum itself for the lecture's 4-sample XOR, summed several times a step.
    """
    fast = types.ModuleType(compat.__name__, compat.__doc__)
    fast.__dict__.update(vars(compat))

    def sum(  # noqa: A001 (array-API name)
        x: np.ndarray,
        /,
        *,
        axis: int | tuple[int, ...] | None = None,
        dtype: Any = None,
        keepdims: bool = False,
    ) -> Any:
        if dtype is not None or x.dtype.kind not in "fc":
            return compat.sum(x, axis=axis, dtype=dtype, keepdims=keepdims)
        # (numpy's stubs type `keepdims` only as a literal True or False without `out`)
        return np.add.reduce(x, axis=axis, keepdims=keepdims)  # type: ignore[call-overload]

    fast.__dict__["sum"] = sum
    return fast


def is_available(backend: str) -> bool:
    """Whether ``backend``'s framework is installed."""
    module = {"numpy": "numpy", "torch": "torch", "jax": "jax"}[backend]
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def available_backends() -> list[str]:
    """The backends whose framework imports here."""
    return [b for b in BACKENDS if is_available(b)]


@dataclass(frozen=True)
class Backend:
    """Where arrays live: a framework, a dtype and a device.

    ``device`` is ``None`` for the framework's default: CUDA for PyTorch when
    present, the first JAX device (GPU when present), the CPU for NumPy.
    """

    name: str = "numpy"
    dtype: str = "float32"
    device: Any = None

    @property
    def xp(self) -> Any:
        """The array-API namespace of this backend."""
        if self.name == "numpy":
            import array_api_compat.numpy as numpy_xp

            return numpy_xp
        if self.name == "torch":
            import array_api_compat.torch as torch_xp

            return torch_xp
        import jax.numpy as jax_xp

        return jax_xp

    def asarray(self, x: Any, dtype: str | None = None) -> Array:
        """``x`` (NumPy, PyTorch, JAX array or nested lists) as this backend's array.

        ``dtype`` defaults to the backend's float dtype; pass ``"int64"`` (etc.)
        for labels.
        """
        dtype = dtype or self.dtype
        if self.name == "numpy":
            return np.asarray(to_numpy(x), dtype=dtype)
        if self.name == "torch":
            import torch

            tdtype = getattr(torch, dtype)
            if isinstance(x, torch.Tensor):
                return x.detach().to(device=self.torch_device, dtype=tdtype)
            host = np.asarray(to_numpy(x), dtype=dtype)
            if not host.flags.writeable:  # e.g. a JAX array's buffer: torch needs its own copy
                host = host.copy()
            return torch.as_tensor(host, device=self.torch_device)
        import jax
        import jax.numpy as jnp

        if dtype == "float64":
            jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]  # jax: unannotated
        if _is_jax(x):
            arr = jnp.asarray(x, dtype=dtype)
        else:  # NumPy casts; then the copy to the device, measured on the CPU:
            host = np.asarray(to_numpy(x))
            if host.size * np.dtype(dtype).itemsize > 2**20 and self.device is None:
                if jax.default_backend() == "cpu":  # JAX keeps using this copy: no copy of its own
                    return jax.device_put(_aligned_copy(host, dtype))
            host = np.asarray(host, dtype=dtype)
            # `jnp.asarray` without a dtype took 19 µs for a tiny array (`device_put` 36 µs);
            # from ~1 MiB `device_put` is faster (31 vs 45 ms for 51 MiB)
            if host.nbytes > 2**20 or self.device is not None:
                return jax.device_put(host, self.device)
            arr = jnp.asarray(host)
        return jax.device_put(arr, self.device) if self.device is not None else arr

    @property
    def torch_device(self) -> torch.device:
        import torch

        if self.device is not None:
            return torch.device(self.device)
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def describe(self) -> str:
        if self.name == "torch":
            return f"torch ({self.torch_device}, {self.dtype})"
        if self.name == "jax":
            import jax

            return f"jax ({jax.devices()[0].platform}, {self.dtype})"
        return f"numpy (cpu, {self.dtype})"


def get_backend(
    backend: str | Backend = "numpy", dtype: str = "float32", device: Any = None
) -> Backend:
    """Resolve a backend name to a :class:`Backend`, with a clear error if unknown or missing."""
    if isinstance(backend, Backend):
        return backend
    if backend not in BACKENDS:
        raise ConfigError(
            f"`backend` must be one of {', '.join(map(repr, BACKENDS))}; got {backend!r}."
        )
    if dtype not in DTYPES:
        raise ConfigError(f"`dtype` must be one of {', '.join(map(repr, DTYPES))}; got {dtype!r}.")
    if not is_available(backend):
        raise ConfigError(
            f"backend {backend!r} is not installed. Install it with "
            f"`pip install 'mlplab[{backend}]'`, or use backend='numpy'."
        )
    return Backend(backend, dtype, resolve_device(backend, device))


def resolve_device(backend: str, device: Any) -> Any:
    """``device`` ("cpu", "cuda", "cuda:1", "gpu:0", a framework device or None) checked
    for ``backend``: a ``torch.device`` string, a ``jax.Device``; a clear error if absent."""
    if device is None or not isinstance(device, str):
        return device
    text = device.strip().lower()
    kind, _, index = text.partition(":")
    if not re.fullmatch(r"(cpu|cuda|gpu)(:\d+)?", text):
        raise ConfigError(f"`device` must be 'cpu', 'cuda' or 'cuda:N'; got {device!r}.")
    if backend == "numpy":
        if kind != "cpu":
            raise ConfigError(
                f"NumPy runs on the CPU only; for device {device!r} use backend 'torch' or 'jax'."
            )
        return None
    if backend == "torch":
        import torch

        if kind != "cpu" and not torch.cuda.is_available():
            raise ConfigError(f"device {device!r}: PyTorch sees no CUDA GPU here; use 'cpu'.")
        if index and int(index) >= max(torch.cuda.device_count(), 1):
            raise ConfigError(
                f"device {device!r}: PyTorch sees {torch.cuda.device_count()} CUDA GPU(s)."
            )
        return text.replace("gpu", "cuda")
    import jax

    platform = "cpu" if kind == "cpu" else "gpu"
    try:
        found = jax.devices(platform)
    except RuntimeError:
        found = []
    if not found or int(index or 0) >= len(found):
        raise ConfigError(f"device {device!r}: JAX sees {len(found)} {platform} device(s).")
    return found[int(index or 0)]


def backend_of(x: Any) -> str:
    """The backend name of an array: 'numpy', 'torch' or 'jax'."""
    module = type(x).__module__.split(".")[0]
    if module == "torch":
        return "torch"
    if module in ("jax", "jaxlib"):
        return "jax"
    return "numpy"


def _is_jax(x: Any) -> bool:
    return type(x).__module__.split(".")[0] in ("jax", "jaxlib")


def _aligned_copy(x: np.ndarray, dtype: str) -> np.ndarray:
    """A private copy of ``x`` in ``dtype`` whose data start on a 64-byte boundary.

    JAX on the CPU uses such a NumPy buffer in place (``device_put`` keeps a
    reference to it instead of copying); NumPy's large arrays start 16 bytes past
    a page, which JAX copies itself. For the 51 MiB of B's inputs: 16 ms for
    this copy against 31 ms for ``device_put``'s (min of 10, loaded machine).
    The copy is nobody else's, so the JAX array stays immutable.
    """
    itemsize = np.dtype(dtype).itemsize
    raw = np.empty(x.size * itemsize + 64, dtype=np.uint8)
    start = -raw.ctypes.data % 64
    out = raw[start : start + x.size * itemsize].view(dtype).reshape(x.shape)
    np.copyto(out, x, casting="unsafe")  # the cast np.asarray(x, dtype) makes
    return out


def to_numpy(x: Any) -> np.ndarray:
    """Any array (NumPy, PyTorch on any device, JAX, lists) as a NumPy array.

    A JAX array on the CPU comes back as a read-only view of its buffer (DLPack),
    not a copy: ``np.asarray`` copied it, ~40 ms and 51 MiB more for the 16384 x 784
    inputs of the wide benchmark, only to check that they are finite.
    """
    module = type(x).__module__.split(".")[0]
    if module == "torch":
        host: np.ndarray = x.detach().cpu().numpy()
        return host
    if module in ("jax", "jaxlib") and getattr(x, "is_fully_addressable", False):
        try:
            return np.from_dlpack(x)
        except (BufferError, RuntimeError, TypeError, ValueError):
            pass  # on a GPU, or a dtype DLPack does not carry: copy below
    try:
        arr = np.asarray(x)
    except ValueError as err:  # ragged nested lists
        raise DataError(
            f"input is not a rectangular array of numbers ({err}); make every row the same length."
        ) from None
    if arr.dtype == object:
        raise DataError(
            "input holds Python objects (strings or mixed types), not numbers; "
            "convert it to a numeric array first."
        )
    return arr


def matmul(a: Array, b: Array) -> Array:
    """``a @ b`` for `(n, k)` and `(k, m)`; the same numbers on every backend.

    On NumPy the product is spelled by its size (one BLAS thread, best of 7):

    * an inner dimension ``k == 1`` (an outer product: the 1-input layer of the
      lecture's function fits, or the blame passed down from a 1-output layer) has
      one term per entry, the same number in every spelling (BLAS adds each product
      to 0, so where ``a * b`` writes -0.0 ``np.dot`` writes 0.0). ``np.dot`` is the
      fastest for rows of fewer than :data:`OUTER_DOT_BELOW` entries (measured with
      OpenBLAS's default two threads, best of 5-7): `(256, 1) @ (1, 64)` 5.3 µs,
      against 9.0 µs broadcast as ``a * b`` and 24 µs for ``np.matmul``; `(4, 1) @
      (1, 8)` 0.63 against 0.86 µs. Longer rows are ``a * b``: `(256, 1) @ (1, 4096)`,
      ``np.dot`` took 2.3x as long;
    * tiny products (fewer than :data:`DOT_BELOW` multiply-adds) are ``np.dot``,
      ~0.3 µs less per call than ``np.matmul`` (a tenth of a tiny network's step);
    * the rest are ``np.matmul`` (what ``@`` calls), which NumPy's ``np.dot`` trails
      by up to 1.7x on a short inner dimension: the blame passed down from a
      10-class output layer, `(256, 10) @ (10, 1024)`, 127 µs against 149 µs
      (84 against 139 µs on two threads).
    """
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2:
        n, k = a.shape
        if k == 1:  # (n, 1) @ (1, m) -> (n, m), one term each
            return np.dot(a, b) if b.shape[-1] < OUTER_DOT_BELOW else a * b
        if n * k * b.shape[-1] < DOT_BELOW:
            return np.dot(a, b)  # (n, k) @ (k, m) -> (n, m)
        return np.matmul(a, b)  # (n, k) @ (k, m) -> (n, m)
    return a @ b


#: NumPy products of fewer multiply-adds than this are ``np.dot`` (see :func:`matmul`).
DOT_BELOW = 1 << 16
#: NumPy outer products with rows shorter than this are ``np.dot`` (see :func:`matmul`).
OUTER_DOT_BELOW = 2048


def batch_matmul_tn(a: Array, b: Array) -> Array:
    """``aᵀ b`` for batch-first arrays: `(batch, m)`, `(batch, n)` -> `(m, n)`, Σ over the batch.

    ``a.T @ b`` in general; on the CPU, two shapes get a faster spelling of the
    same sum (measured with the loop compiled or eager, 2 threads):

    * JAX writes it as one ``dot_general`` contracting axis 0 of both (what
      ``jax.grad`` emits): for ``n == 1`` (a 1-input layer's weight gradient)
      ``a.T @ b`` became a slow loop, and the lecture's 1-64-1 net trained 2x slower;
    * a thin result (a layer with few inputs and many outputs: 2-D data into a
      wide layer) is computed as ``(bᵀ a)ᵀ``. XLA's dot writing a `(m, 2..16)`
      result ran 2-9x slower than the `(n, m)` one plus a transpose (a 2-64-1 net
      on 256 points trained 2x faster); PyTorch's 1.3-3x for ``n <= 8``. On JAX
      the choice is made when the step is traced, from JAX's default backend
      (a tracer has no device); either spelling gives the same sums.
    """
    if type(a) is np.ndarray:
        return matmul(a.T, b)  # (m, batch) @ (batch, n): np.dot or np.matmul by size
    batch, m, n = a.shape[0], a.shape[1], b.shape[1]
    if _is_jax(a):
        import jax
        from jax import lax

        contract_batch = (((0,), (0,)), ((), ()))
        if 2 <= n <= 16 and m >= 4 * n and batch >= 32 and jax.default_backend() == "cpu":
            # the barrier keeps XLA from folding the transpose back into the dot
            # (the ignore: jax's optimization_barrier is unannotated)
            return lax.optimization_barrier(lax.dot_general(b, a, contract_batch)).T  # type: ignore[no-untyped-call]
        return lax.dot_general(a, b, contract_batch)
    if n <= 8 and m >= 16 * n and batch >= 256 and a.device.type == "cpu":  # PyTorch
        return (b.T @ a).T
    return a.T @ b


def batch_sum(a: Array) -> Array:
    """``Σ_batch a``: `(batch, n)` -> `(n,)`; on NumPy ``np.add.reduce`` itself (the same sum
    as ``np.sum``, without its Python wrapper: ~0.5 µs of a tiny network's ~30 µs step)."""
    if type(a) is np.ndarray and a.dtype.kind == "f":
        return np.add.reduce(a, axis=0)
    return namespace(a).sum(a, axis=0)


def zeros_like_tree(tree: Params) -> list[tuple[Array, ...]]:
    """Zeros shaped like a list of ``(b, W)`` pairs: an optimizer's fresh moments.

    On JAX one compiled call makes them all (cached per shapes): a ``zeros_like``
    per array is a separate dispatch, ~25 µs each, a fixed cost of every ``fit``
    that showed next to the lecture's 5000-step runs of ~70 ms.
    """
    if tree and _is_jax(tree[0][1]):
        moments: list[tuple[Array, ...]] = _jax_tree_fn("zeros")(tree)
        return moments
    if tree and type(tree[0][1]) is np.ndarray:
        # np.zeros gets zeroed pages from the system that count as memory only once
        # written; zeros_like writes every zero (15 MiB of peak memory for the wide benchmark's
        # Adam moments, which the in-place update never writes: it writes new arrays)
        return [tuple(np.zeros(p.shape, p.dtype) for p in layer) for layer in tree]
    return [tuple(namespace(p).zeros_like(p) for p in layer) for layer in tree]


def all_finite(tree: Params) -> bool:
    """Whether every array of a list of ``(b, W)`` pairs is finite (NaN and ±inf are not)."""
    if tree and _is_jax(tree[0][1]):
        return bool(_jax_tree_fn("all_finite")(tree))
    # x * 0 is 0 for finite x, NaN otherwise: one reduction per array, on its device
    return all(bool(np.isfinite(float(to_numpy((b * 0).sum() + (W * 0).sum())))) for b, W in tree)


_JAX_TREE_FNS: dict[str, Callable[[Params], Any]] = {}


def _jax_tree_fn(name: str) -> Callable[[Params], Any]:
    """A cached ``jax.jit`` of one of the tree helpers above."""
    if name not in _JAX_TREE_FNS:
        import jax
        import jax.numpy as jnp

        def zeros(tree: Params) -> Any:
            return jax.tree.map(jnp.zeros_like, tree)

        def finite(tree: Params) -> Any:
            return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)]))

        _JAX_TREE_FNS.update(zeros=jax.jit(zeros), all_finite=jax.jit(finite))
    return _JAX_TREE_FNS[name]


def dtype_kind(x: Any) -> str:
    """NumPy's dtype kind of any array ('b', 'i', 'u', 'f', 'c', 'U', …), without a copy."""
    if type(x).__module__.split(".")[0] == "torch":
        if x.is_complex():
            return "c"
        import torch

        return "f" if x.is_floating_point() else ("b" if x.dtype == torch.bool else "i")
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        kind: str = np.dtype(dtype).kind
        if kind != "O":
            return kind
    return to_numpy(x).dtype.kind  # lists; object arrays get to_numpy's message


def from_numpy_like(values: np.ndarray, like: Array) -> Array:
    """``values`` as an array of the same framework (and device) as ``like``."""
    kind = backend_of(like)
    if kind == "torch":
        import torch

        if not values.flags.writeable:  # e.g. read from a JAX array: torch needs its own copy
            values = values.copy()
        return torch.as_tensor(values, device=like.device)
    if kind == "jax":
        import jax.numpy as jnp

        return jnp.asarray(values)
    return values


# --- the training loop: how steps are iterated on each backend -------------


def to_index(backend: Backend, idx: np.ndarray) -> Array:
    """NumPy row indices ``idx`` as an index array of ``backend`` (on its device)."""
    if backend.name == "torch":
        import torch

        return torch.as_tensor(idx, device=backend.torch_device)
    if backend.name == "jax":
        import jax.numpy as jnp

        return jnp.asarray(idx)
    return idx
