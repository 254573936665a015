"""In-place application of the optimizers' updates, for the NumPy and PyTorch runners.

The pure step (:mod:`mlplab.train.step`) returns new arrays: Adam's update of one
weight matrix allocates ten temporaries of its size and three results, every
step. On a long or wide run that costs more than the arithmetic: fresh memory
each step (page faults when the allocator hands it back to the system), caches
evicted by streaming a 3 MiB matrix through memory a dozen times, and a peak
memory of the old and the new parameters and moments side by side.

The design allows the backend's runners to *apply* the same arithmetic faster
(docs/design.md, decision 3). :class:`InPlaceUpdate` does, for SGD, Adam and AdamW
(exactly those classes; any other optimizer runs the pure step):

* the same operations in the same order on the same dtypes as
  :mod:`mlplab.nn.optim`, so the results are bitwise equal
  (``tests/test_fast_paths.py``);
* into arrays it allocated itself: the first update of a run writes new arrays,
  so what the caller passed in (``model.params``, a ``TrainState``, the
  divergence guard's starting point) is never changed; later updates write over
  those;
* in chunks of :data:`CHUNK` elements, with two chunk-sized scratch arrays
  (``out=`` on NumPy and PyTorch alike): a chunk's dozen passes stay in the
  CPU's cache instead of streaming a whole matrix through memory a dozen times.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..nn.optim import SGD, Adam, AdamW

if TYPE_CHECKING:
    from ..nn.mlp import Array, Params
    from ..nn.optim import OptState, Tree
    from .loop import StepFn

    #: ``rule(xp, scalars, ins, outs, u, w)``: one optimizer's arithmetic on a chunk.
    Rule = Callable[[Any, tuple[Any, ...], list[Array], list[Array], Array, Array], None]

CHUNK = 1 << 15  # 32k float32 = 128 KiB: the dozen arrays of a chunk fit in a core's L2 cache
MIN_PARAMS = 4096  # below this the pure step is as fast (tiny nets: per-call overhead rules)


def updater_for(backend_name: str, step_fn: StepFn, params: Params) -> InPlaceUpdate | None:
    """An :class:`InPlaceUpdate` for ``step_fn``'s optimizer, or ``None`` to run the pure step."""
    optimizer: Any = getattr(step_fn, "optimizer", None)
    if backend_name not in ("numpy", "torch") or type(optimizer) not in (SGD, Adam, AdamW):
        return None
    if sum(W.shape[0] * W.shape[1] for _, W in params) < MIN_PARAMS:
        return None
    return InPlaceUpdate(optimizer, backend_name)


