"""L6: linear separability by LP, with a verified θ or an exact Farkas certificate."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.errors import ConfigError, DataError
from mlplab.nn.gates import TRUTH_INPUTS, TRUTH_TABLES
from mlplab.theory.separability import check_gate, check_separable


def _heaviside_outputs(theta, X):
    return (theta[0] + X @ theta[1:] > 0).astype(int)


@pytest.mark.parametrize("name", ["and", "or", "nand", "nor"])
def test_gates_are_separable_with_a_verified_theta(name):
    r = check_gate(name)
    assert r.separable and r.lp_status == 0 and r.verified and r.certificate is None
    np.testing.assert_array_equal(_heaviside_outputs(r.theta, TRUTH_INPUTS), TRUTH_TABLES[name])


def test_least_l1_theta_is_the_lectures_for_and_or():
    np.testing.assert_allclose(check_gate("and").theta, [-1, 1, 1])
    np.testing.assert_allclose(check_gate("or").theta, [0, 1, 1])


def test_xor_is_infeasible_with_the_lectures_certificate():
    r = check_gate("xor")
    assert not r.separable and r.lp_status == 2 and r.theta is None and r.verified
    c = r.certificate
    np.testing.assert_array_equal(c.multipliers, [1, 1, 1, 1])
    assert c.positive_rows == [1, 2] and c.negative_rows == [0, 3]  # (0,1),(1,0) vs (0,0),(1,1)
    np.testing.assert_array_equal(c.combination, [2, 1, 1])
    text = c.text()
    assert "(0,1) + (1,0): 2θ₀ + θ₁ + θ₂ > 0" in text
    assert "(0,0) + (1,1): 2θ₀ + θ₁ + θ₂ ≤ 0" in text


def _check_farkas(X, y, u):
    """u ≥ 0, Σ u_i s_i [1, x_i] = 0 and Σ_pos u_i > 0: the certificate is a real proof."""
    A1 = np.hstack([np.ones((len(X), 1)), X])
    sign = np.where(y == 1, -1, 1)
    assert np.all(u >= 0)
    np.testing.assert_allclose((u * sign) @ A1, 0, atol=1e-9)
    assert u[y == 1].sum() > 0


def test_random_separable_data_in_3d():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 3))
    w, b = np.array([1.0, -2.0, 0.5]), 0.3
    score = X @ w + b
    keep = np.abs(score) > 0.1
    X, y = X[keep], (score[keep] > 0).astype(int)
    r = check_separable(X, y)
    assert r.separable and r.verified
    np.testing.assert_array_equal(_heaviside_outputs(r.theta, X), y)


def test_random_inseparable_data_has_a_valid_certificate():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 2))
    y = (np.linalg.norm(X, axis=1) < 1).astype(int)  # a disc: not linearly separable
    r = check_separable(X, y)
    assert not r.separable and r.lp_status == 2 and r.verified
    _check_farkas(X, y, r.certificate.multipliers)


@pytest.mark.parametrize(
    "X,y,match",
    [
        (TRUTH_INPUTS, np.array([0, 1, 2, 0]), "0 or 1"),
        (TRUTH_INPUTS, np.array([0, 1]), "one label"),
    ],
)
def test_bad_input(X, y, match):
    with pytest.raises(DataError, match=match):
        check_separable(X, y)


def test_unknown_gate():
    with pytest.raises(ConfigError, match="must be one of"):
        check_gate("xnor")
