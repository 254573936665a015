"""In-place application of the optimizers' updates, for the NumPy and PyTorch runners.

The pure step (:mod:`mlplab.train.step`) returns new arrays: Adam's update of one
weight matrix allocates ten temporaries of its size and three results, every
step. On a long or wide run that costs more than the arithmetic: fresh memory
each step (page faults when the allocator hands it back to the system), caches
evicted by streaming a 3 MiB matrix through memory a dozen times, and a peak
memory of the old and the new parameters and moments side by side.

The design allows the backend's runners to *apply* the same arithmetic faster
(docs/design.md, decision 3). :class:`InPlaceUpdate` does, for SGD, Adam and AdamW
(exactly those classes; any other optimizer runs its own, pure update):

* the same operations in the same order on the same dtypes as
  :mod:`mlplab.nn.optim`, so the results are bitwise equal
  (``tests/test_fast_paths.py``);
* into arrays it allocated itself: the first update of a run writes new arrays,
  so what the caller passed in (``model.params``, a ``TrainState``, the
  divergence guard's starting point) is never changed; later updates write over
  those;
* in chunks of :data:`CHUNK` elements, with two chunk-sized scratch arrays
  (``out=`` on NumPy and PyTorch alike): a chunk's dozen passes stay in the
  CPU's cache instead of streaming a whole matrix through memory a dozen times;
* on NumPy, every tree (parameters, moments) in one flat buffer whose small arrays lie
  side by side (:mod:`mlplab.backend.packed`): one pass of the rule covers all of them,
  and the optimizer's scalars are converted to the arrays' dtype once per step (what
  NumPy does with a Python float at every call, ~0.5 µs each).

Adam and AdamW on PyTorch instead run PyTorch's fused kernel (``torch._fused_adam_``,
what ``torch.optim.Adam(fused=True)`` calls): one call for every array, one pass over
each. It computes the same rule with its own rounding (``exp_avg.lerp_``-style moments,
the scalars in double precision), so it equals the pure update to rounding, not to the
bit: after 50 steps within 1e-6 relative (float32) and 1e-11 (float64) of the parameters'
scale. Measured on the CPU, one thread, per step: 83k parameters (the digits workload)
0.14 ms against 0.64 ms chunked and 0.38 ms for ``torch.optim.Adam``'s default; 1.1 M
(Scaling-4096) 1.1 ms against 5.0 and 3.1 ms.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..nn.optim import SGD, Adam, AdamW
from .packed import CHUNK, Packed

if TYPE_CHECKING:
    from ..nn.mlp import Array, Params
    from ..nn.optim import OptState, Tree
    from .loop import StepFn

    #: ``rule(xp, scalars, ins, outs, u, w)``: one optimizer's arithmetic on a chunk.
    Rule = Callable[[Any, tuple[Any, ...], list[Array], list[Array], Array, Array], None]

MIN_PARAMS = 1024  # below this the pure update is as fast (tiny nets: per-call overhead rules)


def updater_for(backend_name: str, step_fn: StepFn, params: Params) -> InPlaceUpdate | None:
    """An :class:`InPlaceUpdate` for ``step_fn``'s optimizer, or ``None`` to run the pure update."""
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
        self._owned: dict[int, object] = {}  # PyTorch: id -> tensor it allocated (kept alive)
        self._packed: Packed | None = None  # NumPy: the flat buffers
        self._scratch: tuple[Array, Array] | None = None
        self._step: Any = None  # PyTorch: the fused kernel's step number
        self._returned: tuple[Tree, OptState] | None = None  # NumPy: the last update's result

    def update(
        self, params: Params, grads: Params, state: OptState, lr: float, t: int
    ) -> tuple[Tree, OptState]:
        """New ``(params, state)``: bitwise what ``optimizer.update`` returns (Adam and
        AdamW on PyTorch: to rounding, see the module's docstring)."""
        if self.torch and isinstance(self.opt, Adam):
            return self._fused_adam(params, grads, state, lr, t)
        if not self.torch:
            return self._packed_update(params, grads, state, lr, t)
        names = sorted(state)  # "m", "v" (Adam); "velocity" (SGD with momentum); none
        moments = [state[name] for name in names]
        rule, scalars = self._rule(lr, t, float)
        new_params: Tree = []
        new_moments: list[list[Array]] = [[] for _ in names]
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

    def _packed_update(
        self, params: Params, grads: Params, state: OptState, lr: float, t: int
    ) -> tuple[Tree, OptState]:
        """NumPy: the rule over the flat buffers, a chunk at a time (see ``.packed``)."""
        names = sorted(state)
        packed = self._packed
        if not self._given_back(params, state):  # the first step, or arrays from elsewhere
            trees = [_leaves(params), *(_leaves(state[name]) for name in names)]
            if packed is None or not packed.fits(trees[0]):
                packed = self._packed = Packed(trees[0], len(trees))
            for k, leaves in enumerate(trees):
                packed.take(k, leaves)
            views = packed.views
            self._returned = (
                _pairs(views[0]),
                {name: _pairs(views[k + 1]) for k, name in enumerate(names)},
            )
        assert packed is not None and self._returned is not None
        rule, scalars = self._rule(lr, t, packed.dtype.type)
        bufs = packed.buffers
        u, w = self._scratch_for(bufs[0], min(bufs[0].shape[0], CHUNK))
        for lo, hi, g in packed.ranges(_leaves(grads)):
            for start in range(lo, hi, CHUNK):
                stop = min(start + CHUNK, hi)
                parts = [buf[start:stop] for buf in bufs]
                ins = [parts[0], g[start - lo : stop - lo], *parts[1:]]
                rule(np, scalars, ins, parts, u[: stop - start], w[: stop - start])
        return self._returned

    def _given_back(self, params: Params, state: OptState) -> bool:
        """Whether ``params`` and ``state`` are what the last update returned (then its
        arrays hold them already: nothing to look at)."""
        last = self._returned
        return last is not None and params is last[0] and state is last[1]

    def flush_subnormals(self, params: Params, state: OptState) -> tuple[Tree, OptState]:
        """``params`` and ``state`` with their subnormal entries set to 0 (NumPy): in place in
        the arrays this updater owns, in new arrays elsewhere (as the pure flush does)."""
        packed, last = self._packed, self._returned
        if packed is not None and last is not None and self._given_back(params, state):
            for k in range(len(packed.buffers)):  # all of them its own
                packed.flush_subnormals(k)
            return last  # (params, state) themselves
        names = sorted(state)
        trees = [params, *(state[name] for name in names)]
        flushed = [self._flushed_tree(k, tree) for k, tree in enumerate(trees)]
        return flushed[0], dict(zip(names, flushed[1:], strict=True))

    def _flushed_tree(self, k: int, tree: Tree) -> Tree:
        """Tree ``k`` (the parameters, then each moment) flushed: in place if it is ours."""
        packed, leaves = self._packed, _leaves(tree)
        views = packed.views[k] if packed is not None and k < len(packed.views) else []
        if packed is not None and len(views) == len(leaves):
            if all(a is v for a, v in zip(leaves, views, strict=True)):
                packed.flush_subnormals(k)
                return tree
        return [tuple(_flushed(a) for a in layer) for layer in tree]

    def _fused_adam(
        self, params: Params, grads: Params, state: OptState, lr: float, t: int
    ) -> tuple[Tree, OptState]:
        """PyTorch's fused Adam / AdamW kernel, in place on arrays this updater owns."""
        torch, opt = self.xp, self.opt
        assert isinstance(opt, Adam)
        flat = [
            [self._own(a) for layer in tree for a in layer]
            for tree in (params, state["m"], state["v"])
        ]
        flat_grads = [g.contiguous() for layer in grads for g in layer]
        step = self._step_tensor(flat[0][0], t)
        fused = torch._fused_adamw_ if type(opt) is AdamW else torch._fused_adam_
        fused(
            *flat[:1], flat_grads, *flat[1:], [], [step] * len(flat_grads),
            lr=lr, beta1=opt.beta1, beta2=opt.beta2, weight_decay=opt.weight_decay,
            eps=opt.eps, amsgrad=False, maximize=False,
        )  # fmt: skip
        p, m, v = (_pairs(values) for values in flat)
        return p, {"m": m, "v": v}

    def _own(self, a: Array) -> Array:
        """``a`` if this updater allocated it, else a contiguous copy that it owns."""
        out = self._target(a)
        if out is not a:
            out.copy_(a)
        return out

    def _step_tensor(self, like: Array, t: int) -> Any:
        """The step number as the 0-d float32 tensor the fused kernel reads (one, reused)."""
        step = self._step
        if step is None or step.device != like.device:
            step = self._step = self.xp.zeros((), dtype=self.xp.float32, device=like.device)
        step.fill_(float(t))
        return step

    # --- the rules: the optimizers' arithmetic, operation by operation ----------

    def _rule(
        self, lr: float, t: int, cast: Callable[[float], Any]
    ) -> tuple[Rule, tuple[Any, ...]]:
        """The rule and its scalars, each ``cast`` to the arrays' type once per step."""
        opt = self.opt
        if isinstance(opt, Adam):  # Adam and AdamW
            step_size, sqrt_bc2 = opt.bias_corrections(lr, t)
            adamw = type(opt) is AdamW and opt.weight_decay
            decay = cast(1 - lr * opt.weight_decay) if adamw else None
            coupled = cast(opt.weight_decay) if opt.weight_decay and not adamw else None
            b1, b2 = opt.beta1, opt.beta2
            scalars = (b1, 1 - b1, b2, 1 - b2, sqrt_bc2, opt.eps, step_size)
            return self._adam, (*map(cast, scalars), decay, coupled)
        mu = cast(opt.momentum) if opt.momentum else None
        wd = cast(opt.weight_decay) if opt.weight_decay else None
        return self._sgd, (cast(lr), mu, opt.nesterov, wd)

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
        b1, c1, b2, c2, sqrt_bc2, eps, step_size, decay, coupled = scalars
        p, g, m, v = ins
        p_out, m_out, v_out = outs
        if decay is not None:  # AdamW: p ← p (1 − lr λ) first
            xp.multiply(p, decay, out=p_out)
            p = p_out
        elif coupled is not None:  # Adam's coupled L2: g ← g + λ p
            g = _plus_scaled(xp, g, p, coupled, w)
        xp.multiply(m, b1, out=m_out)
        xp.multiply(g, c1, out=u)
        xp.add(m_out, u, out=m_out)
        xp.multiply(g, g, out=u)
        xp.multiply(u, c2, out=u)
        xp.multiply(v, b2, out=v_out)
        xp.add(v_out, u, out=v_out)
        xp.sqrt(v_out, out=u)
        xp.divide(u, sqrt_bc2, out=u)
        xp.add(u, eps, out=u)
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
        lr, mu, nesterov, wd = scalars
        p, g, *velocity = ins
        if wd is not None:
            g = _plus_scaled(xp, g, p, wd, w)
        step = g
        if mu is not None:
            v, v_out = velocity[0], outs[1]
            xp.multiply(v, mu, out=v_out)
            xp.add(v_out, g, out=v_out)
            step = v_out
            if nesterov:
                xp.multiply(v_out, mu, out=u)
                xp.add(g, u, out=u)
                step = u
        xp.multiply(step, lr, out=u)
        xp.subtract(p, u, out=outs[0])

    # --- arrays: ownership, chunks, scratch -------------------------------------

    def _target(self, a: Array) -> Array:
        """``a`` itself if this updater allocated it; else a new tensor of its shape."""
        if self._owned.get(id(a)) is a:
            return a
        out = self.xp.empty(a.shape, dtype=a.dtype, device=a.device)  # contiguous
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


def _plus_scaled(xp: Any, g: Array, p: Array, scale: Any, out: Array) -> Array:
    """``g + scale · p`` into ``out`` (the coupled weight decay's ``g + λ θ``)."""
    xp.multiply(p, scale, out=out)
    xp.add(g, out, out=out)
    return out


def _flushed(a: Array) -> Array:
    """``a`` with its subnormal entries set to 0: a new array (the pure flush)."""
    if not (isinstance(a, np.ndarray) and a.dtype.kind == "f"):
        return a
    return np.where(np.abs(a) < np.finfo(a.dtype).tiny, a.dtype.type(0), a)


def _leaves(tree: Iterable[tuple[Array, Array]]) -> list[Array]:
    """The arrays of a ``[(b, W)]`` list, in order."""
    return [a for layer in tree for a in layer]


def _flat(a: Array) -> Array:
    """A 1-D view of ``a`` (a copy if ``a`` is not contiguous: only inputs can be)."""
    return a.reshape(-1)


def _pairs(values: list[Array]) -> Tree:
    return [(values[k], values[k + 1]) for k in range(0, len(values), 2)]
