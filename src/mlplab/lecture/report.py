"""The tour's report: PNG figures, one self-contained HTML page, and ``results.json``.

Everything is rendered from a :class:`~mlplab.lecture.tour.TourResult`; nothing
is recomputed here except drawing. The page reads like the lecture: for each
claim L1–L13, what the lecture says, what was computed, the verdict, the
evidence (the same tables the terminal shows) and the figures, embedded as
base64 PNG so the page is one file. Files are written atomically.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..files.atomic import atomic_write_bytes
from .mathtext import to_html
from .registry import Figure, claims, get_claim


@dataclass
class ReportFiles:
    """Paths written by :func:`write_report`."""

    html: Path
    json: Path
    figures: dict = field(default_factory=dict)  # claim -> [Figure]


def make_figures(tour, out_dir) -> dict[str, list[Figure]]:
    """Draw every claim's figures into ``out_dir``; return ``{claim: [Figure, …]}``."""
    out = Path(out_dir)
    registry = claims()
    figs = {cid: registry[cid].figures(r, out) for cid, r in tour.results.items()}
    return {cid: f for cid, f in figs.items() if f}


# --- the page ------------------------------------------------------------------------------

_CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #222; }
h1 { font-size: 1.9rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
pre { background: #f6f6f4; padding: .8rem; overflow-x: auto; font-size: .78rem;
      line-height: 1.25; border-radius: 4px; }
.ok { color: #176617; font-weight: bold; } .bad { color: #b00; font-weight: bold; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #555; }
table.toc td { padding: .1rem .6rem; vertical-align: top; }
code { background: #f0f0ee; padding: 0 .2rem; }
"""


def evidence_text(cid: str, result) -> str:
    """The claim's terminal section (tables, proof) as plain text."""
    from rich.console import Console

    con = Console(record=True, width=132, file=io.StringIO(), color_system=None)
    get_claim(cid).text(con, result)
    return con.export_text()


def _img(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(Path(path).name)}" src="data:image/png;base64,{data}">'


def render_html(tour, figures: dict | None = None) -> str:
    """The report as one HTML string (figures embedded from their PNG files)."""
    from .._version import __version__

    figures = figures or {}
    verdicts = tour.verdicts()
    esc = html.escape
    n_ok = sum(ok for ok, _ in verdicts.values())
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>mlplab: the Neural Networks lecture, reproduced</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Neural Networks: the lecture's claims, computed</h1>",
        f"<p>Every claim of the lecture (CISC 7026, “Neural Networks”) below was computed by "
        f"mlplab {esc(__version__)} just now: {n_ok} of {len(verdicts)} claims shown. Settings: "
        f"{'quick run' if tour.quick else 'full run'}, seed {tour.seed}, training backend "
        f"{esc(tour.backend)}. Reproduce with <code>mlplab tour"
        f"{' --quick' if tour.quick else ''} --seed {tour.seed} --backend {esc(tour.backend)}"
        f"</code>.</p>",
        "<table class='toc'>",
    ]
    for cid, (ok, _) in verdicts.items():
        mark = "<span class='ok'>✓</span>" if ok else "<span class='bad'>✗</span>"
        parts.append(
            f"<tr><td>{mark}</td><td><a href='#{cid}'>{cid}</a></td>"
            f"<td>{esc(get_claim(cid).title)}</td></tr>"
        )
    parts.append("</table>")
    for cid, result in tour.results.items():
        ok, summary = verdicts[cid]
        claim = get_claim(cid)
        cls, word = ("ok", "Shown") if ok else ("bad", "NOT shown")
        parts += [
            f"<section id='{cid}'><h2>{cid}. {esc(claim.title)}</h2>",
            f"<p>{to_html(claim.statement)} {to_html(claim.explanation)}</p>",
            f"<p><span class='{cls}'>{word}:</span> {esc(summary)}. "
            f"<small>({tour.seconds.get(cid, 0):.1f} s; on its own: "
            f"<code>{esc(claim.command)}</code>)</small></p>",
            f"<pre>{esc(evidence_text(cid, result))}</pre>",
        ]
        for fig in figures.get(cid, []):
            parts.append(
                f"<figure>{_img(fig.path)}<figcaption>{esc(fig.caption)}</figcaption></figure>"
            )
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(tour, out_dir) -> ReportFiles:
    """Write the figures, ``report.html`` and ``results.json`` into ``out_dir``."""
    from .tour import tour_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures = make_figures(tour, out)
    page = render_html(tour, figures)
    data = tour_json(tour)
    data["figures"] = {cid: [f.path.name for f in items] for cid, items in figures.items()}
    json_path, html_path = out / "results.json", out / "report.html"
    atomic_write_bytes(json_path, json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))
    atomic_write_bytes(html_path, page.encode("utf-8"))
    return ReportFiles(html_path, json_path, figures)


__all__ = ["ReportFiles", "evidence_text", "make_figures", "render_html", "write_report"]
