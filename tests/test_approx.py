"""L10: constructive universal approximation and trained MLPs of growing width."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.errors import ConfigError, DataError
from mlplab.nn.mlp import MLP
from mlplab.theory.approx import (
    DEFAULT_STEPS,
    constructive,
    get_target,
    heaviside_network,
    sigmoid_network,
    trained,
)


def _decreasing(values):
    return all(b < a for a, b in zip(values[:-1], values[1:], strict=False))


def test_heaviside_network_is_an_exact_mlp():
    target = get_target("cubic")
    net = heaviside_network(target, 8)
    assert isinstance(net, MLP) and net.sizes == [1, 8, 1]
    assert [a.name for a in net.activations] == ["heaviside", "identity"]
    knots = np.linspace(target.a, target.b, 9)
    # f equals g at every knot (each knot is nearest to itself)
    np.testing.assert_allclose(
        np.asarray(net.predict(knots[:, None]))[:, 0], target(knots), atol=1e-12
    )


@pytest.mark.parametrize("name", ["sin", "cubic", "abs", "bump"])
def test_error_falls_monotonically_for_lipschitz_targets(name):
    r = constructive(name, DEFAULT_STEPS, grid_points=5001)
    assert r.steps == [2, 4, 8, 16, 32, 64, 128, 256]
    assert _decreasing(r.heaviside_max) and _decreasing(r.sigmoid_max)
    # the guarantee max|g − f| ≤ L (b − a) / 2N
    for err, bound in zip(r.heaviside_max, r.lipschitz_bound, strict=True):
        assert err <= bound * (1 + 1e-6) + 1e-12
    # ≈ 1/N: doubling N halves the error at large N
    assert r.heaviside_max[-2] / r.heaviside_max[-1] == pytest.approx(2, rel=0.1)


def test_sin_numbers():
    r = constructive("sin", (2, 256))
    assert r.heaviside_max[0] == pytest.approx(1.0, abs=1e-6)  # f ≡ 0 with two steps
    assert r.heaviside_max[1] == pytest.approx(np.sin(np.pi / 256), rel=5e-3)


def test_step_target_is_not_uniformly_approximable():
    r = constructive("step", (4, 16, 64, 256), grid_points=5001)
    assert min(r.heaviside_max) > 0.5  # sup error stays at the jump
    assert _decreasing(r.heaviside_mean)


def test_sigmoid_network_is_smooth_and_close():
    target = get_target("sin")
    net = sigmoid_network(target, 64, slope=20)
    assert net.activations[0].name == "sigmoid"
    x = np.linspace(target.a, target.b, 2001)
    f = np.asarray(net.predict(x[:, None]))[:, 0]
    assert np.max(np.abs(f - np.sin(x))) < 0.05


def test_user_expression_and_interval():
    t = get_target("sin(3*x) + x/2", (-2.0, 2.0))
    assert (t.a, t.b, t.name) == (-2.0, 2.0, "expression")
    r = constructive(t, (8, 32, 128), grid_points=2001)
    assert _decreasing(r.heaviside_max)


@pytest.mark.parametrize(
    "spec,interval,error,match",
    [
        ("log(x)", None, DataError, "not finite"),
        ("sin", (1.0, 1.0), ConfigError, "a < b"),
        ("import os", None, ConfigError, "cannot parse"),
    ],
)
def test_bad_targets(spec, interval, error, match):
    with pytest.raises(error, match=match):
        get_target(spec, interval)


def test_bad_steps():
    with pytest.raises(ConfigError, match="n_steps"):
        heaviside_network(get_target("sin"), 0)


def test_trained_networks_improve_with_width():
    r = trained("sin", (2, 32), activations=("tanh", "relu"), epochs=300)
    for act in ("tanh", "relu"):
        assert r.max_error[act][1] < r.max_error[act][0]
        assert np.isfinite(r.final_loss[act]).all()
