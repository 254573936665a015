"""L1–L2: normal equations, exact polynomial column counts, refusal before allocation."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import scipy.linalg
from sklearn.preprocessing import PolynomialFeatures

from mlplab.errors import ConfigError, DataError
from mlplab.theory.linear import (
    add_bias_column,
    fit_linear,
    fit_polynomial,
    monomial_exponents,
    poly_cost,
    poly_feature_count,
    polynomial_features,
)


def test_lecture_counts_are_exact_integers():
    assert poly_feature_count(65536, 3) == 46_916_791_205_889
    assert isinstance(poly_feature_count(65536, 3), int)
    assert poly_feature_count(2, 3) == 10
    assert poly_feature_count(1, 0) == 1
    # far beyond float precision, still exact
    assert poly_feature_count(10**6, 5) == math.comb(10**6 + 5, 5)


@pytest.mark.parametrize("d,m", [(1, 1), (2, 3), (3, 4), (5, 2), (4, 0)])
def test_count_equals_number_of_monomials(d, m):
    assert len(monomial_exponents(d, m)) == poly_feature_count(d, m)


@pytest.mark.parametrize("bad", [(0, 3), (2, -1), (2.5, 3)])
def test_count_rejects_bad_arguments(bad):
    with pytest.raises(ConfigError, match="must be"):
        poly_feature_count(*bad)


def test_polynomial_features_match_sklearn(rng):
    X = rng.standard_normal((7, 3))
    F = polynomial_features(X, 3)
    assert F.shape == (7, poly_feature_count(3, 3))
    np.testing.assert_allclose(F, PolynomialFeatures(3).fit_transform(X), rtol=1e-12)
    no_bias = polynomial_features(X, 2, include_bias=False)
    np.testing.assert_allclose(
        no_bias, PolynomialFeatures(2, include_bias=False).fit_transform(X), rtol=1e-12
    )


def test_refuses_the_lecture_image_before_allocating():
    image = np.zeros((1, 65536))
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match=r"46,916,791,205,889 columns.*Lower the degree"):
            polynomial_features(image, 3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # nothing close to the matrix was allocated


def test_refuses_above_max_bytes_and_builds_below():
    X = np.ones((100, 4))
    need = 100 * poly_feature_count(4, 2) * 8
    with pytest.raises(ConfigError, match=f"{need:,} bytes"):
        polynomial_features(X, 2, max_bytes=need - 1)
    assert polynomial_features(X, 2, max_bytes=need).shape == (100, 15)


def test_poly_cost():
    c = poly_cost(2, 3, n_samples=100)
    assert (c.columns, c.bytes_per_row, c.design_bytes, c.gram_bytes) == (10, 80, 8000, 800)
    assert c.solve_flops == 1000 // 3


def test_normal_equations_match_references_multivariate(rng):
    X = rng.standard_normal((200, 4))
    theta = np.array([1.5, -2.0, 0.5, 3.0, -1.0])
    y = theta[0] + X @ theta[1:] + 0.01 * rng.standard_normal(200)
    ref = scipy.linalg.lstsq(add_bias_column(X), y)[0]
    for method in ("solve", "lstsq"):
        fit = fit_linear(X, y, method=method)
        np.testing.assert_allclose(fit.theta, ref, atol=1e-8)
        assert fit.bias == pytest.approx(ref[0], abs=1e-8)
        np.testing.assert_allclose(fit.predict(X), add_bias_column(X) @ ref, atol=1e-8)
    np.testing.assert_allclose(fit_linear(X, y).theta, theta, atol=0.01)


def test_several_targets_at_once(rng):
    X = rng.standard_normal((50, 2))
    Y = np.stack([1 + X[:, 0], 2 - X[:, 1]], axis=1)  # (50, 2)
    fit = fit_linear(X, Y)
    np.testing.assert_allclose(fit.theta, [[1, 2], [1, 0], [0, -1]], atol=1e-10)


def test_never_inverts(monkeypatch, rng):
    def no_inverse(*args, **kwargs):
        raise AssertionError("np.linalg.inv must not be used")

    monkeypatch.setattr(np.linalg, "inv", no_inverse)
    X = rng.standard_normal((20, 2))
    fit_linear(X, X.sum(axis=1), method="solve")
    fit_linear(X, X.sum(axis=1), method="lstsq")


def test_singular_gram_is_a_clear_error_and_lstsq_copes():
    X = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # collinear columns
    y = np.array([1.0, 2.0, 3.0])
    with pytest.raises(DataError, match="singular.*method='lstsq'"):
        fit_linear(X, y, method="solve")
    assert fit_linear(X, y, method="lstsq").residual_sum_of_squares < 1e-20


@pytest.mark.parametrize(
    "X,y,match",
    [
        (np.array([[1.0], [np.nan]]), np.array([1.0, 2.0]), "NaN"),
        (np.ones((3, 1)), np.ones(2), "rows"),
        (np.ones((0, 2)), np.ones(0), "empty"),
    ],
)
def test_bad_data(X, y, match):
    with pytest.raises(DataError, match=match):
        fit_linear(X, y)


def test_fit_polynomial_recovers_the_cubic():
    x = np.arange(8) * 0.25
    coef, _ = fit_polynomial(x, x**3 - 2 * x**2 - x + 2, 3)
    np.testing.assert_allclose(coef, [2, -1, -2, 1], atol=1e-10)


def test_polynomial_features_allocate_only_the_checked_size():

    X = np.random.default_rng(0).normal(size=(2000, 6))
    tracemalloc.start()
    F = polynomial_features(X, 3)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1.2 * F.nbytes  # the check sizes n·p·8 bytes: no second copy
