"""The runners' in-place fast paths equal the pure math, bitwise (docs/design.md, decision 3).

:mod:`mlplab.backend.inplace` applies SGD / Adam / AdamW with the same operations in
the same order as :mod:`mlplab.nn.optim`, writing into arrays it owns; NumPy in
chunks. Here both run side by side, step after step, and must agree to the bit;
the caller's arrays must come back untouched; and ``fit`` must train to the same
weights with the fast paths on and off.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_backend

import mlplab
from mlplab.backend import inplace, loop
from mlplab.backend.arrays import get_backend, to_numpy
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


def _backend(name, dtype):
    require_backend(name)
    return get_backend(name, dtype)


@pytest.mark.parametrize("label", sorted(OPTIMIZERS))
@pytest.mark.parametrize("name,dtype", [("numpy", "float32"), ("numpy", "float64"),
                                        ("torch", "float32"), ("torch", "float64")])  # fmt: skip
def test_in_place_update_is_bitwise_the_pure_update(label, name, dtype):
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
        _assert_bitwise(pure_p, fast_p)
        for key in pure_s:
            _assert_bitwise(pure_s[key], fast_s[key])
    _assert_bitwise(params, before)  # the caller's arrays are never written
    assert fast_p[1][1] is fast.update(fast_p, grads, fast_s, 1e-3, 6)[0][1][1]  # owned: in place


def test_in_place_subnormal_flush_equals_the_pure_flush():
    tiny = np.finfo(np.float32).tiny
    rng = np.random.default_rng(1)
    values = rng.standard_normal(inplace.CHUNK + 100).astype(np.float32)
    values[::7] *= tiny / 4  # subnormal entries, both signs
    state = {"v": [(values[:100].copy(), values.reshape(1, -1).copy())]}
    pure = loop._flush_subnormals(state)
    fast = inplace.InPlaceUpdate(Adam(), "numpy")
    owned = {"v": [tuple(fast._target(a) for a in state["v"][0])]}
    for src, dst in zip(state["v"][0], owned["v"][0], strict=True):
        dst[...] = src
    flushed = fast.flush_subnormals(owned)
    _assert_bitwise(pure["v"], flushed["v"])
    assert flushed["v"][0][1] is owned["v"][0][1]  # its own arrays: flushed in place
    _assert_bitwise(state["v"], [(values[:100], values.reshape(1, -1))])  # input untouched


@pytest.mark.parametrize("name", ["numpy", "torch"])
@pytest.mark.parametrize("optimizer,l2", [("adam", 1e-3), ("sgd", 0.0), ("adamw", 0.0)])
def test_fit_trains_to_the_same_bits_with_and_without_the_fast_path(
    name, optimizer, l2, monkeypatch
):
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
    _assert_bitwise(runs[True][0], runs[False][0])
    assert runs[True][1] == runs[False][1]


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
