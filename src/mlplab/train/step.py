"""One training step, the lecture's "backpropagation assigns fault, gradient descent updates θ".

1. forward: ``ŷ = f(x_batch, θ)``, keeping every layer's ``(x, z, a)``;
2. loss: ``L(ŷ, y)`` and ``∂L/∂ŷ``;
3. backward: every layer's delta and gradient (:func:`~mlplab.nn.mlp.backward`);
4. L2 penalty, if any (:func:`~mlplab.nn.losses.l2_penalty`);
5. update: ``θ ← optimizer(θ, ∇θ L, lr_t)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from ..nn.losses import add_l2_penalty
from ..nn.mlp import backward, forward_cache

if TYPE_CHECKING:
    from ..backend.loop import StepFn
    from ..nn.activations import Activation
    from ..nn.losses import Loss
    from ..nn.mlp import Array, Params
    from ..nn.optim import Optimizer, OptState, Tree

    #: ``reduce(value, grads, xb, wb) -> (value, grads)`` over the data-parallel ranks.
    Reduce = Callable[[Array, Tree, Array, Array | None], tuple[Array, Tree]]


@functools.lru_cache(maxsize=64)
def make_step(
    activations: tuple[Activation, ...],
    loss: Loss,
    optimizer: Optimizer,
    l2: float,
    reduce: Reduce | None = None,
) -> StepFn:
    """The pure training step for one architecture / loss / optimizer / L2 setting.

    ``step(params, opt_state, xb, yb, wb, lr, t) -> (params, opt_state, loss)``.
    Cached, so a compiled JAX loop built on it is reused across fit calls.
    ``step.value_and_grads(params, xb, yb, wb) -> (loss, grads)`` is steps 1-4 and
    ``step.optimizer`` step 5, for runners that apply the update in place.
    ``reduce(value, grads, xb, wb)``, in data-parallel training
    (:mod:`mlplab.train.distributed`), turns this rank's share of the batch into
    the whole batch's loss and gradients before the penalty and the update.
    """

    def value_and_grads(
        params: Params, xb: Array, yb: Array, wb: Array | None
    ) -> tuple[Array, Tree]:  # steps 1-4
        out, caches = forward_cache(params, activations, xb)  # 1. forward
        value, grad_out = loss.value_and_grad(out, yb, wb)  # 2. loss, ∂L/∂ŷ
        grads = backward(params, activations, caches, grad_out).grads  # 3. backward
        if reduce is not None:  # data parallel: the mean over every rank's share
            value, grads = reduce(value, grads, xb, wb)
        if l2:  # 4. L2 penalty
            value, grads = add_l2_penalty(value, grads, params, l2)
        return value, grads

    def step(
        params: Params,
        opt_state: OptState,
        xb: Array,
        yb: Array,
        wb: Array | None,
        lr: float,
        t: int,
    ) -> tuple[Tree, OptState, Array]:
        value, grads = value_and_grads(params, xb, yb, wb)
        params, opt_state = optimizer.update(params, grads, opt_state, lr, t)  # 5. update
        return params, opt_state, value

    # The NumPy and PyTorch runners may apply step 5 in place (mlplab.backend.inplace)
    step_fn = cast("StepFn", step)  # a function, with the two attributes set here
    step_fn.value_and_grads, step_fn.optimizer = value_and_grads, optimizer
    step_fn.reduce = reduce  # data parallel: its DataParallel may split the update (run_steps)
    # what the NumPy runner's flat step (mlplab.backend.flat) composes itself
    step_fn.activations, step_fn.loss, step_fn.l2 = activations, loss, l2
    return step_fn


__all__ = ["make_step"]
