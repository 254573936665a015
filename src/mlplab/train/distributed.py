"""Data-parallel training on ``torch.distributed``: several processes, one model, same numbers.

Under ``torchrun --nproc-per-node N`` (or any launcher that sets ``RANK``,
``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), or with ``fit(...,
distributed=True)``, every process (rank) runs the same :func:`~mlplab.train.fit`:

* the plan (:mod:`mlplab.train.plan`) is the one-process plan: the same seeded
  order, the same *global* minibatches; each rank takes its contiguous share
  of every global batch (:meth:`DataParallel.share`);
* each rank computes mlplab's explicit gradients on its share, then ONE
  ``all_reduce`` per step sums, in one flat float64 buffer, every gradient and
  the loss, each weighted by the rank's rows (or sample weight), and that
  weight: dividing by the summed weight gives the global batch's weighted mean,
  the number one process computes (to rounding), also for uneven last batches
  and ranks whose share is empty;
* every rank applies the same optimizer update to the same gradients, so the
  weights stay identical without ever being sent;
* the same buffer carries a "stop" flag (Ctrl-C on any rank), so all ranks stop
  after the same step; validation losses are reduced the same way.

The process group is ``torch.distributed``'s (gloo on the CPU, NCCL for CUDA
models), created here with a timeout (``MLPLAB_DIST_TIMEOUT`` seconds, default
300) when the launcher has not created it: a rank that dies or hangs makes the
others fail with :class:`DistributedError` within that time, never hang.
"""

from __future__ import annotations

import atexit
import functools
import os
import sys
import time
from datetime import timedelta

import numpy as np

from ..errors import ConfigError, MLPLabError


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
        return sys.modules["torch.distributed"].get_rank()
    jax = sys.modules.get("jax")
    if jax is not None and jax.distributed.is_initialized():
        return int(jax.process_index())
    return int(os.environ.get("RANK", "0") or 0)


def is_lead() -> bool:
    """True on rank 0 (or without distribution): only it prints and writes files."""
    return rank() == 0


def rank_device(device, backend: str):
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


def setup(distributed, backend) -> DataParallel | None:
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


_LAST = None


def _close_group() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def last() -> DataParallel | None:
    """The :class:`DataParallel` of this process's latest run (its ``comm_s``), or None."""
    return _LAST


class DataParallel:
    """This rank's share of the work and the one bucketed ``all_reduce`` per step."""

    def __init__(self, rank: int, world: int, device):
        self.rank, self.world, self.device = rank, world, device
        self.ask_local = None  # the caller's should_stop, read into each step's buffer
        self._stop = None  # Σ of the ranks' stop flags in the last step's buffer
        self.comm_s = 0.0  # seconds spent in all_reduce (waiting for the others included)

    def __repr__(self) -> str:
        return f"DataParallel(rank={self.rank}, world={self.world})"

    # --- the plan ---------------------------------------------------------

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """This rank's contiguous share of a global batch's row indices (may be empty)."""
        return np.array_split(rows, self.world)[self.rank]

    def share(self, plan, n: int):
        """``plan`` with each global batch cut to this rank's share (full batch: of all n rows)."""
        from ..backend.loop import StepPlan

        if plan.batches is None:
            mine = self.rows(np.arange(n))
            batches = [mine] * plan.n_steps
        else:
            batches = [self.rows(np.asarray(b)) for b in plan.batches]
        return StepPlan(batches, plan.lrs, plan.t)

    # --- the reduction ----------------------------------------------------

    def reduce(self, value, grads, xb, wb):
        """The global batch's loss and gradients from this rank's: one ``all_reduce``.

        ``value``, ``grads``: the weighted mean over this rank's rows; the result is
        Σ_r W_r · g_r / Σ_r W_r with W_r the rank's rows (or Σ sample weights), in
        float64 on the gradients' device (no copy to the host on a GPU).
        """
        import torch

        t = functools.partial(_tensor, device=self.device)
        empty = xb.shape[0] == 0  # a short last batch can leave a rank nothing
        weight = t(float(xb.shape[0])) if wb is None else t(wb).sum()
        asked = float(bool(self.ask_local is not None and self.ask_local()))
        parts = [t(g).reshape(-1) * weight for layer in grads for g in layer]
        local = t(0.0) if empty else t(value).reshape(1) * weight
        parts += [local.reshape(1), weight.reshape(1), t(asked).reshape(1)]
        buf = torch.cat(parts)
        self.all_reduce(buf)
        self._stop = buf[-1]
        mean = buf[:-1] / torch.clamp(buf[-2], min=1e-30)  # all weights 0: loss 0, grads 0
        out, at = [], 0
        for layer in grads:
            pair = []
            for g in layer:
                size = int(np.prod(g.shape))
                pair.append(_like(mean[at : at + size], g))
                at += size
            out.append(tuple(pair))
        return _like(mean[-2], value), out

    def all_reduce(self, tensor, what: str = "a training step", op=None) -> None:
        """Sum ``tensor`` over the ranks in place; a dead or hung rank is a clear error."""
        import torch.distributed as dist

        start = time.perf_counter()
        try:
            dist.all_reduce(tensor, op=op or dist.ReduceOp.SUM)
            self.comm_s += time.perf_counter() - start
        except (RuntimeError, dist.DistBackendError) as err:
            lines = str(err).strip().splitlines()
            said = lines[0][:200] if lines else type(err).__name__
            raise DistributedError(
                f"rank {self.rank} of {self.world}: the other ranks did not join {what} "
                f"(a rank died or hung past the timeout of {timeout_s():g} s; torch.distributed "
                f"said: {said}). Restart the run; `mlplab train --resume` continues from the "
                "last checkpoint."
            ) from None

    def mean(self, value: float, weight: float, what: str) -> float:
        """Σ_r value_r · weight_r / Σ_r weight_r over the ranks (a validation loss)."""
        import torch

        local = [value * weight if weight else 0.0, weight]
        buf = torch.tensor(local, dtype=torch.float64, device=self.device)
        self.all_reduce(buf, what)
        return float(buf[0] / buf[1])

    def agreed_stop(self, should_stop):
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


def _tensor(x, device):
    """``x`` (a NumPy or PyTorch array, or a number) as a float64 tensor on ``device``."""
    import torch

    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=torch.float64)
    return torch.as_tensor(np.asarray(x, dtype=np.float64), device=device)


def _like(flat, g):
    """A float64 tensor as an array shaped and typed like ``g`` (NumPy or PyTorch)."""
    shape = tuple(getattr(g, "shape", ()))
    if isinstance(g, np.ndarray | np.generic | float):
        return flat.reshape(shape).cpu().numpy().astype(getattr(g, "dtype", np.float64))
    return flat.reshape(shape).to(g.dtype)


__all__ = ["DataParallel", "DistributedError", "is_lead", "launched", "rank", "setup"]
