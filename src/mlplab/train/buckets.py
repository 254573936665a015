"""The data-parallel step's buffers: one flat gradient bucket, and the update split by layers.

:class:`Bucket`: every rank writes its scaled gradients into views of one
preallocated flat buffer in the gradients' dtype (``torch.from_numpy`` shares a
NumPy buffer's memory, so the collective works in place, with no copy), and
hands the views back as the summed gradients.

:class:`SplitUpdate` (ZeRO stage 1, by whole layers): each layer is updated by
one rank, its "owner", chosen so that the ranks update about as many weights
each. A step then sums each layer's gradients on its owner only (one
``reduce`` per rank, half an ``all_reduce``'s traffic with 2 ranks), the owner
applies the optimizer's in-place update (:mod:`mlplab.backend.inplace`) to its
layers, and ``broadcast`` sends the new weights to the other ranks (the other
half). The optimizer's moments of a layer are kept by its owner alone during a
run; :meth:`SplitUpdate.finish` sends them to every rank when the run ends, so
checkpoints and the returned state are whole. On a 2-core CPU the update of
workload B (Adam, 1.9 M weights) costs a third of a step, and every rank ran
all of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..nn.mlp import Array
    from .distributed import DataParallel

Layers = list[tuple[Any, ...]]


def owners(sizes: list[int], world: int) -> list[int]:
    """The rank that updates each layer: largest first, each to the least loaded rank."""
    load = [0] * world
    out = [0] * len(sizes)
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        rank = min(range(world), key=lambda r: (load[r], r))
        out[i] = rank
        load[rank] += sizes[i]
    return out


class Bucket:
    """A flat buffer in the gradients' dtype and, shaped like each gradient, views of it.

    ``owner``: the rank that updates each layer (:class:`SplitUpdate`): the buffer
    holds the owners' layers one group after the other, :attr:`groups` their
    ``(start, stop)``; None: the layers in their order, one group.
    """

    def __init__(self, grads: Layers, device: Any, owner: list[int] | None, world: int):
        import torch

        first = grads[0][0]
        self.numpy = isinstance(first, np.ndarray)
        self.owner = owner
        self.order = sorted(range(len(grads)), key=lambda i: (0 if owner is None else owner[i], i))
        self.shapes = [tuple(g.shape) for layer in grads for g in layer]
        size = sum(int(np.prod(shape)) for shape in self.shapes)
        if self.numpy:
            self.flat: Any = np.empty(size, dtype=first.dtype)
            self.comm = torch.from_numpy(self.flat)  # the same memory: collectives in place
        else:
            self.flat = torch.empty(size, dtype=first.dtype, device=device)
            self.comm = self.flat
        self.views: list[list[Any]] = [[] for _ in grads]
        self.groups = [(0, 0)] * world
        at = 0
        for i in self.order:
            start = at
            for g in grads[i]:
                n = int(np.prod(g.shape))
                self.views[i].append(self.flat[at : at + n].reshape(tuple(g.shape)))
                at += n
            if owner is not None:
                lo, hi = self.groups[owner[i]]
                self.groups[owner[i]] = (start if hi == lo else lo, at)
        if owner is None:
            self.groups = [(0, at)]

    def fits(self, grads: Layers, owner: list[int] | None) -> bool:
        first = grads[0][0]
        return (
            isinstance(first, np.ndarray) == self.numpy
            and first.dtype == self.flat.dtype
            and [tuple(g.shape) for layer in grads for g in layer] == self.shapes
            and owner == self.owner
        )

    def pack(self, grads: Layers, scale: Any, empty: bool) -> None:
        """``scale · g`` into each gradient's view (zeros for a rank with no rows)."""
        if empty:  # its gradients over 0 rows may be NaN: it adds nothing
            self.flat.fill(0) if self.numpy else self.flat.zero_()
            return
        for layer, views in zip(grads, self.views, strict=True):
            for g, view in zip(layer, views, strict=True):
                if self.numpy:
                    np.multiply(g, scale, out=view)
                else:
                    import torch

                    torch.mul(g, scale, out=view)

    def unpack(self, grads: Layers) -> Layers:
        """The summed gradients: views of the buffer, shaped like ``grads``."""
        return [tuple(views) for views in self.views]


class SplitUpdate:
    """An in-place updater (``update``, ``flush_subnormals``) whose layers are split over ranks."""

    def __init__(self, dp: DataParallel, fast: Any, params: Layers):
        self.dp, self.fast = dp, fast
        sizes = [sum(int(np.prod(a.shape)) for a in layer) for layer in params]
        self.owner = owners(sizes, dp.world)
        self.mine = [i for i in range(len(params)) if self.owner[i] == dp.rank]
        self._received: dict[int, tuple[Any, ...]] = {}  # layer -> arrays this rank receives

    def update(self, params: Layers, grads: Layers, state: dict[str, Layers], lr: float,
               t: int) -> tuple[Layers, dict[str, Layers]]:  # fmt: skip
        """This rank's layers updated in place, the others' received from their owners."""
        new_params, new_state = list(params), {k: list(v) for k, v in state.items()}
        if self.mine:
            pick = self.mine
            part = ([params[i] for i in pick], [grads[i] for i in pick],
                    {k: [v[i] for i in pick] for k, v in state.items()})  # fmt: skip
            got_params, got_state = self.fast.update(*part, lr, t)
            for j, i in enumerate(pick):
                new_params[i] = got_params[j]
                for k in new_state:
                    new_state[k][i] = got_state[k][j]
        sends = []
        for i, layer in enumerate(params):
            if self.owner[i] != self.dp.rank:
                new_params[i] = self._target(i, layer)
            sends += [(a, self.owner[i]) for a in new_params[i]]
        self.dp.broadcast(sends, "a training step", "broadcast (weights)")
        return new_params, new_state

    def flush_subnormals(
        self, params: Layers, state: dict[str, Layers]
    ) -> tuple[Layers, dict[str, Layers]]:
        """Every layer's subnormals set to 0 on every rank (the same numbers on each)."""
        out: tuple[Layers, dict[str, Layers]] = self.fast.flush_subnormals(params, state)
        return out

    def finish(self, state: dict[str, Layers]) -> dict[str, Layers]:
        """The whole optimizer state on every rank (each layer's moments from its owner)."""
        self.dp.split_done()
        out = {k: list(v) for k, v in state.items()}
        sends = []
        for layers in out.values():
            for i, layer in enumerate(layers):
                if self.owner[i] != self.dp.rank:  # new arrays: the caller's stay as they were
                    layers[i] = tuple(_empty_like(a) for a in layer)
                sends += [(a, self.owner[i]) for a in layers[i]]
        self.dp.broadcast(sends, "the end of a run", "broadcast (state)")
        return out

    def _target(self, i: int, layer: tuple[Any, ...]) -> tuple[Any, ...]:
        """Arrays of this rank's own to receive layer ``i`` into (never the caller's)."""
        got = self._received.get(i)
        if got is None or any(a is not b for a, b in zip(got, layer, strict=True)):
            got = tuple(_empty_like(a) for a in layer)
            self._received[i] = got
        return got


def _empty_like(a: Array) -> Array:
    if isinstance(a, np.ndarray):
        return np.empty_like(a, order="C")
    import torch

    return torch.empty_like(a, memory_format=torch.contiguous_format)


__all__ = ["Bucket", "SplitUpdate", "owners"]
