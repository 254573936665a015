"""The fast paths equal the pure math (docs/design.md, decision 3).

:mod:`mlplab.backend.inplace` applies SGD / Adam / AdamW with the same operations in
the same order as :mod:`mlplab.nn.optim`, writing into arrays it owns; NumPy in
chunks. Here both run side by side, step after step, and must agree to the bit;
the caller's arrays must come back untouched; and ``fit`` must train to the same
weights with the fast paths on and off. Adam and AdamW on PyTorch run PyTorch's
fused kernel, which rounds in its own order: there they agree to rounding
(:data:`FUSED_RTOL` of the parameters' scale).

:mod:`mlplab.backend.ops` (the affine map, ReLU and its backward pass) against their
array-API spelling: bitwise on NumPy and JAX; on PyTorch to rounding (``addmm``) and as
numbers (``threshold_backward`` writes 0 where the product wrote -0.0).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_backend

import mlplab
from mlplab.backend import inplace, loop, ops
from mlplab.backend.arrays import get_backend, namespace, to_numpy
from mlplab.nn.optim import SGD, Adam, AdamW

# one matrix longer than a chunk (chunking), one tiny layer, a transposed (non-contiguous) input
SHAPES = [((300,), (300, 120)), ((7,), (7, 300))]
assert 300 * 120 > inplace.CHUNK

OPTIMIZERS = {
    "sgd": SGD(),
    "sgd-decay": SGD(weight_decay=0.01),
    "momentum": SGD(momentum=0.9),
    "nesterov-decay": SGD(momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": Adam(),
    "adam-decay": Adam(weight_decay=0.01),
    "adamw": AdamW(),
    "adamw-no-decay": AdamW(weight_decay=0.0),
}


def _tree(rng, scale, backend):
    layers = []
    for b_shape, W_shape in SHAPES:
        b = rng.standard_normal(b_shape) * scale
        W = rng.standard_normal(W_shape[::-1]).T * scale  # Fortran-ordered: not C-contiguous
        layers.append((backend.asarray(b), backend.asarray(W)))
    return layers


def _bits(x):
    a = np.ascontiguousarray(to_numpy(x))
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def _assert_bitwise(tree_a, tree_b):
    for layer_a, layer_b in zip(tree_a, tree_b, strict=True):
        for a, b in zip(layer_a, layer_b, strict=True):
            np.testing.assert_array_equal(_bits(a), _bits(b))


# PyTorch's fused Adam against the pure update: relative to the largest entry of each array
FUSED_RTOL = {"float32": 1e-6, "float64": 1e-13}


def _fused(name, opt):
    return name == "torch" and isinstance(opt, Adam)


def _assert_close(tree_a, tree_b, dtype):
    for layer_a, layer_b in zip(tree_a, tree_b, strict=True):
        for a, b in zip(layer_a, layer_b, strict=True):
            a, b = to_numpy(a), to_numpy(b)
            scale = float(np.abs(b).max()) or 1.0
            np.testing.assert_allclose(a, b, rtol=0, atol=FUSED_RTOL[dtype] * scale)


def _backend(name, dtype):
    require_backend(name)
    return get_backend(name, dtype)


@pytest.mark.parametrize("label", sorted(OPTIMIZERS))
@pytest.mark.parametrize("name,dtype", [("numpy", "float32"), ("numpy", "float64"),
                                        ("torch", "float32"), ("torch", "float64")])  # fmt: skip
def test_in_place_update_equals_the_pure_update(label, name, dtype):
    backend = _backend(name, dtype)
    opt = OPTIMIZERS[label]
    rng = np.random.default_rng(0)
    params = _tree(rng, 1.0, backend)
    state = opt.init(params)
    fast = inplace.InPlaceUpdate(opt, name)
    pure_p, pure_s, fast_p, fast_s = params, state, params, state
    before = [tuple(to_numpy(a).copy() for a in layer) for layer in params]
    for t in range(1, 6):
        grads = _tree(rng, 0.1, backend)
        lr = 1e-2 / t  # a schedule: a new step size each step
        pure_p, pure_s = opt.update(pure_p, grads, pure_s, lr, t)
        fast_p, fast_s = fast.update(fast_p, grads, fast_s, lr, t)
        same = _assert_bitwise if not _fused(name, opt) else lambda a, b: _assert_close(a, b, dtype)
        same(fast_p, pure_p)
        for key in pure_s:
            same(fast_s[key], pure_s[key])
    _assert_bitwise(params, before)  # the caller's arrays are never written
    assert fast_p[1][1] is fast.update(fast_p, grads, fast_s, 1e-3, 6)[0][1][1]  # owned: in place


def test_in_place_subnormal_flush_equals_the_pure_flush():
    """The parameters and the moments alike (weights into a dead unit decay through the
    subnormal range under an L2 penalty, as the moments do)."""
    tiny = np.finfo(np.float32).tiny
    rng = np.random.default_rng(1)
    values = rng.standard_normal(inplace.CHUNK + 100).astype(np.float32)
    values[::7] *= tiny / 4  # subnormal entries, both signs
    given = [(values[:100].copy(), values.reshape(1, -1).copy())]
    fast, opt = inplace.InPlaceUpdate(Adam(), "numpy"), Adam()
    zeros = [tuple(np.zeros_like(a) for a in layer) for layer in given]
    own_p, owned = fast.update(zeros, zeros, opt.init(zeros), 1e-3, 1)  # the updater's own
    for tree in (own_p, owned["v"]):
        for src, dst in zip(given[0], tree[0], strict=True):
            dst[...] = src
    pure_p, pure = loop._flush_subnormals((given, {"v": given}))
    flushed_p, flushed = fast.flush_subnormals(own_p, owned)
    _assert_bitwise(pure["v"], flushed["v"])
    _assert_bitwise(pure_p, flushed_p)
    assert not np.any((pure_p[0][1] != 0) & (np.abs(pure_p[0][1]) < tiny))  # flushed
    assert flushed["v"][0][1] is owned["v"][0][1]  # its own arrays: flushed in place
    assert flushed_p[0][1] is own_p[0][1]
    not_p, not_owned = fast.flush_subnormals(given, {"v": given})  # the caller's: new arrays
    _assert_bitwise(pure["v"], not_owned["v"])
    _assert_bitwise(pure_p, not_p)
    _assert_bitwise(given, [(values[:100], values.reshape(1, -1))])  # input untouched


@pytest.mark.parametrize("name", ["numpy", "torch"])
@pytest.mark.parametrize("optimizer,l2", [("adam", 1e-3), ("sgd", 0.0), ("adamw", 0.0)])
def test_fit_trains_to_the_same_weights_with_and_without_the_fast_path(
    name, optimizer, l2, monkeypatch
):
    """The same bits, except Adam / AdamW on PyTorch (fused kernel): the same to rounding."""
    require_backend(name)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 64)).astype(np.float32)
    y = rng.integers(0, 3, 200)
    runs = {}
    for on in (True, False):
        monkeypatch.setattr(loop, "FAST_PATHS", on)
        net = mlplab.MLP(64, [80], 3, activation="relu", seed=0, backend=name)
        assert net.n_params >= inplace.MIN_PARAMS  # wide enough for the fast path
        history = mlplab.fit(net, X, y, optimizer=optimizer, lr=1e-2, batch_size=32, epochs=3,
                             l2=l2, seed=0, verbose=0)  # fmt: skip
        runs[on] = (net.params, history.train_loss)
    if name == "torch" and optimizer != "sgd":  # 21 steps of rounding differences, lr 1e-2
        _assert_close_to(runs[True][0], runs[False][0], 1e-5)
        np.testing.assert_allclose(runs[True][1], runs[False][1], rtol=1e-5)
        return
    _assert_bitwise(runs[True][0], runs[False][0])
    assert runs[True][1] == runs[False][1]


def _assert_close_to(tree_a, tree_b, rtol):
    for layer_a, layer_b in zip(tree_a, tree_b, strict=True):
        for a, b in zip(layer_a, layer_b, strict=True):
            a, b = to_numpy(a), to_numpy(b)
            np.testing.assert_allclose(a, b, rtol=0, atol=rtol * float(np.abs(b).max()))


def test_small_nets_and_other_optimizers_run_the_pure_step():
    small = [(np.zeros(8), np.zeros((8, 2))), (np.zeros(1), np.zeros((1, 8)))]  # XOR-sized
    step = mlplab.train.make_step((), None, Adam(), 0.0)
    assert inplace.updater_for("numpy", step, small) is None
    wide = [(np.zeros(100), np.zeros((100, 64)))]
    assert inplace.updater_for("numpy", step, wide) is not None
    assert inplace.updater_for("jax", step, wide) is None  # JAX: the compiled loop instead

    class MyAdam(Adam):  # a subclass may change the rule: the pure step runs it
        pass

    assert (
        inplace.updater_for("numpy", mlplab.train.make_step((), None, MyAdam(), 0.0), wide) is None
    )


# --- backend.ops: the affine map and ReLU ---------------------------------------------

OPS_SHAPES = [
    (4, 2, 8),
    (64, 64, 256),
    (256, 1, 64),
    (7, 13, 5),
    (256, 256, 1024),
]  # n, d_in, d_out


def _layer(name, dtype, n, d_in, d_out, seed=0):
    backend = _backend(name, dtype)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d_in))
    W = rng.standard_normal((d_out, d_in)) / np.sqrt(d_in)
    b = rng.standard_normal(d_out)
    return [backend.asarray(a) for a in (x, W, b)]


@pytest.mark.parametrize("shape", OPS_SHAPES)
@pytest.mark.parametrize("name", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_affine_equals_the_product_plus_the_bias(name, dtype, shape):
    x, W, b = _layer(name, dtype, *shape)
    fast, pure = to_numpy(ops.affine(x, W, b)), to_numpy(x @ W.T + b)
    assert fast.shape == pure.shape and fast.dtype == pure.dtype
    if name != "torch":  # the same additions in the same order
        np.testing.assert_array_equal(_bits(fast), _bits(pure))
    else:  # addmm: BLAS adds the bias in its own order; a few ulp of the largest term
        ulp = np.finfo(pure.dtype).eps
        np.testing.assert_allclose(fast, pure, rtol=0, atol=16 * ulp * float(np.abs(pure).max()))
    b_before = to_numpy(b).copy()
    ops.affine(x, W, b)
    np.testing.assert_array_equal(to_numpy(b), b_before)  # the bias is never written


@pytest.mark.parametrize("name", ["numpy", "torch", "jax"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_and_its_backward_equal_the_array_api_spelling(name, dtype):
    z, g, _ = _layer(name, dtype, 64, 256, 1)
    xp = namespace(z)
    z = z * xp.astype(xp.abs(z) > 0.3, z.dtype)  # exact zeros too, where σ'(0) = 0 matters
    fast, pure = ops.relu(z), xp.maximum(z, 0.0)
    if name == "torch":  # torch.relu keeps -0.0 where maximum may write 0.0
        np.testing.assert_array_equal(to_numpy(fast), to_numpy(pure))
    else:
        np.testing.assert_array_equal(_bits(fast), _bits(pure))
    fast, pure = ops.relu_backward(z, g), g * xp.astype(z > 0, z.dtype)
    if name == "torch":  # threshold_backward writes 0 where the product wrote -0.0
        np.testing.assert_array_equal(to_numpy(fast), to_numpy(pure))
        assert not np.signbit(to_numpy(fast)[to_numpy(z) <= 0]).any()
    else:
        np.testing.assert_array_equal(_bits(fast), _bits(pure))


def test_relu_activation_backward_uses_the_one_pass_spelling():
    relu = mlplab.nn.activations.relu()
    rng = np.random.default_rng(0)
    z, g = rng.standard_normal((2, 32, 16)).astype(np.float32)
    np.testing.assert_array_equal(
        _bits(relu.backward(z, relu(z), g)), _bits(g * relu.derivative(z, relu(z)))
    )


@pytest.mark.parametrize("shape", [(256, 10), (128, 2), (64, 10), (300, 33), (256, 1)])
def test_row_max_equals_the_max_over_each_row(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    x[3, -1] = np.nan  # NaN propagates as in max
    want = np.max(x, axis=1, keepdims=True)
    got = ops.row_max(x)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(_bits(got), _bits(want))


# --- backend.flat: the NumPy runner's forward and backward from one function ----------------------

FLAT_NETS = [  # (sizes, hidden σ, loss)
    ((2, 8, 1), "tanh", "bce"),  # the lecture's XOR net
    ((1, 64, 1), "tanh", "mse"),  # the lecture's function fit
    ((3, 5, 4, 3), "relu", "softmax_cross_entropy"),
    ((4, 6, 2), "sigmoid", "mse"),
    ((2, 7, 1), "leaky_relu", "bce"),
    ((2, 6, 5, 1), "gelu", "mse"),
    ((3, 6, 1), {"name": "heaviside", "surrogate": "sigmoid", "slope": 5.0}, "bce"),
    ((5, 3), "identity", "softmax_cross_entropy"),  # one layer
    ((20, 300, 40, 10), "relu", "softmax_cross_entropy"),  # wide: np.matmul's products
]


def _flat_problem(sizes, loss_name, dtype, batch, weighted, seed=0):
    from mlplab.nn.losses import get_loss

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    if loss_name == "bce":
        y = rng.integers(0, 2, (batch, 1)).astype(dtype)
    elif loss_name == "mse":
        y = rng.standard_normal((batch, sizes[-1])).astype(dtype)
    else:
        y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], batch)]
    w = rng.uniform(0, 2, batch).astype(dtype) if weighted else None
    return x, y, w, get_loss(loss_name)


@pytest.mark.parametrize("sizes,hidden,loss_name", FLAT_NETS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted,l2", [(False, 0.0), (True, 1e-2)])
def test_flat_step_is_bitwise_the_pure_step(sizes, hidden, loss_name, dtype, weighted, l2):
    from mlplab.backend.flat import flat_step_for
    from mlplab.nn.activations import get_activation
    from mlplab.train import make_step

    n_layers = len(sizes) - 1
    acts = tuple(get_activation(hidden) for _ in range(n_layers - 1))
    acts = (*acts, get_activation("identity"))
    params = mlplab.MLP(sizes[0], sizes[1:-1], sizes[-1], seed=3, dtype=np.dtype(dtype).name).params
    for batch in (1, 4, 200):  # 1: the outer-product spelling of a 1-row batch
        x, y, w, loss = _flat_problem(sizes, loss_name, dtype, batch, weighted)
        step = make_step(acts, loss, SGD(), l2)
        flat = flat_step_for(step, params, x)
        assert flat is not None
        value, grads = flat(params, x, y, w)
        pure_value, pure_grads = step.value_and_grads(params, x, y, w)
        assert _bits(value) == _bits(pure_value)
        _assert_bitwise(grads, pure_grads)


def test_flat_step_calls_an_activation_as_the_layers_do():
    """A custom Activation that overrides ``__call__``: the flat step calls it as
    ``dense_forward`` does, ``sigma(z)``."""
    import dataclasses

    from mlplab.backend.flat import flat_step_for
    from mlplab.nn.activations import Activation, get_activation
    from mlplab.nn.losses import get_loss
    from mlplab.train import make_step

    @dataclasses.dataclass(frozen=True, eq=False)
    class Doubled(Activation):
        def __call__(self, z):
            return 2.0 * self.forward(z)

    tanh = get_activation("tanh")
    doubled = Doubled("tanh2", tanh.forward, tanh.derivative)
    acts = (doubled, get_activation("identity"))
    params = mlplab.MLP(2, [8], 1, seed=0, dtype="float64").params
    x, y, _, loss = _flat_problem((2, 8, 1), "bce", np.float64, 16, False)
    step = make_step(acts, get_loss("bce"), SGD(), 0.0)
    value, grads = flat_step_for(step, params, x)(params, x, y, None)
    pure_value, pure_grads = step.value_and_grads(params, x, y, None)
    assert _bits(value) == _bits(pure_value)
    _assert_bitwise(grads, pure_grads)


def test_flat_step_only_for_make_steps_numpy_arrays_of_one_dtype():
    from mlplab.backend.flat import flat_step_for
    from mlplab.nn.activations import get_activation
    from mlplab.nn.losses import get_loss
    from mlplab.train import make_step

    acts = (get_activation("tanh"), get_activation("identity"))
    step = make_step(acts, get_loss("bce"), SGD(), 0.0)
    xor = mlplab.MLP(2, [8], 1, seed=0, dtype="float32").params
    x32 = np.zeros((4, 2), np.float32)
    assert flat_step_for(step, xor, x32) is not None
    assert flat_step_for(step, xor, x32.astype(np.float64)) is None  # mixed dtypes
    assert flat_step_for(step, xor, np.zeros((4, 2), int)) is None

    def wrapped(*args):  # a step function that is not make_step's: run as it is
        return step(*args)

    assert flat_step_for(wrapped, xor, x32) is None

    def reduce(value, grads, xb, wb):  # data parallel: the pure step, with its reduction
        return value, grads

    parallel = make_step(acts, get_loss("bce"), SGD(), 0.0, reduce)
    assert flat_step_for(parallel, xor, x32) is None


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("hidden", [8, 600])  # 600: 1,800 weights, the in-place update too
def test_fit_is_the_same_with_and_without_the_flat_step(optimizer, hidden, monkeypatch):
    """Full batch and minibatches with a ragged last batch."""
    from mlplab.backend.flat import flat_step_for

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    runs, used = {}, []

    def spy(*args):  # the flat step is what ran
        flat = flat_step_for(*args)
        used.append(flat is not None)
        return flat

    monkeypatch.setattr(loop, "flat_step_for", spy)
    for on in (True, False):
        monkeypatch.setattr(loop, "FAST_PATHS", on)
        for batch_size in (None, 16):
            net = mlplab.MLP(2, [hidden], 1, activation="tanh", seed=0, dtype="float32")
            history = mlplab.fit(net, X, y, optimizer=optimizer, lr=0.1, batch_size=batch_size,
                                 epochs=20, l2=1e-3, seed=0, verbose=0)  # fmt: skip
            runs[on, batch_size] = (net.params, history.train_loss)
    assert used and all(used)  # asked with the fast paths on (off: never asked)
    for batch_size in (None, 16):
        _assert_bitwise(runs[True, batch_size][0], runs[False, batch_size][0])
        assert runs[True, batch_size][1] == runs[False, batch_size][1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "n,k,m",
    [(4, 1, 8), (256, 1, 64), (3, 1, 4096), (1, 1, 1), (4, 2, 8), (64, 64, 15), (256, 10, 300)],
)
def test_numpy_products_spelled_by_size_equal_the_matrix_product(dtype, n, k, m):
    """``arrays.matmul`` picks np.dot, np.matmul or the broadcast outer product by size."""
    from mlplab.backend.arrays import matmul

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, k)).astype(dtype)
    b = rng.standard_normal((m, k)).astype(dtype).T  # a transposed weight matrix, as in use
    a[::3] = 0.0  # zeros: a dead unit's blame
    expected = a @ b
    got = matmul(a, b)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    if k == 1:  # one term per entry: the same number in every spelling (a zero's sign aside)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(got, a * b)
    else:  # BLAS may block a sum differently: to rounding
        np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
