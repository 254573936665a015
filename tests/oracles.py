"""The frameworks' own versions of mlplab's activations: oracles for the autograd tests.

``torch_activation(spec)`` and ``jax_activation(spec)`` take an activation name or
its spec dict (``{"name": "heaviside", "surrogate": ...}``) and return the
function PyTorch / JAX would differentiate (heaviside: the exact step forward,
the surrogate's derivative backward).
"""

from __future__ import annotations


def torch_activation(spec):
    import torch
    import torch.nn.functional as F

    name = spec if isinstance(spec, str) else spec["name"]
    if name == "heaviside":
        surrogate = None if isinstance(spec, str) else spec["surrogate"]
        soft = {
            None: lambda z: 0 * z,
            "straight-through": lambda z: z,
            "sigmoid": lambda z: torch.sigmoid(spec.get("slope", 0) * z),
        }[surrogate]
        # forward: the exact step; backward: the surrogate's derivative
        return lambda z: (z > 0).to(z.dtype) + soft(z) - soft(z).detach()
    k = 0.01 if isinstance(spec, str) else spec.get("negative_slope")
    return {
        "identity": lambda z: z,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, k),
        "softplus": F.softplus,
        "gelu": lambda z: F.gelu(z, approximate="tanh"),
    }[name]


def jax_activation(spec):
    import jax
    import jax.numpy as jnp

    name = spec if isinstance(spec, str) else spec["name"]
    if name == "heaviside":
        surrogate = None if isinstance(spec, str) else spec["surrogate"]
        soft = {
            None: lambda z: 0 * z,
            "straight-through": lambda z: z,
            "sigmoid": lambda z: jax.nn.sigmoid(spec.get("slope", 0) * z),
        }[surrogate]
        return lambda z: (z > 0).astype(z.dtype) + soft(z) - jax.lax.stop_gradient(soft(z))
    k = 0.01 if isinstance(spec, str) else spec.get("negative_slope")
    return {
        "identity": lambda z: z,
        "sigmoid": jax.nn.sigmoid,
        "tanh": jnp.tanh,
        "relu": jax.nn.relu,
        "leaky_relu": lambda z: jax.nn.leaky_relu(z, k),
        "softplus": jax.nn.softplus,
        "gelu": lambda z: jax.nn.gelu(z, approximate=True),
    }[name]
