"""The lecture's hand-set networks (L5, L9) and XOR learned from a random start."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab import MLP, fit, get_activation
from mlplab.backend.arrays import to_numpy
from mlplab.errors import ConfigError
from mlplab.nn.gates import (
    AND_THETA,
    OR_THETA,
    TRUTH_INPUTS,
    TRUTH_TABLES,
    XOR_THETA,
    and_gate,
    gate,
    or_gate,
    single_neuron,
    theta_network,
    xor_network,
)
from mlplab.nn.layers import neuron

X4 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def test_the_lectures_numbers():
    assert AND_THETA == [-1, 1, 1]
    assert OR_THETA == [0, 1, 1]
    assert XOR_THETA == [[-0.5, 1, 1], [-1.5, 1, 1], [-0.5, 1, -2]]
    np.testing.assert_array_equal(TRUTH_INPUTS, X4)
    assert TRUTH_TABLES["and"].tolist() == [0, 0, 0, 1]
    assert TRUTH_TABLES["or"].tolist() == [0, 1, 1, 1]
    assert TRUTH_TABLES["xor"].tolist() == [0, 1, 1, 0]


def test_and_or_truth_tables_exactly(backend, dtype):
    kw = dict(backend=backend, dtype=dtype)
    and_net, or_net = and_gate(**kw), or_gate(**kw)
    assert and_net.activations[0].name == "heaviside" and and_net.depth == 1
    b, W = and_net.numpy_params()[0]
    np.testing.assert_array_equal(np.concatenate([b, W[0]]), [-1, 1, 1])
    np.testing.assert_array_equal(to_numpy(and_net(X4))[:, 0], [0, 0, 0, 1])
    np.testing.assert_array_equal(to_numpy(or_net(X4))[:, 0], [0, 1, 1, 1])
    for name in ("and", "or", "nand", "nor", "xor"):
        np.testing.assert_array_equal(to_numpy(gate(name, **kw)(X4))[:, 0], TRUTH_TABLES[name])


def test_step_at_zero_is_zero_in_the_gates():
    """OR at (0, 0) and AND at (0, 1), (1, 0) sit exactly on z = 0: H(0) = 0 makes them 0."""
    or_z = X4 @ np.array(OR_THETA[1:]) + OR_THETA[0]
    and_z = X4 @ np.array(AND_THETA[1:]) + AND_THETA[0]
    assert or_z[0] == 0 and and_z[1] == 0 and and_z[2] == 0
    np.testing.assert_array_equal(neuron(X4, np.array(OR_THETA)), [0, 1, 1, 1])
    np.testing.assert_array_equal(neuron(X4, np.array(AND_THETA)), [0, 0, 0, 1])
    assert get_activation("heaviside")(np.array(0.0)) == 0.0


def test_xor_network_and_its_hidden_units(backend, dtype):
    """Hidden unit 1 computes OR, hidden unit 2 AND; the output fires for "OR and not AND"."""
    net = xor_network(backend=backend, dtype=dtype)
    assert net.sizes == [2, 2, 1]
    (b1, W1), (b2, W2) = net.numpy_params()
    np.testing.assert_array_equal(np.column_stack([b1, W1]), [[-0.5, 1, 1], [-1.5, 1, 1]])
    np.testing.assert_array_equal(np.concatenate([b2, W2[0]]), [-0.5, 1, -2])
    out, caches = net.forward(X4)
    hidden = to_numpy(caches[0].a)
    np.testing.assert_array_equal(hidden[:, 0], TRUTH_TABLES["or"])
    np.testing.assert_array_equal(hidden[:, 1], TRUTH_TABLES["and"])
    np.testing.assert_array_equal(to_numpy(out)[:, 0], [0, 1, 1, 0])
    assert to_numpy(out).dtype == np.dtype(dtype)


def test_single_neuron_and_theta_network_builders():
    n = single_neuron([0.5, -1, 2, 3], activation="sigmoid", dtype="float64")
    x = np.array([[1.0, 1.0, 1.0]])
    assert to_numpy(n(x))[0, 0] == pytest.approx(1 / (1 + np.exp(-4.5)))
    t = theta_network([[0, 1, 0], [0, 0, 1], [0, 1, 1]], activation="relu", dtype="float64")
    np.testing.assert_array_equal(to_numpy(t(np.array([[2.0, -3.0]])))[:, 0], [2.0])
    with pytest.raises(
        ConfigError, match=r"`gate` must be one of 'and', 'or', 'nand', 'nor', 'xor'; got 'xnor'"
    ):
        gate("xnor")


def test_mlp_learns_xor_from_random_init_with_tanh(backend):
    """A 2-4-1 tanh network from a seeded random start, binary cross-entropy, Adam, full batch."""
    y = TRUTH_TABLES["xor"]
    net = MLP(2, [4], 1, activation="tanh", seed=0, backend=backend)
    first = to_numpy(net(X4)).copy()
    h = fit(net, X4, y, optimizer="adam", lr=0.1, epochs=300, verbose=0)
    np.testing.assert_array_equal(net.predict_class(X4), [0, 1, 1, 0])
    assert net.score(X4, y) == 1.0
    assert h.train_loss[-1] < 0.1 < h.train_loss[0]
    assert not np.array_equal(first, to_numpy(net(X4)))


def test_xor_is_learned_from_several_random_starts():
    for seed in (1, 2, 3):
        net = MLP(2, [4], 1, activation="tanh", seed=seed)
        fit(net, X4, TRUTH_TABLES["xor"], optimizer="adam", lr=0.1, epochs=300, verbose=0)
        np.testing.assert_array_equal(net.predict_class(X4), [0, 1, 1, 0], err_msg=f"seed {seed}")


def test_single_neuron_cannot_learn_xor():
    """No line separates XOR: a trained single neuron gets at most 3 of 4 right."""
    net = MLP(2, [], 1, seed=0)
    fit(net, X4, TRUTH_TABLES["xor"], optimizer="adam", lr=0.1, epochs=300, verbose=0)
    assert net.score(X4, TRUTH_TABLES["xor"]) <= 0.75


def test_step_network_trains_with_a_surrogate_gradient():
    """A Heaviside hidden layer learns XOR only with a surrogate (the true derivative is 0)."""
    step = {"name": "heaviside", "surrogate": "sigmoid", "slope": 4.0}
    net = MLP(2, [8], 1, activation=step, seed=3)
    fit(net, X4, TRUTH_TABLES["xor"], optimizer="adam", lr=0.05, epochs=400, verbose=0)
    np.testing.assert_array_equal(net.predict_class(X4), [0, 1, 1, 0])
    frozen = MLP(2, [8], 1, activation="heaviside", seed=3)
    W0 = frozen.numpy_params()[0][1].copy()
    fit(frozen, X4, TRUTH_TABLES["xor"], optimizer="adam", lr=0.05, epochs=50, verbose=0)
    np.testing.assert_array_equal(frozen.numpy_params()[0][1], W0)  # no gradient reaches it
