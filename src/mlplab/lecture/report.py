"""The tour's report: PNG figures, one self-contained HTML page, and ``results.json``.

Everything is rendered from a :class:`~mlplab.lecture.tour.TourResult`; nothing
is recomputed here except drawing. Each claim draws its own figures (its
``figures`` in the registry); :mod:`~mlplab.lecture.page` lays out the page.
Files are written through the one atomic writer (:mod:`mlplab.files.atomic`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..files.atomic import atomic_write_text
from .page import render_html
from .registry import Figure, claims

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

    from .tour import TourResult


@dataclass
class ReportFiles:
    """Paths written by :func:`write_report`."""

    html: Path
    json: Path
    figures: dict[str, list[Figure]] = field(default_factory=dict)  # claim -> [Figure]


def make_figures(tour: TourResult, out_dir: str | os.PathLike[str]) -> dict[str, list[Figure]]:
    """Draw every claim's figures into ``out_dir``; return ``{claim: [Figure, …]}``."""
    import matplotlib

    out = Path(out_dir)
    registry = claims()
    with matplotlib.rc_context(PROJECTOR):  # the page shows figures shrunk: larger type
        figs = {cid: registry[cid].figures(r, out) for cid, r in tour.results.items()}
    return {cid: f for cid, f in figs.items() if f}


# type sizes for figures that are projected at about half a screen's width
PROJECTOR: dict[RcKeyType, Any] = {
    "font.size": 12.5,
    "axes.titlesize": 13.5,
    "axes.labelsize": 12.5,
}


def write_report(tour: TourResult, out_dir: str | os.PathLike[str]) -> ReportFiles:
    """Write the figures, ``report.html`` and ``results.json`` into ``out_dir``."""
    from .tour import tour_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures = make_figures(tour, out)
    page = render_html(tour, figures)
    data = tour_json(tour)
    data["figures"] = {cid: [f.path.name for f in items] for cid, items in figures.items()}
    json_path, html_path = out / "results.json", out / "report.html"
    atomic_write_text(json_path, json.dumps(data, indent=1, ensure_ascii=False))
    atomic_write_text(html_path, page)
    return ReportFiles(html_path, json_path, figures)


__all__ = ["ReportFiles", "make_figures", "render_html", "write_report"]
