"""L6: Rosenblatt's rule converges on AND/OR and provably cycles on XOR."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.errors import ConfigError, DataError
from mlplab.nn.gates import TRUTH_TABLES
from mlplab.theory.perceptron import train_gate, train_perceptron


@pytest.mark.parametrize("name", ["and", "or", "nand", "nor"])
def test_converges_on_separable_gates(name):
    r = train_gate(name)
    assert r.converged and r.stop_reason == "converged" and r.mistakes[-1] == 0
    np.testing.assert_array_equal(r.predictions, TRUTH_TABLES[name])


def test_and_run_is_the_textbook_sequence():
    r = train_gate("and")
    assert r.epochs == 6 and r.mistakes == [1, 3, 3, 2, 1, 0]
    np.testing.assert_array_equal(r.theta, [-2, 2, 1])


def test_xor_cycles_forever():
    r = train_gate("xor")
    assert not r.converged and r.stop_reason == "cycle"
    assert r.cycle_start is not None and r.cycle_length >= 1
    # replaying the detected cycle returns to the same θ, with mistakes every epoch
    assert all(m > 0 for m in r.mistakes)
    np.testing.assert_array_equal(r.thetas[r.cycle_start - 1], r.theta)
    assert not np.array_equal(r.predictions, TRUTH_TABLES["xor"])


def test_epoch_cap_is_reported_as_such():
    r = train_gate("xor", max_epochs=2)
    assert not r.converged and r.stop_reason == "epoch cap" and r.epochs == 2


def test_converges_on_random_separable_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(50, 2))
    score = X @ np.array([1.0, 1.0]) - 0.2
    keep = np.abs(score) > 0.05
    X, y = X[keep], (score[keep] > 0).astype(int)
    r = train_perceptron(X, y, max_epochs=10_000)
    assert r.converged
    np.testing.assert_array_equal(r.predictions, y)


def test_bad_input():
    with pytest.raises(DataError, match="0 or 1"):
        train_perceptron(np.zeros((2, 2)), np.array([0, 3]))
    with pytest.raises(ConfigError, match="lr"):
        train_gate("and", lr=0)
    with pytest.raises(DataError, match="theta0"):
        train_gate("and", theta0=[0, 0])
