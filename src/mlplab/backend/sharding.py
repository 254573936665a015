"""Data-parallel JAX: the batch sharded over a ``jax.sharding.Mesh``, the parameters replicated.

``fit(..., devices=N | "all")`` on the JAX backend runs the same compiled
``lax.scan`` (:mod:`mlplab.backend.jax_loop`) with two changes:

* the data and the parameters are replicated on the mesh's devices;
* with SGD, Adam or AdamW, each device gathers its rows of every batch, the
  gradients are summed with a reduce-scatter, each device updates its slice
  of rows of every weight (the optimizer state stays split over the devices)
  and an all-gather assembles the new weights (:mod:`mlplab.backend.zero`);
* with another optimizer, inside the step each gathered batch is constrained to
  be split along its rows (``PartitionSpec("batch")``), so every device runs
  the forward and backward pass on its rows, and XLA's SPMD partitioner
  inserts the all-reduce of the gradient sums itself; every device then runs
  the whole update.

A batch is padded to a multiple of the device count with rows of weight 0,
so the weighted mean is the one-device mean: same seed, same numbers, to
rounding (the sums are added in another order). Several hosts: call
``jax.distributed.initialize()`` first on every host; ``devices="all"`` then
spans every host's devices (``jax.devices()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    from jax.sharding import Mesh

    from .arrays import Backend


def mesh_for(devices: int | str | None, backend: Backend) -> Mesh | None:
    """The ``Mesh`` of ``devices`` (a count or ``"all"``), or None for one device."""
    if devices is None:
        return None
    if backend.name != "jax":
        raise ConfigError(
            f"`devices` shards a JAX model over several devices; this model is on "
            f"{backend.name!r}. For NumPy or PyTorch, start several processes with "
            "`torchrun --nproc-per-node N` (data parallel over torch.distributed)."
        )
    import jax
    from jax.sharding import Mesh

    found = jax.devices()
    if devices == "all":
        count = len(found)
    elif isinstance(devices, int) and not isinstance(devices, bool) and devices >= 1:
        count = devices
    else:
        raise ConfigError(f"`devices` must be a positive integer or 'all'; got {devices!r}.")
    if count > len(found):
        raise ConfigError(
            f"`devices`={count} but JAX sees {len(found)} ({found[0].platform}); on the CPU, "
            f"set XLA_FLAGS=--xla_force_host_platform_device_count={count} before starting "
            "Python to split it into that many devices."
        )
    if count == 1:
        return None
    import numpy as np

    return Mesh(np.asarray(found[:count]), ("batch",))


def replicated(tree: Any, mesh: Mesh) -> Any:
    """``tree`` (arrays, or a pytree of them) copied to every device of ``mesh``."""
    import jax
    import numpy as np
    from jax.sharding import NamedSharding

    everywhere = NamedSharding(mesh, _spec())
    if everywhere.is_fully_addressable:
        return jax.device_put(tree, everywhere)

    make: Any = jax.make_array_from_process_local_data  # Any: not annotated in jax

    def from_here(a: Any) -> Any:  # several processes (jax.distributed): each gives its own copy
        return make(everywhere, np.asarray(a))

    return jax.tree.map(from_here, tree)


def split_rows(x: Any, mesh: Mesh) -> Any:
    """Inside ``jit``: ``x`` `(batch, …)` laid out with its rows split over ``mesh``."""
    import jax
    from jax.sharding import NamedSharding

    if x is None:
        return None
    lax: Any = jax.lax  # Any: jax's functions are not annotated (mypy --strict)
    return lax.with_sharding_constraint(x, NamedSharding(mesh, _spec("batch")))


def _spec(*axes: str) -> Any:
    """``PartitionSpec(*axes)`` (its constructor is not annotated: called through Any)."""
    import jax

    spec: Any = jax.sharding.PartitionSpec
    return spec(*axes)


def home(tree: Any, like: Any) -> Any:
    """``tree`` moved back to the single device of ``like`` (the model's own arrays)."""
    import jax

    def local(a: Any) -> Any:  # several processes: a replicated array's copy on this process
        return a if getattr(a, "is_fully_addressable", True) else a.addressable_data(0)

    return jax.device_put(jax.tree.map(local, tree), next(iter(like.devices())))


def pad_to(size: int, mesh: Mesh) -> int:
    """``size`` rounded up to a multiple of the mesh's device count."""
    n = mesh.devices.size
    return -(-size // n) * n


__all__ = ["home", "mesh_for", "pad_to", "replicated", "split_rows"]
