"""The multi-layer perceptron: a composition of wide layers.

``z₁ = σ₁(b₁ + W₁ x)``, ``z₂ = σ₂(b₂ + W₂ z₁)``, …, ``ŷ = σ_ℓ(b_ℓ + W_ℓ z_{ℓ−1})``.
An MLP is an ordered list of ``(b, W)`` pairs plus one activation per layer;
"a four-layer MLP has four parameter matrices". :func:`forward` and
:func:`backward` are pure functions of that list; :class:`MLP` holds one,
with its architecture, backend and seeded initialisation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..backend.arrays import Backend, dtype_kind, get_backend, to_numpy
from ..errors import ConfigError, DataError, check_choice, check_number
from .activations import RELU_FAMILY, Activation, get_activation, stable_sigmoid
from .layers import LayerCache, dense_backward, dense_forward

if TYPE_CHECKING:
    from ..train.state import History

#: A NumPy, PyTorch or JAX array (the array API is duck-typed; see ``backend.arrays``).
Array = Any
#: A network's parameters: ``[(b, W)]``, one pair per layer.
Params = Sequence[tuple[Any, Any]]

INITS = ("auto", "glorot", "he", "lecun", "zeros")


# --- pure functions --------------------------------------------------------


def forward(params: Params, activations: Sequence[Activation], x: Array) -> Array:
    """ŷ for a batch: `(batch, d_in)` -> `(batch, d_out)`."""
    for layer, sigma in zip(params, activations, strict=True):
        x = dense_forward(x, layer, sigma).a  # (batch, d_in) -> (batch, d_out)
    return x


def forward_cache(
    params: Params, activations: Sequence[Activation], x: Array
) -> tuple[Array, list[LayerCache]]:
    """ŷ and every layer's ``(x, z, a)``, for :func:`backward`."""
    caches = []
    for layer, sigma in zip(params, activations, strict=True):
        cache = dense_forward(x, layer, sigma)
        caches.append(cache)
        x = cache.a
    return x, caches


class Backward(NamedTuple):
    """Result of backpropagation."""

    grads: list[Any]  # [(grad_b, grad_W)] per layer, shaped like params
    deltas: list[Any]  # [delta] per layer, (batch, d_out): ∂L/∂z, the blame of each neuron


def backward(
    params: Params,
    activations: Sequence[Activation],
    caches: Sequence[LayerCache],
    grad_out: Array,
) -> Backward:
    r"""Backpropagation: from ``grad_out = ∂L/∂ŷ`` `(batch, d_out)` to every layer's gradients.

    Walks the layers from the output down (:func:`~mlplab.nn.layers.dense_backward`
    for each). At layer $\ell$, with $a_\ell = \sigma_\ell(z_\ell)$ and $a_0 = x$:

    $$
    \begin{aligned}
    \delta_\ell &= \frac{\partial L}{\partial a_\ell} \odot \sigma_\ell'(z_\ell)
        && \text{the fault assigned to each neuron} \\
    \frac{\partial L}{\partial W_\ell} &= \delta_\ell^\top a_{\ell-1}, \quad
        \frac{\partial L}{\partial b_\ell} = \textstyle\sum_{\text{batch}} \delta_\ell \\
    \frac{\partial L}{\partial a_{\ell-1}} &= \delta_\ell W_\ell
        && \text{the blame passed one layer down}
    \end{aligned}
    $$

    Returns:
        ``Backward(grads, deltas)``, with ``grads`` ``[(grad_b, grad_W)]`` shaped like
        ``params`` and ``deltas`` ``[delta_ℓ]``, each `(batch, d_out)` of its layer.
    """
    n = len(params)
    grads: list[Any] = [None] * n
    deltas: list[Any] = [None] * n
    grad_a = grad_out
    for i in reversed(range(n)):
        grad_a, grads[i], deltas[i] = dense_backward(
            caches[i], params[i], activations[i], grad_a, need_grad_x=i > 0
        )
    return Backward(grads, deltas)


# --- initialisation --------------------------------------------------------


