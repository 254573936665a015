"""Data-parallel training on ``torch.distributed``: several processes, one model, same numbers.

Under ``torchrun --nproc-per-node N`` (or any launcher that sets ``RANK``,
``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), or with ``fit(...,
distributed=True)``, every process (rank) runs the same :func:`~mlplab.train.fit`:

* the plan (:mod:`mlplab.train.plan`) is the one-process plan: the same seeded
  order, the same *global* minibatches; each rank takes its contiguous share
  of every global batch (:meth:`DataParallel.share`);
* each rank computes mlplab's explicit gradients on its share; a small
  ``all_reduce`` sums the ranks' weights W_r (rows, or Σ sample weights) and
  stop flags, each rank writes its gradients and loss scaled by W_r / ΣW into
  one preallocated flat buffer in the model's dtype, and ONE ``all_reduce`` per
  step sums that buffer in place: the global batch's weighted mean, the number
  one process computes (to rounding), also for uneven last batches and ranks
  whose share is empty. With 2 ranks a float32 sum of two values is correctly
  rounded, so a float32 buffer is as exact as a float64 one rounded back (and
  bitwise the same for an even split, where W_r / ΣW = 1/2); with more ranks
  the float32 sum rounds at each of the ring's additions (a few ulp);
* every rank applies the same optimizer update to the same gradients, so the
  weights stay identical without ever being sent;
* the small reduction carries a "stop" flag (Ctrl-C on any rank), so all ranks
  stop after the same step; validation losses are reduced in float64.

The process group is ``torch.distributed``'s (gloo on the CPU, NCCL for CUDA
models), created here with a timeout (``MLPLAB_DIST_TIMEOUT`` seconds, default
300) when the launcher has not created it: a rank that dies or hangs makes the
others fail with :class:`DistributedError` within that time, never hang.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ConfigError, MLPLabError

if TYPE_CHECKING:
    from ..backend.arrays import Backend
    from ..backend.loop import StepPlan
    from ..nn.mlp import Array
    from .buckets import Bucket, SplitUpdate


class DistributedError(MLPLabError, RuntimeError):
    """Another rank died, hung past the timeout, or trains something else."""


def launched() -> bool:
    """Whether a launcher (torchrun) started this process as one of several ranks."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1) > 1


def _group_ready() -> bool:
    """Whether a torch.distributed process group exists (without importing torch)."""
    dist = sys.modules.get("torch.distributed")
    return dist is not None and dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank (0 when not distributed): the one that prints and writes files.

    The torch.distributed rank, else the process index of a multi-process JAX run
    (``jax.distributed.initialize``), else the launcher's ``RANK``.
    """
    if _group_ready():
        got: int = sys.modules["torch.distributed"].get_rank()
        return got
    jax = sys.modules.get("jax")
    if jax is not None and jax.distributed.is_initialized():
        return int(jax.process_index())
    return int(os.environ.get("RANK", "0") or 0)


def is_lead() -> bool:
    """True on rank 0 (or without distribution): only it prints and writes files."""
    return rank() == 0


def rank_device(device: Any, backend: str) -> Any:
    """Under a launcher on a GPU node: rank r's GPU is ``cuda:LOCAL_RANK`` unless one is named."""
    if not launched() or backend != "torch" or device not in (None, "cuda"):
        return device
    import torch

    if not torch.cuda.is_available():
        return device
    return f"cuda:{int(os.environ.get('LOCAL_RANK', '0') or 0)}"


def timeout_s() -> float:
    text = os.environ.get("MLPLAB_DIST_TIMEOUT", "300")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ConfigError(f"MLPLAB_DIST_TIMEOUT must be a positive number of seconds; got {text!r}")
    return value


