"""Activations σ and their derivatives: finite differences, PyTorch / JAX oracles, stability."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_backend
from oracles import jax_activation, torch_activation
from scipy.special import expit

from mlplab.backend.arrays import get_backend, to_numpy
from mlplab.errors import ConfigError
from mlplab.nn.activations import ACTIVATIONS, Activation, get_activation

# Every activation, with the settings that matter (the surrogates of heaviside included).
SPECS = [
    "identity",
    "heaviside",
    {"name": "heaviside", "surrogate": "sigmoid", "slope": 10.0},
    {"name": "heaviside", "surrogate": "sigmoid", "slope": 2.5},
    {"name": "heaviside", "surrogate": "straight-through"},
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    {"name": "leaky_relu", "negative_slope": 0.2},
    "softplus",
    "gelu",
]
KINKED = {"heaviside", "relu", "leaky_relu"}


def _id(spec):
    return spec if isinstance(spec, str) else "-".join(str(v) for v in spec.values())


def _points(n=200, seed=0):
    """float64 points in [-6, 6], at least 0.05 away from the kink at 0."""
    z = np.random.default_rng(seed).uniform(-6, 6, size=n)
    return z[np.abs(z) > 0.05]


def _sigmoid(z):
    return expit(z)


def _reference(spec) -> tuple:
    """(σ(z), σ'(z) or the surrogate σ'(z)) as float64 NumPy functions, written independently."""
    name = spec if isinstance(spec, str) else spec["name"]
    if name == "identity":
        return (lambda z: z), (lambda z: np.ones_like(z))
    if name == "heaviside":
        step = lambda z: (z > 0).astype(np.float64)  # noqa: E731
        surrogate = None if isinstance(spec, str) else spec["surrogate"]
        if surrogate is None:
            return step, (lambda z: np.zeros_like(z))
        if surrogate == "straight-through":
            return step, (lambda z: np.ones_like(z))
        k = spec["slope"]
        # the surrogate is d/dz sigmoid(k z), taken here by central differences
        h = 1e-6
        return step, (lambda z: (_sigmoid(k * (z + h)) - _sigmoid(k * (z - h))) / (2 * h))
    if name == "sigmoid":
        return _sigmoid, None
    if name == "tanh":
        return np.tanh, None
    if name == "relu":
        return (lambda z: np.maximum(z, 0)), None
    if name == "leaky_relu":
        k = 0.01 if isinstance(spec, str) else spec["negative_slope"]
        return (lambda z: np.where(z > 0, z, k * z)), None
    if name == "softplus":
        return (lambda z: np.logaddexp(0, z)), None
    if name == "gelu":
        c = np.sqrt(2 / np.pi)
        return (lambda z: 0.5 * z * (1 + np.tanh(c * (z + 0.044715 * z**3)))), None
    raise AssertionError(name)


def _deriv(sigma: Activation, z):
    a = sigma(z)
    return sigma.backward(z, a, np.ones_like(z))


def test_every_registered_activation_is_covered():
    names = {s if isinstance(s, str) else s["name"] for s in SPECS}
    assert names == set(ACTIVATIONS)


@pytest.mark.parametrize("spec", SPECS, ids=_id)
def test_forward_matches_reference(spec):
    z = _points()
    ref, _ = _reference(spec)
    np.testing.assert_allclose(get_activation(spec)(z), ref(z), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("spec", SPECS, ids=_id)
def test_derivative_matches_finite_differences(spec):
    """σ'(z) against central differences of σ in float64, away from kinks.

    For heaviside the "derivative" is the true 0 or the opted-in surrogate: the
    derivative of sigmoid(slope·z), or 1 for straight-through.
    """
    sigma = get_activation(spec)
    z = _points()
    _, exact = _reference(spec)
    if exact is None:
        h = 1e-6
        expected = (sigma(z + h) - sigma(z - h)) / (2 * h)
    else:
        expected = exact(z)
    np.testing.assert_allclose(_deriv(sigma, z), expected, rtol=1e-6, atol=1e-8)


def test_backward_multiplies_upstream_gradient():
    sigma = get_activation("tanh")
    z = _points()
    g = np.random.default_rng(1).normal(size=z.shape)
    np.testing.assert_allclose(sigma.backward(z, sigma(z), g), g * (1 - np.tanh(z) ** 2))


def test_heaviside_at_zero_is_zero_and_true_derivative_is_zero():
    H = get_activation("heaviside")
    z = np.array([-1.0, -1e-12, 0.0, 1e-12, 1.0])
    np.testing.assert_array_equal(H(z), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(_deriv(H, z), np.zeros(5))
    # surrogates change only the backward pass, never the forward step
    for spec in SPECS[2:5]:
        np.testing.assert_array_equal(get_activation(spec)(z), [0, 0, 0, 1, 1])


def test_sigmoid_surrogate_at_zero_is_slope_over_four():
    for k in (1.0, 4.0, 10.0):
        H = get_activation({"name": "heaviside", "surrogate": "sigmoid", "slope": k})
        assert _deriv(H, np.array([0.0]))[0] == pytest.approx(k / 4)


@pytest.mark.parametrize("spec", SPECS, ids=_id)
def test_matches_torch_autograd(spec):
    require_backend("torch")
    import torch

    z_np = _points()
    g_np = np.random.default_rng(2).normal(size=z_np.shape)
    z = torch.tensor(z_np, requires_grad=True)
    out = torch_activation(spec)(z)
    out.backward(torch.tensor(g_np))
    sigma = get_activation(spec)
    np.testing.assert_allclose(sigma(z_np), out.detach().numpy(), rtol=1e-13, atol=1e-14)
    mine = sigma.backward(z_np, sigma(z_np), g_np)
    np.testing.assert_allclose(mine, z.grad.numpy(), rtol=1e-12, atol=1e-13)
    # and mlplab's own code on torch tensors gives the same
    zt = torch.tensor(z_np)
    mine_t = sigma.backward(zt, sigma(zt), torch.tensor(g_np))
    np.testing.assert_allclose(mine_t.numpy(), z.grad.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("spec", SPECS, ids=_id)
def test_matches_jax_grad(spec):
    require_backend("jax")
    import jax

    bk = get_backend("jax", "float64")
    z_np = _points()
    g_np = np.random.default_rng(3).normal(size=z_np.shape)
    z = bk.asarray(z_np)  # a float64 array turns on jax_enable_x64
    out, vjp = jax.vjp(jax_activation(spec), z)
    (grad,) = vjp(bk.asarray(g_np))
    assert grad.dtype == np.float64
    sigma = get_activation(spec)
    np.testing.assert_allclose(sigma(z_np), np.asarray(out), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(
        sigma.backward(z_np, sigma(z_np), g_np), np.asarray(grad), rtol=1e-12, atol=1e-13
    )
    np.testing.assert_allclose(
        np.asarray(sigma.backward(z, sigma(z), bk.asarray(g_np))),
        np.asarray(grad),
        rtol=1e-12,
        atol=1e-13,
    )


@pytest.mark.parametrize("spec", SPECS, ids=_id)
def test_same_values_on_every_backend(spec, backend, dtype):
    bk = get_backend(backend, dtype)
    z_np = _points()
    sigma = get_activation(spec)
    z = bk.asarray(z_np)
    a = sigma(z)
    d = sigma.backward(z, a, bk.asarray(np.ones_like(z_np)))
    assert to_numpy(a).dtype == np.dtype(dtype)
    # float32: a few ulps relative, and 1e-5 absolute where float32 tanh saturates
    # (gelu's derivative at z ≈ -5 is ~3e-6, computed as a difference of ~1 values)
    rtol, atol = (1e-12, 1e-12) if dtype == "float64" else (2e-6, 1e-5)
    np.testing.assert_allclose(to_numpy(a), sigma(z_np), rtol=rtol, atol=atol)
    np.testing.assert_allclose(to_numpy(d), _deriv(sigma, z_np), rtol=rtol, atol=atol)


def test_sigmoid_and_softplus_stable_for_huge_logits(backend, dtype):
    """Logits of ±1e4 give finite, correct values and derivatives in float32 and float64."""
    bk = get_backend(backend, dtype)
    z = bk.asarray(np.array([-1e4, -50.0, 0.0, 50.0, 1e4]))
    sig, sp = get_activation("sigmoid"), get_activation("softplus")
    s, p = to_numpy(sig(z)), to_numpy(sp(z))
    ds = to_numpy(sig.backward(z, sig(z), bk.asarray(np.ones(5))))
    dp = to_numpy(sp.backward(z, sp(z), bk.asarray(np.ones(5))))
    for arr in (s, p, ds, dp):
        assert np.all(np.isfinite(arr))
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(s, expit([-1e4, -50.0, 0.0, 50.0, 1e4]), rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(p, [0.0, np.log1p(np.exp(-50.0)), np.log(2), 50.0, 1e4], rtol=rtol)
    np.testing.assert_allclose(dp, s, rtol=rtol, atol=1e-30)
    assert s[0] == 0.0 and s[-1] == 1.0 and ds[0] == 0.0 and ds[-1] == 0.0


def test_spec_round_trip():
    for spec in SPECS:
        sigma = get_activation(spec)
        again = get_activation(sigma.spec())
        assert again == sigma
        assert again.spec() == sigma.spec()
        assert get_activation(sigma) is sigma
    assert get_activation("leaky_relu").spec() == {"name": "leaky_relu", "negative_slope": 0.01}


def test_unknown_activation_lists_known_ones():
    with pytest.raises(ConfigError, match=r"unknown activation 'swish'; known activations: ") as e:
        get_activation("swish")
    for name in ACTIVATIONS:
        assert name in str(e.value)
    with pytest.raises(ConfigError, match="unknown activation None"):
        get_activation({"slope": 3})


def test_bad_activation_settings():
    with pytest.raises(ConfigError, match=r"`surrogate` must be None, 'sigmoid' or 'straight"):
        get_activation({"name": "heaviside", "surrogate": "magic"})
    with pytest.raises(ConfigError, match=r"`slope` must be > 0; got -1"):
        get_activation({"name": "heaviside", "surrogate": "sigmoid", "slope": -1})
    with pytest.raises(ConfigError, match=r"`negative_slope` must be >= 0; got -0.5"):
        get_activation({"name": "leaky_relu", "negative_slope": -0.5})
    with pytest.raises(ConfigError, match=r"bad settings \{'alpha': 1\} for activation 'tanh'"):
        get_activation({"name": "tanh", "alpha": 1})
