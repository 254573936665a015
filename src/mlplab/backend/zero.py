"""One data-parallel JAX step per device: the batch split, the optimizer update split too.

:func:`sharded_runner` compiles the plan's steps as one ``lax.scan`` inside
``shard_map`` over the mesh's ``"batch"`` axis. On each device, each step:

1. gathers its rows of the global batch (its slice of the step's indices) and
   computes the weighted mean loss and gradients over them, W_d = Σ its weights;
2. ``psum`` of the W_d gives W; the gradients and loss are scaled by W_d / W
   (0 for a device whose rows all weigh 0: padding), so their sum is the
   global batch's weighted mean;
3. ``psum_scatter`` sums the gradients and leaves each device the sum for its
   slice of rows of every weight (a reduce-scatter: half an all-reduce's
   traffic), and the optimizer updates that slice only, with its slice of the
   moments (the state stays split over the devices: ZeRO stage 1);
4. ``all_gather`` assembles the new weights on every device.

Every element is updated by the optimizer's own arithmetic, once, so the numbers
are one device's to rounding (the batch's sums are added in another order).
On a 2-core CPU the update is a fifth of a step of workload B; replicated, each
device ran all of it. Weights whose first axis does not divide by the device
count are summed whole (``psum``) and updated on every device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from jax.sharding import Mesh

AXIS = "batch"


def _split(a: Any, n: int) -> bool:
    """Whether ``a``'s first axis is split over ``n`` devices (else it stays whole)."""
    return getattr(a, "ndim", 0) >= 1 and a.shape[0] % n == 0


def state_specs(opt_state: Any, mesh: Mesh) -> Any:
    """The optimizer state's ``PartitionSpec`` tree: split by rows where they divide."""
    import jax

    n = mesh.devices.size
    return jax.tree_util.tree_map(lambda a: _spec(AXIS) if _split(a, n) else _spec(), opt_state)


def _local_step(step_fn: Any, n: int, X: Any, Y: Any, SW: Any) -> Callable[..., Any]:
    """The scan body of one device (inside ``shard_map``)."""
    import jax
    import jax.numpy as jnp

    lax: Any = jax.lax  # Any: jax's functions are not annotated (mypy --strict)
    tree_map = jax.tree_util.tree_map

    def body(carry: Any, step: Any) -> Any:
        params, opt_state = carry
        i, w, lr, t = step  # i, w: this device's rows of the step's batch
        wb = w if SW is None else SW[i] * w
        value, grads = step_fn.value_and_grads(params, X[i], Y[i], wb)
        mine = jnp.sum(wb)
        total = lax.psum(mine, AXIS)
        scale = jnp.where(mine > 0, mine / jnp.where(total > 0, total, 1), 0)

        def scaled(g: Any) -> Any:  # rows that all weigh 0 give NaN means: they add nothing
            return jnp.where(mine > 0, g * scale.astype(g.dtype), jnp.zeros_like(g))

        value = lax.psum(scaled(value), AXIS)
        k = lax.axis_index(AXIS)

        def reduce(g: Any) -> Any:
            if _split(g, n):
                return lax.psum_scatter(scaled(g), AXIS, scatter_dimension=0, tiled=True)
            return lax.psum(scaled(g), AXIS)

        def rows(p: Any) -> Any:
            return lax.dynamic_slice_in_dim(p, k * (p.shape[0] // n), p.shape[0] // n)

        grads = tree_map(reduce, grads)
        part = tree_map(lambda p: rows(p) if _split(p, n) else p, params)
        part, opt_state = step_fn.optimizer.update(part, grads, opt_state, lr, t)
        params = tree_map(
            lambda new, old: lax.all_gather(new, AXIS, tiled=True) if _split(old, n) else new,
            part,
            params,
        )
        return (params, opt_state), value

    return body


def sharded_runner(step_fn: Any, mesh: Mesh, opt_state: Any, unroll: int) -> Callable[..., Any]:
    """``run(params, opt_state, X, Y, SW, idx, weights, lrs, ts) -> (params, opt_state, losses)``.

    ``idx``, ``weights``: `(steps, batch)`, the batch a multiple of the device
    count; every other input, and every output, replicated: each device takes
    its slice of the state as the run starts and the slices are gathered as it
    ends (one all-gather of the state a run, not a step).
    """
    import jax

    lax: Any = jax.lax
    n = mesh.devices.size
    specs = state_specs(opt_state, mesh)
    leaves, tree = jax.tree_util.tree_flatten(opt_state)
    split = [_split(a, n) for a in leaves]  # of the whole arrays (inside: each device's slice)

    def per_device(*args: Any) -> tuple[Any, Any, Any]:
        params, opt_state, X, Y, SW, idx, weights, lrs, ts = args
        body = _local_step(step_fn, n, X, Y, SW)
        carry, losses = lax.scan(body, (params, opt_state), (idx, weights, lrs, ts), unroll=unroll)
        # the whole state on every device once the run ends (checkpoints, several hosts)
        parts = jax.tree_util.tree_leaves(carry[1])
        full = [lax.all_gather(a, AXIS, tiled=True) if s else a
                for a, s in zip(parts, split, strict=True)]  # fmt: skip
        return carry[0], jax.tree_util.tree_unflatten(tree, full), losses

    rows, whole = _spec(None, AXIS), _spec()
    mapped = jax.shard_map(
        per_device,
        mesh=mesh,
        in_specs=(whole, specs, whole, whole, whole, rows, rows, whole, whole),
        out_specs=(whole, whole, whole),
        check_vma=False,
    )
    return jax.jit(mapped)


def _spec(*axes: str | None) -> Any:
    """``PartitionSpec(*axes)`` (its constructor is not annotated: called through Any)."""
    import jax

    spec: Any = jax.sharding.PartitionSpec
    return spec(*axes)


__all__ = ["sharded_runner", "state_specs"]