class InPlaceUpdate:
    """``update(params, grads, state, lr, t)`` like the optimizer's, writing in place."""

    def __init__(self, optimizer: SGD | Adam, backend_name: str) -> None:
        self.opt = optimizer
        self.torch = backend_name == "torch"
        xp: types.ModuleType
        if self.torch:
            import torch as xp
        else:
            xp = np
        self.xp = xp
        # id -> array this updater allocated (kept alive: ids stay unique)
        self._owned: dict[int, object] = {}
        self._scratch: tuple[Array, Array] | None = None

    def update(
        self, params: Params, grads: Params, state: OptState, lr: float, t: int
    ) -> tuple[Tree, OptState]:
        """New ``(params, state)``; bitwise what ``optimizer.update`` returns."""
        names = sorted(state)  # "m", "v" (Adam); "velocity" (SGD with momentum); none
        moments = [state[name] for name in names]
        rule, scalars = self._rule(lr, t)
        new_params: Tree
        new_moments: list[list[Array]]
        new_params, new_moments = [], [[] for _ in names]
        for i, (layer, grad) in enumerate(zip(params, grads, strict=True)):
            new_layer: list[Array] = []
            for j in range(2):
                ins = [layer[j], grad[j], *(moment[i][j] for moment in moments)]
                outs = [self._target(layer[j]), *(self._target(m[i][j]) for m in moments)]
                self._apply(rule, scalars, ins, outs)
                new_layer.append(outs[0])
                for k, out in enumerate(outs[1:]):
                    new_moments[k].append(out)
            new_params.append(tuple(new_layer))
        new_state = {name: _pairs(values) for name, values in zip(names, new_moments, strict=True)}
        return new_params, new_state

    def flush_subnormals(self, state: OptState) -> OptState:
        """Set the subnormal entries of ``state``'s arrays to 0 (NumPy), in place where owned."""
        out: OptState = {}
        for name, layers in state.items():
            out[name] = [tuple(self._flushed(a) for a in layer) for layer in layers]
        return out

    # --- the rules: the optimizers' arithmetic, operation by operation ----------

    def _rule(self, lr: float, t: int) -> tuple[Rule, tuple[Any, ...]]:
        opt = self.opt
        if isinstance(opt, Adam):  # Adam and AdamW
            step_size, sqrt_bc2 = opt.bias_corrections(lr, t)
            adamw = type(opt) is AdamW and opt.weight_decay
            decay = 1 - lr * opt.weight_decay if adamw else None
            return self._adam, (opt, step_size, sqrt_bc2, decay)
        return self._sgd, (opt, lr)

    def _adam(
        self,
        xp: Any,
        scalars: tuple[Any, ...],
        ins: list[Array],
        outs: list[Array],
        u: Array,
        w: Array,
    ) -> None:
        """``m ← β₁m + (1−β₁)g``, ``v ← β₂v + (1−β₂)g²``, ``p ← p − s·m / (√v / c + ε)``."""
        opt, step_size, sqrt_bc2, decay = scalars
        p, g, m, v = ins
        p_out, m_out, v_out = outs
        b1, b2 = opt.beta1, opt.beta2
        if decay is not None:  # AdamW: p ← p (1 − lr λ) first
            xp.multiply(p, decay, out=p_out)
            p = p_out
        elif opt.weight_decay:  # Adam's coupled L2: g ← g + λ p
            g = _plus_scaled(xp, g, p, opt.weight_decay, w)
        xp.multiply(m, b1, out=m_out)
        xp.multiply(g, 1 - b1, out=u)
        xp.add(m_out, u, out=m_out)
        xp.multiply(g, g, out=u)
        xp.multiply(u, 1 - b2, out=u)
        xp.multiply(v, b2, out=v_out)
        xp.add(v_out, u, out=v_out)
        xp.sqrt(v_out, out=u)
        xp.divide(u, sqrt_bc2, out=u)
        xp.add(u, opt.eps, out=u)
        xp.multiply(m_out, step_size, out=w)
        xp.divide(w, u, out=w)
        xp.subtract(p, w, out=p_out)

    def _sgd(
        self,
        xp: Any,
        scalars: tuple[Any, ...],
        ins: list[Array],
        outs: list[Array],
        u: Array,
        w: Array,
    ) -> None:
        """``g ← g + λp``; ``v ← μv + g``; ``p ← p − lr·(v or g + μv)``."""
        opt, lr = scalars
        p, g, *velocity = ins
        if opt.weight_decay:
            g = _plus_scaled(xp, g, p, opt.weight_decay, w)
        step = g
        if opt.momentum:
            v, v_out = velocity[0], outs[1]
            xp.multiply(v, opt.momentum, out=v_out)
            xp.add(v_out, g, out=v_out)
            step = v_out
            if opt.nesterov:
                xp.multiply(v_out, opt.momentum, out=u)
                xp.add(g, u, out=u)
                step = u
        xp.multiply(step, lr, out=u)
        xp.subtract(p, u, out=outs[0])

    # --- arrays: ownership, chunks, scratch -------------------------------------

    def _target(self, a: Array) -> Array:
        """``a`` itself if this updater allocated it; else a new array of its shape."""
        if self._owned.get(id(a)) is a:
            return a
        if self.torch:
            out = self.xp.empty(a.shape, dtype=a.dtype, device=a.device)
        else:
            out = np.empty(a.shape, dtype=a.dtype)  # C order: its flat view is a view
        self._owned[id(out)] = out
        return out

    def _apply(
        self, rule: Rule, scalars: tuple[Any, ...], ins: list[Array], outs: list[Array]
    ) -> None:
        flat_in = [_flat(a) for a in ins]
        flat_out = [_flat(a) for a in outs]
        n = flat_out[0].shape[0]
        u, w = self._scratch_for(outs[0], min(n, CHUNK))
        for start in range(0, n, CHUNK):
            stop = min(start + CHUNK, n)
            parts_in = [a[start:stop] for a in flat_in]
            parts_out = [a[start:stop] for a in flat_out]
            rule(self.xp, scalars, parts_in, parts_out, u[: stop - start], w[: stop - start])

    def _scratch_for(self, like: Array, n: int) -> tuple[Array, Array]:
        """Two scratch arrays of ``n`` elements of ``like``'s dtype (grown when needed)."""
        s = self._scratch
        if s is None or s[0].shape[0] < n or s[0].dtype != like.dtype:
            if self.torch:
                s = tuple(self.xp.empty(n, dtype=like.dtype, device=like.device) for _ in "uw")
            else:
                s = (np.empty(n, like.dtype), np.empty(n, like.dtype))
            self._scratch = s
        return s[0][:n], s[1][:n]

    def _flushed(self, a: Array) -> Array:
        if not (isinstance(a, np.ndarray) and a.dtype.kind == "f"):
            return a
        tiny = np.finfo(a.dtype).tiny
        if self._owned.get(id(a)) is not a:  # not ours: a new array, as the pure flush does
            return np.where(np.abs(a) < tiny, a.dtype.type(0), a)
        flat = a.reshape(-1)
        for start in range(0, flat.shape[0], CHUNK):
            part = flat[start : start + CHUNK]
            np.copyto(part, 0, where=np.abs(part) < tiny)
        return a


def _plus_scaled(xp: Any, g: Array, p: Array, scale: float, out: Array) -> Array:
    """``g + scale · p`` into ``out`` (the coupled weight decay's ``g + λ θ``)."""
    xp.multiply(p, scale, out=out)
    xp.add(g, out, out=out)
    return out


def _flat(a: Array) -> Array:
    """A 1-D view of ``a`` (a copy if ``a`` is not contiguous: only inputs can be)."""
    return a.reshape(-1)


def _pairs(values: list[Array]) -> Tree:
    return [(values[k], values[k + 1]) for k in range(0, len(values), 2)]