def setup(distributed: bool | None, backend: Backend) -> DataParallel | None:
    """The :class:`DataParallel` of this run, or None for one process.

    ``distributed``: None detects a launcher (``WORLD_SIZE`` > 1) or an existing
    process group; True requires one; False trains in this process alone.
    """
    if distributed is False:
        return None
    if distributed not in (None, True):
        raise ConfigError(f"`distributed` must be True, False or None; got {distributed!r}.")
    initialized = _group_ready()
    if distributed is None and not (initialized or launched()):
        return None
    if not (initialized or launched() or "MASTER_ADDR" in os.environ):
        raise ConfigError(
            "`distributed=True` needs a launcher: start the script with "
            "`torchrun --nproc-per-node N script.py` (it sets RANK, WORLD_SIZE, MASTER_ADDR)."
        )
    if backend.name == "jax":
        raise ConfigError(
            "torch.distributed data parallelism runs the numpy and torch backends; for JAX "
            "use fit(..., devices=N) (one process, the batch sharded over N devices)."
        )
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        on_cuda = backend.name == "torch" and backend.torch_device.type == "cuda"
        dist.init_process_group(
            "nccl" if on_cuda else "gloo", timeout=timedelta(seconds=timeout_s())
        )
        # ours to close: a gloo group left open at exit can abort the process
        # ("terminate called without an active exception") as its threads are torn down
        atexit.register(_close_group)
    device = backend.torch_device if backend.name == "torch" else torch.device("cpu")
    global _LAST
    _LAST = DataParallel(dist.get_rank(), dist.get_world_size(), device)
    return _LAST


_LAST: DataParallel | None = None

#: Whether each backend's ranks split the in-place update by layers (train/buckets.py).
#: Measured on workload B (2 ranks, gloo, 2 CPU cores): NumPy's Adam costs ~10 ms a
#: step, so updating half of it saves more than gloo's reduce + broadcast cost over
#: one all_reduce (~2 ms); PyTorch's fused Adam costs ~2.6 ms, so splitting it loses.
SPLIT_UPDATE = {"numpy": True, "torch": False}


def _close_group() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def last() -> DataParallel | None:
    """The :class:`DataParallel` of this process's latest run (its ``comm_s``), or None."""
    return _LAST


class Phases:
    """Seconds spent in each phase of the reduction: wall clock and this process's CPU time.

    CPU time (``time.process_time``: every thread of the process, gloo's included)
    is what a loaded machine distorts least; wall time also counts the wait for
    the slower rank.
    """

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._at = (0.0, 0.0)

    def start(self) -> None:
        self._at = (time.perf_counter(), time.process_time())

    def lap(self, name: str) -> None:
        """Add the time since the last ``start`` / ``lap`` to ``name``."""
        now = (time.perf_counter(), time.process_time())
        self.wall[name] = self.wall.get(name, 0.0) + now[0] - self._at[0]
        self.cpu[name] = self.cpu.get(name, 0.0) + now[1] - self._at[1]
        self._at = now