def init_params(
    sizes: Sequence[int],
    activations: Sequence[Activation],
    init: str = "auto",
    seed: int = 0,
    dtype: Any = np.float64,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded initial ``[(b, W)]`` as NumPy arrays (float64 unless ``dtype`` says otherwise).

    ``"glorot"``: W ~ U(±√(6 / (d_in + d_out))) (suits tanh, sigmoid);
    ``"he"``: W ~ N(0, 2 / d_in) (suits the ReLU family);
    ``"lecun"``: W ~ N(0, 1 / d_in); ``"zeros"``; ``"auto"`` picks He for a
    layer whose activation is in the ReLU family, else Glorot. Biases start at 0.
    Drawn from ``numpy.random.default_rng(seed)`` so every backend starts equal;
    the draws are float64, and ``dtype`` rounds each once (as ``astype`` would).
    """
    return list(iter_init_params(sizes, activations, init, seed, dtype))


def iter_init_params(
    sizes: Sequence[int],
    activations: Sequence[Activation],
    init: str = "auto",
    seed: int = 0,
    dtype: Any = np.float64,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """:func:`init_params` one layer at a time (so a caller can move each to its backend)."""
    rng = np.random.default_rng(seed)
    for d_in, d_out, sigma in zip(sizes[:-1], sizes[1:], activations, strict=True):
        scheme = init
        if init == "auto":
            scheme = "he" if sigma.name in RELU_FAMILY else "glorot"
        W = np.zeros((d_out, d_in), dtype=dtype)
        if scheme != "zeros":
            _draw_into(W, rng, scheme)
        yield np.zeros(d_out, dtype=dtype), W


INIT_BLOCK = 1 << 16  # float64 draws per block: 512 KiB, not the whole matrix in float64


def _draw_into(W: np.ndarray, rng: np.random.Generator, scheme: str) -> None:
    """Fill ``W`` `(d_out, d_in)` with the scheme's draws, a block of rows at a time.

    The generator fills arrays element by element, so blocks of rows draw the
    numbers one draw of the whole matrix would; each is scaled in float64 and
    rounded once into ``W``'s dtype. The same numbers as drawing, scaling and
    casting the whole matrix (``tests/test_layers.py``), without its float64
    copy (B's 1024 x 1024 layer: 8 MiB, twice, before training).
    """
    d_out, d_in = W.shape
    rows = max(1, INIT_BLOCK // d_in)
    for r in range(0, d_out, rows):
        shape = (min(rows, d_out - r), d_in)
        if scheme == "glorot":
            limit = math.sqrt(6.0 / (d_in + d_out))
            block = rng.uniform(-limit, limit, size=shape)
        else:  # "he", "lecun": N(0, 1) scaled
            block = rng.standard_normal(shape)
            block *= math.sqrt((2.0 if scheme == "he" else 1.0) / d_in)
        W[r : r + shape[0]] = block


# --- the model -------------------------------------------------------------


class MLP:
    """A multi-layer perceptron with explicit backpropagation.

    Args:
        n_inputs: d_in, the number of input features.
        hidden: width of each hidden layer, e.g. ``(64, 64)``; ``()`` for
            a single layer (a linear model / one wide layer).
        n_outputs: width of the output layer.
        activation: σ of every hidden layer, or a list with one per hidden layer.
        output_activation: σ of the output layer. Keep ``"identity"`` to train
            with a loss "from logits" (binary/softmax cross-entropy).
        init: ``"auto"``, ``"glorot"``, ``"he"``, ``"lecun"`` or ``"zeros"``.
        seed: seed of the initial weights (the same on every backend).
        backend: ``"numpy"``, ``"torch"`` or ``"jax"``.
        dtype: ``"float32"`` or ``"float64"``.
        device: framework device (``None``: CUDA / GPU when present).

    Examples:
        >>> net = MLP(2, [8], 1, activation="tanh", seed=0)
        >>> net.shapes
        [((8,), (8, 2)), ((1,), (1, 8))]
    """

    #: The :class:`~mlplab.train.History` of the last ``fit`` (set by training).
    history: History

    def __init__(
        self,
        n_inputs: int,
        hidden: Sequence[int] = (),
        n_outputs: int = 1,
        *,
        activation: str | Activation | Sequence[str | Activation] = "tanh",
        output_activation: str | Activation = "identity",
        init: str = "auto",
        seed: int = 0,
        backend: str | Backend = "numpy",
        dtype: str = "float32",
        device: Any = None,
    ) -> None:
        check_number("n_inputs", n_inputs, ge=1, integer=True)
        check_number("n_outputs", n_outputs, ge=1, integer=True)
        hidden = check_hidden(hidden)
        check_choice("init", init, INITS)
        check_number("seed", seed, ge=0, integer=True)
        if not isinstance(activation, list | tuple):  # one activation for every hidden layer
            hidden_acts: list[Any] = [activation] * len(hidden)
        else:
            hidden_acts = list(activation)
            if len(hidden_acts) != len(hidden):
                raise ConfigError(
                    f"`activation` lists {len(hidden_acts)} activations for "
                    f"{len(hidden)} hidden layers; give one per hidden layer or one name."
                )
        self.sizes = [int(n_inputs), *hidden, int(n_outputs)]
        self.activations = [get_activation(a) for a in hidden_acts] + [
            get_activation(output_activation)
        ]
        self.init = init
        self.seed = int(seed)
        self.backend = get_backend(backend, dtype, device)
        _check_fits_in_memory(self.sizes)
        # layer by layer, drawn in the backend's dtype: no float64 copy of the whole net
        layers = iter_init_params(self.sizes, self.activations, init, seed, self.backend.dtype)
        self.params = [self._to_backend([layer])[0] for layer in layers]

    # construction from given numbers (the lecture's hand-set networks, loaded files)
    @classmethod
    def from_params(
        cls,
        params: Params,
        activations: Sequence[str | dict[str, Any] | Activation],
        *,
        backend: str | Backend = "numpy",
        dtype: str = "float32",
        device: Any = None,
    ) -> MLP:
        """An MLP with the given ``[(b, W)]`` and one activation per layer.

        ``W`` of layer ℓ is `(d_ℓ, d_{ℓ−1})`; shapes are checked to chain.
        """
        params = [(to_numpy(b), to_numpy(W)) for b, W in params]
        if not params:
            raise ConfigError("`params` must hold at least one (b, W) layer.")
        if len(activations) != len(params):
            raise ConfigError(
                f"`activations` has {len(activations)} entries for {len(params)} layers; "
                "give one activation per layer."
            )
        sizes = [params[0][1].shape[1] if params[0][1].ndim == 2 else -1]
        for i, (b, W) in enumerate(params):
            if W.ndim != 2 or b.shape != (W.shape[0],) or W.shape[1] != sizes[-1]:
                raise ConfigError(
                    f"layer {i}: expected b of shape (d_out,) and W of shape (d_out, {sizes[-1]}); "
                    f"got b {tuple(b.shape)} and W {tuple(W.shape)}."
                )
            sizes.append(W.shape[0])
        net = cls.__new__(cls)
        net.sizes = [int(s) for s in sizes]
        net.activations = [get_activation(a) for a in activations]
        net.init = "given"
        net.seed = 0
        net.backend = get_backend(backend, dtype, device)
        net.params = net._to_backend(params)
        return net

    def _to_backend(self, params: Params) -> list[tuple[Array, Array]]:
        return [(self.backend.asarray(b), self.backend.asarray(W)) for b, W in params]

    def to(
        self,
        target: str | Backend | object | None = None,
        dtype: str | None = None,
        device: Any = None,
        *,
        backend: str | Backend | None = None,
    ) -> MLP:
        """A copy of this model on another backend, device or dtype (same weights).

        ``target`` is a backend name (``"torch"``, ``"jax"``, ``"numpy"``) or, as in
        PyTorch, a device: ``net.to("cuda")``, ``net.to("cuda:1")``,
        ``net.to(torch.device("cpu"))``, ``net.to(device="cuda")``. A NumPy
        model sent to a GPU moves to the PyTorch backend. Unlike PyTorch's
        ``Module.to``, which moves in place, this returns the moved model:
        write ``net = net.to("cuda")``.
        """
        from ..backend.arrays import BACKENDS

        if isinstance(target, Backend) or (isinstance(target, str) and target in BACKENDS):
            if backend is not None:
                raise ConfigError("give the backend once: `net.to(backend)` or `backend=`.")
            backend = target
        elif target is not None:
            if device is not None:
                raise ConfigError("give the device once: `net.to(device)` or `device=`.")
            device = target
        if backend is None:
            backend = _backend_of_device(device) or self.backend.name
            if backend == "numpy" and device is not None and not _is_cpu(device):
                backend = "torch"  # NumPy has no GPU: PyTorch does
        return MLP.from_params(
            self.numpy_params(),
            self.activations,
            backend=backend,
            dtype=dtype or self.backend.dtype,
            device=device,
        )

    def parameters(self) -> Iterator[Array]:
        """The weights and biases as this backend's arrays, in PyTorch's order
        (layer by layer: ``W`` `(d_out, d_in)`, then ``b`` `(d_out,)`)."""
        for b, W in self.params:
            yield W
            yield b

    # Keras' methods beside the free functions
    def fit(self, X: Array, y: Array, **kwargs: Any) -> History:
        """``mlplab.fit(self, X, y, **kwargs)`` as a method (Keras' ``model.fit``);
        returns the :class:`~mlplab.train.History` (``.history`` is Keras' dict)."""
        from ..train import fit

        return fit(self, X, y, **kwargs)

    def evaluate(self, X: Array, y: Array, *, loss: str | None = None) -> dict[str, float]:
        """``{"loss": …, "accuracy" | "r2": …}`` on ``(X, y)`` (Keras' ``model.evaluate``).

        ``loss`` defaults to the one of the last :meth:`fit`, else to ``bce`` /
        ``softmax_cross_entropy`` for integer labels and ``mse`` for real targets.
        """
        from .losses import get_loss

        y_np = to_numpy(y)
        classify = np.issubdtype(y_np.dtype, np.integer) or y_np.dtype == bool
        if loss is None:
            loss = getattr(getattr(self, "history", None), "loss", None)
        if loss is None:
            loss = (
                "mse"
                if not classify
                else ("bce" if self.n_outputs == 1 else "softmax_cross_entropy")
            )
        loss_fn = get_loss(loss)
        target = loss_fn.prepare_targets(y, self.n_outputs, self.backend)
        value = float(loss_fn.value_and_grad(self(X), target)[0])
        return {"loss": value, ("accuracy" if classify else "r2"): self.score(X, y)}

    # architecture
    @property
    def n_inputs(self) -> int:
        return self.sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.sizes[-1]

    @property
    def hidden(self) -> list[int]:
        return self.sizes[1:-1]

    @property
    def depth(self) -> int:
        """Number of layers = number of parameter matrices."""
        return len(self.sizes) - 1

    @property
    def shapes(self) -> list[tuple[tuple[int], tuple[int, int]]]:
        """``[((d_out,), (d_out, d_in))]``: the shape of each layer's ``(b, W)``."""
        return [((o,), (o, i)) for i, o in zip(self.sizes[:-1], self.sizes[1:], strict=True)]

    @property
    def n_params(self) -> int:
        """Total number of parameters Σ (d_out + d_out · d_in)."""
        return sum(o + o * i for i, o in zip(self.sizes[:-1], self.sizes[1:], strict=True))

    def numpy_params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The parameters as NumPy arrays."""
        return [(to_numpy(b), to_numpy(W)) for b, W in self.params]

    def __repr__(self) -> str:
        acts = ", ".join(a.name for a in self.activations)
        return (
            f"MLP(sizes={self.sizes}, activations=[{acts}], n_params={self.n_params}, "
            f"backend={self.backend.describe()!r})"
        )

    # computation
    def check_input(self, x: Array) -> Array:
        """``x`` as a `(batch, n_inputs)` array of this backend, with clear errors."""
        kind = dtype_kind(x)
        if kind not in "biuf":  # text ('1' would silently parse), complex, ...
            dtype = getattr(x, "dtype", None) or to_numpy(x).dtype
            raise DataError(
                f"input must hold real numbers; got dtype {dtype}. "
                "Convert the features to a numeric array first."
            )
        arr = self.backend.asarray(x)
        if arr.ndim == 1 and self.n_inputs == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise DataError(
                f"input must be 2-D (batch, {self.n_inputs}); got shape {tuple(arr.shape)}. "
                "Reshape one sample x to x[None, :]."
            )
        if arr.shape[1] != self.n_inputs:
            raise DataError(
                f"input has {arr.shape[1]} features but the model expects {self.n_inputs}."
            )
        if arr.shape[0] == 0:
            raise DataError("input is empty (0 rows); pass at least one sample.")
        return arr

    def __call__(self, x: Array) -> Array:
        """ŷ = f(x): `(batch, n_inputs)` -> `(batch, n_outputs)` on this model's backend."""
        return forward(self.params, self.activations, self.check_input(x))

    def forward(self, x: Array) -> tuple[Array, list[LayerCache]]:
        """ŷ and the per-layer caches ``[(x, z, a)]`` for :meth:`backward`."""
        return forward_cache(self.params, self.activations, self.check_input(x))

    def backward(self, caches: Sequence[LayerCache], grad_out: Array) -> Backward:
        """Gradients and per-layer deltas from ``∂L/∂ŷ`` `(batch, n_outputs)`."""
        return backward(self.params, self.activations, caches, grad_out)

    def gradients(self, x: Array, y: Array, loss: str = "mse") -> tuple[float, Backward]:
        """Loss value, gradients and deltas of ``loss(f(x), y)`` (one forward + backward)."""
        from .losses import get_loss

        loss_fn = get_loss(loss)
        out, caches = self.forward(x)
        target = loss_fn.prepare_targets(y, self.n_outputs, self.backend)
        value, grad_out = loss_fn.value_and_grad(out, target)
        return float(value), self.backward(caches, grad_out)

    # prediction helpers
    def predict(self, x: Array) -> Array:
        """Raw outputs ŷ, returned as the caller's array type (NumPy / PyTorch / JAX)."""
        from ..backend.arrays import from_numpy_like

        out = to_numpy(self(x))
        return from_numpy_like(out, x) if not isinstance(x, list | tuple) else out

    def predict_proba(self, x: Array) -> np.ndarray:
        """Class probabilities `(batch, n_classes)`.

        With one output the model is a binary classifier: ``[1 − p, p]`` with
        ``p = sigmoid(logit)`` (or the output itself if it already is a sigmoid
        or step). With several outputs: softmax of the logits.

        Raises:
            DataError: ``x`` holds NaN or infinite values (as scikit-learn refuses
                them): no class can be read from them, and argmax would say class 0.
        """
        arr = self.check_input(x)
        bad = ~np.isfinite(to_numpy(arr)).all(axis=1)
        if bad.any():
            rows = np.flatnonzero(bad)
            shown = ", ".join(map(str, rows[:5])) + (" …" if len(rows) > 5 else "")
            raise DataError(
                f"input holds NaN or infinite values in {len(rows)} row(s) ({shown}); "
                "no class can be predicted from them. Impute or drop those rows first."
            )
        out = to_numpy(forward(self.params, self.activations, arr)).astype(np.float64)
        last = self.activations[-1].name
        if self.n_outputs == 1:
            p = out[:, 0] if last in ("sigmoid", "heaviside") else stable_sigmoid(out[:, 0])
            return np.stack([1 - p, p], axis=1)
        z = out - out.max(axis=1, keepdims=True)
        e = np.exp(z)
        proba: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return proba

    def predict_class(self, x: Array) -> np.ndarray:
        """Integer class labels `(batch,)`: argmax of :meth:`predict_proba`."""
        labels: np.ndarray = np.argmax(self.predict_proba(x), axis=1)
        return labels

    def score(self, x: Array, y: Array) -> float:
        """Accuracy for integer labels, R² for real-valued targets."""
        from .metrics import accuracy, r2_score

        y_np = to_numpy(y)
        if np.issubdtype(y_np.dtype, np.integer) or y_np.dtype == bool:
            return accuracy(y_np, self.predict_class(x))
        return r2_score(y_np, to_numpy(self(x)))


def _backend_of_device(device: Any) -> str | None:
    """``"torch"`` for a ``torch.device``, ``"jax"`` for a JAX device, else ``None``."""
    module = type(device).__module__.partition(".")[0]
    return {"torch": "torch", "jax": "jax", "jaxlib": "jax"}.get(module)


def _is_cpu(device: Any) -> bool:
    text = str(getattr(device, "platform", device)).strip().lower()  # str, torch or jax device
    return text.partition(":")[0] in ("cpu", "tfrt_cpu")


def _check_fits_in_memory(sizes: Sequence[int]) -> None:
    """Refuse, before allocating, an architecture whose weights cannot fit in memory.

    Initialisation holds the float64 draw and the backend's copy: ≤ 16 bytes a parameter.
    """
    from ..backend.memory import available_memory, format_bytes

    n_params = sum(o + o * i for i, o in zip(sizes[:-1], sizes[1:], strict=True))
    need, have = 16 * n_params, available_memory()
    if need > have:
        raise ConfigError(
            f"an MLP of sizes {sizes} has {n_params:,} parameters, needing about "
            f"{format_bytes(need)} to initialise, but only {format_bytes(have)} of memory is "
            "available. Use narrower or fewer hidden layers."
        )


def check_hidden(hidden: Any, name: str = "hidden") -> list[int]:
    """Hidden layer widths as a list of ints >= 1: one int is one layer, ``None`` is none.

    The one check of widths, for :class:`MLP`, :class:`~mlplab.config.TrainConfig`
    and the scikit-learn estimators (``name`` is the parameter in the message).
    """
    if hidden is None:
        return []
    if isinstance(hidden, str | bytes | dict):
        raise ConfigError(
            f"`{name}` must be an int or a sequence of ints such as (64,) or (64, 64); "
            f"got {hidden!r}."
        )
    sizes = list(hidden) if isinstance(hidden, Iterable) else [hidden]  # one int: one layer
    for i, h in enumerate(sizes):
        check_number(f"{name}[{i}]", h, ge=1, integer=True)
    return [int(h) for h in sizes]


__all__ = [
    "MLP",
    "Backward",
    "backward",
    "check_hidden",
    "forward",
    "forward_cache",
    "init_params",
    "iter_init_params",
]
