"""The tour: run every experiment L1–L13 in the lecture's order and collect the results.

:func:`run_tour` only computes, iterating the claim registry
(:mod:`~mlplab.lecture.registry`); :mod:`~mlplab.lecture.text` prints and
:mod:`~mlplab.lecture.report` writes the HTML page, the figures and
``results.json``. :func:`verdict` states, from a result alone, whether the
claim was shown and the key numbers that show it (each claim's own check).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .registry import SHOWN, Settings, claims, get_claim


@dataclass
class TourResult:
    """Every claim's result object, with timings and the settings of the run."""

    quick: bool
    seed: int
    backend: str
    results: dict[str, Any] = field(default_factory=dict)  # "L1" … "L13" -> result object
    seconds: dict[str, float] = field(default_factory=dict)  # claim -> seconds

    def verdicts(self) -> dict[str, tuple[bool, str]]:
        """``{claim: (shown, summary)}`` (a claim not run is not shown)."""
        return {cid: (st == SHOWN, text) for cid, (st, text) in self.statuses().items()}

    def statuses(self) -> dict[str, tuple[str, str]]:
        """``{claim: (status, summary)}``, status ``"shown"``, ``"NOT shown"`` or ``"not run"``."""
        return {cid: get_claim(cid).check(r) for cid, r in self.results.items()}


def experiments(
    quick: bool = False, seed: int = 0, backend: str = "numpy"
) -> dict[str, Callable[[], Any]]:
    """The experiment of each claim as a zero-argument callable, in the lecture's order."""
    settings = Settings(quick, seed, backend)
    return {cid: functools.partial(c.run, settings) for cid, c in claims().items()}


def run_tour(
    *,
    quick: bool = False,
    seed: int = 0,
    backend: str = "numpy",
    claims: Iterable[str] | None = None,
    on_result: Callable[[str, Any, float], object] | None = None,
) -> TourResult:
    """Run the experiments (all, or the ``claims`` listed) and return a :class:`TourResult`.

    ``on_result(claim_id, result, seconds)`` is called after each one (the CLI
    prints each section as soon as it is ready).
    """
    from ..errors import ConfigError, check_choice, check_number

    check_number("seed", seed, ge=0, integer=True)
    check_choice("backend", backend, ("numpy", "torch", "jax"))
    todo = experiments(quick, seed, backend)
    wanted = list(todo) if claims is None else [c.upper() for c in claims]
    unknown = [c for c in wanted if c not in todo]
    if unknown:
        raise ConfigError(f"unknown claim(s) {unknown}; known: {', '.join(todo)}.")
    from .images import single_threaded_blas

    tour = TourResult(quick, seed, backend)
    for cid in todo:
        if cid not in wanted:
            continue
        start = time.perf_counter()
        with single_threaded_blas():  # small matrices: threads only contend
            tour.results[cid] = todo[cid]()
        tour.seconds[cid] = time.perf_counter() - start
        if on_result is not None:
            on_result(cid, tour.results[cid], tour.seconds[cid])
    return tour


def verdict(claim: str, r: Any) -> tuple[bool, str]:
    """Whether ``r`` shows ``claim``, and the numbers that say so (one line)."""
    return get_claim(claim).verdict(r)


def to_jsonable(obj: object, max_items: int = 500) -> Any:
    """Plain JSON data from result objects: dataclasses, arrays (small ones), numbers."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {
            f.name: to_jsonable(getattr(obj, f.name), max_items) for f in dataclasses.fields(obj)
        }
        for name in dir(type(obj)):
            if isinstance(getattr(type(obj), name, None), property):
                out[name] = to_jsonable(getattr(obj, name), max_items)
        return out
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v, max_items) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v, max_items) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.size > max_items:
            return {"shape": list(obj.shape), "omitted": f"{obj.size} values"}
        return to_jsonable(obj.tolist(), max_items)
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item(), max_items)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, bool | int | str) or obj is None:
        return obj
    return str(obj)


def tour_json(tour: TourResult) -> dict[str, Any]:
    """The whole tour as JSON data: settings, verdicts, timings and every result."""
    statuses = tour.statuses()
    return {
        "quick": tour.quick,
        "seed": tour.seed,
        "backend": tour.backend,
        "claims": {
            cid: {
                "claim": get_claim(cid).title,
                "shown": statuses[cid][0] == SHOWN,
                "status": statuses[cid][0],
                "summary": statuses[cid][1],
                "seconds": tour.seconds[cid],
                "result": to_jsonable(tour.results[cid]),
            }
            for cid in tour.results
        },
    }


__all__ = ["TourResult", "experiments", "run_tour", "to_jsonable", "tour_json", "verdict"]