class DataParallel:
    """This rank's share of the work and the reduction of each step's gradients."""

    def __init__(self, rank: int, world: int, device: Any):
        self.rank, self.world, self.device = rank, world, device
        self.ask_local: Callable[[], bool] | None = None  # the caller's should_stop
        self._stop: Any = None  # Σ of the ranks' stop flags in the last step
        self.phases = Phases()
        self._bucket: Bucket | None = None
        self._split: SplitUpdate | None = None  # the update split over the ranks, this run
        self.split_runs = 0  # how many runs of steps split their update
        # Whether every rank's runs of steps end at the same step (fit's chunks do; a
        # stream's ranks cut theirs where their own buffers fill): the split update's
        # end of a run is a collective (the state is sent whole), so only then may it split.
        self.may_split = False

    def __repr__(self) -> str:
        return f"DataParallel(rank={self.rank}, world={self.world})"

    @property
    def comm_s(self) -> float:
        """Seconds spent in ``all_reduce`` (waiting for the others included)."""
        return sum(v for k, v in self.phases.wall.items() if k.startswith("all_reduce"))

    # --- the plan ---------------------------------------------------------

    def rows(self, rows: NDArray[Any]) -> NDArray[Any]:
        """This rank's contiguous share of a global batch's row indices (may be empty)."""
        share: NDArray[Any] = np.array_split(rows, self.world)[self.rank]
        return share

    def share(self, plan: StepPlan, n: int) -> StepPlan:
        """``plan`` with each global batch cut to this rank's share (full batch: of all n rows)."""
        from ..backend.loop import StepPlan

        if plan.batches is None:
            mine = self.rows(np.arange(n))
            batches = [mine] * plan.n_steps
        else:
            batches = [self.rows(np.asarray(b)) for b in plan.batches]
        return StepPlan(batches, plan.lrs, plan.t)

    # --- the reduction ----------------------------------------------------

    def reduce(
        self, value: Array, grads: list[tuple[Array, ...]], xb: Array, wb: Array | None
    ) -> tuple[Array, list[tuple[Array, ...]]]:
        """The global batch's loss and gradients from this rank's.

        ``value``, ``grads``: the weighted mean over this rank's rows. The result is
        Σ_r (W_r / W) · g_r, W_r the rank's rows (or Σ sample weights), W = Σ_r W_r:
        a small float64 ``all_reduce`` sums the W_r, the W_r-weighted losses and the
        ranks' stop flags; each rank scales its gradients by W_r / W while writing
        them into one flat buffer in the gradients' dtype (:class:`~.buckets.Bucket`),
        and one ``all_reduce`` sums that buffer in place — or, when the update is
        split over the ranks (:meth:`split_update`), one ``reduce`` per rank sends
        each rank the sums of the layers it updates. The gradients returned are
        views of the buffer, valid until the next step.
        """
        import torch

        from .buckets import Bucket

        self.phases.start()
        empty = xb.shape[0] == 0  # a short last batch can leave a rank nothing
        asked = float(bool(self.ask_local is not None and self.ask_local()))
        weight = _tensor(float(xb.shape[0]) if wb is None else wb, self.device).sum()
        loss = _tensor(0.0 if empty else value, self.device).reshape(()) * weight
        small = torch.stack([weight, loss, _tensor(asked, self.device)])
        mine = small[0].clone()
        self.all_reduce(small, phase="all_reduce (weights, loss)")
        self._stop = small[2]
        total = torch.clamp(small[0], min=1e-30)  # all weights 0: loss 0, gradients 0
        bucket = self._bucket
        owner = None if self._split is None else self._split.owner
        if bucket is None or not bucket.fits(grads, owner):
            bucket = self._bucket = Bucket(grads, self.device, owner, self.world)
        scale = mine / total
        bucket.pack(grads, float(scale) if bucket.numpy else scale.to(bucket.flat.dtype), empty)
        self.phases.lap("pack")
        if self._split is None:
            self.all_reduce(bucket.comm, phase="all_reduce (gradients)")
        else:
            self.reduce_to_owners(bucket)
        out = bucket.unpack(grads)
        return _like(small[1] / total, value), out

    def reduce_to_owners(self, bucket: Bucket) -> None:
        """Sum each rank's group of the buffer on that rank (``reduce``, one per rank)."""
        import torch.distributed as dist

        works = []
        for owner, (lo, hi) in enumerate(bucket.groups):
            if hi > lo:
                works.append(dist.reduce(bucket.comm[lo:hi], dst=owner, async_op=True))
        self.wait(works, "a training step", "reduce (gradients)")

    def broadcast(self, arrays: list[tuple[Any, int]], what: str, phase: str) -> None:
        """Send each array from its owner rank to the others, in place (``(array, owner)``)."""
        import torch
        import torch.distributed as dist

        self.phases.start()
        works = []
        for a, owner in arrays:
            t = torch.from_numpy(a) if isinstance(a, np.ndarray) else a
            works.append(dist.broadcast(t, src=owner, async_op=True))
        self.wait(works, what, phase)

    def wait(self, works: list[Any], what: str, phase: str) -> None:
        """Wait for asynchronous collectives; a dead or hung rank is a clear error."""
        import torch.distributed as dist

        try:
            for work in works:
                work.wait()
        except (RuntimeError, dist.DistBackendError) as err:
            raise self._lost(err, what) from None
        self.phases.lap(phase)

    def split_update(self, fast: Any, params: list[tuple[Array, ...]]) -> Any:
        """``fast`` (an in-place updater) with the update split over the ranks by layers.

        Only where it pays (:data:`SPLIT_UPDATE`, by backend) and there are layers to split.
        """
        from .buckets import SplitUpdate

        backend = "numpy" if isinstance(params[0][1], np.ndarray) else "torch"
        if not self.may_split or self.world == 1 or len(params) < 2 or not SPLIT_UPDATE[backend]:
            return fast
        self._split = SplitUpdate(self, fast, params)
        self.split_runs += 1
        return self._split

    def split_done(self) -> None:
        self._split = None

    def all_reduce(
        self, tensor: Any, what: str = "a training step", op: Any = None, phase: str = ""
    ) -> None:
        """Sum ``tensor`` over the ranks in place; a dead or hung rank is a clear error.

        ``phase``: the name its time is added to in :attr:`phases`, counted from the
        last lap (inside :meth:`reduce`); without one, from the call.
        """
        import torch.distributed as dist

        if not phase:
            self.phases.start()
        try:
            dist.all_reduce(tensor, op=op or dist.ReduceOp.SUM)
        except (RuntimeError, dist.DistBackendError) as err:
            raise self._lost(err, what) from None
        self.phases.lap(phase or "all_reduce (other)")

    def _lost(self, err: Exception, what: str) -> DistributedError:
        lines = str(err).strip().splitlines()
        said = lines[0][:200] if lines else type(err).__name__
        return DistributedError(
            f"rank {self.rank} of {self.world}: the other ranks did not join {what} "
            f"(a rank died or hung past the timeout of {timeout_s():g} s; torch.distributed "
            f"said: {said}). Restart the run; `mlplab train --resume` continues from the "
            "last checkpoint."
        )

    def mean(self, value: float, weight: float, what: str) -> float:
        """Σ_r value_r · weight_r / Σ_r weight_r over the ranks (a validation loss)."""
        import torch

        local = [value * weight if weight else 0.0, weight]
        buf = torch.tensor(local, dtype=torch.float64, device=self.device)
        self.all_reduce(buf, what)
        return float(buf[0] / buf[1])

    def agreed_stop(self, should_stop: Callable[[], bool] | None) -> Callable[[], bool]:
        """A ``should_stop`` that says yes on every rank after the same step."""
        self.ask_local = should_stop
        return lambda: self._stop is not None and bool(self._stop > 0)

    def check_same(self, n: int, n_params: int) -> None:
        """Every rank must train the same number of rows and parameters (else plans differ)."""
        import torch

        mine = torch.tensor([n, -n, n_params, -n_params], dtype=torch.float64, device=self.device)
        import torch.distributed as dist

        self.all_reduce(mine, "the start of training", op=dist.ReduceOp.MAX)
        if mine[0] != -mine[1] or mine[2] != -mine[3]:
            raise DistributedError(
                f"the ranks train different data or models (rows {int(-mine[1])}..{int(mine[0])},"
                f" parameters {int(-mine[3])}..{int(mine[2])}); give every rank the same data."
            )


def _tensor(x: Any, device: Any) -> Any:
    """``x`` (a NumPy or PyTorch array, or a number) as a float64 tensor on ``device``."""
    import torch

    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=torch.float64)
    return torch.as_tensor(np.asarray(x, dtype=np.float64), device=device)


def _like(x: Any, value: Array) -> Array:
    """The float64 tensor ``x`` typed like the loss ``value`` (NumPy scalar or tensor)."""
    if isinstance(value, np.ndarray | np.generic | float):
        return np.asarray(float(x), dtype=getattr(value, "dtype", np.float64))[()]
    return x.to(value.dtype)


__all__ = ["DataParallel", "DistributedError", "is_lead", "launched", "rank", "setup"]
