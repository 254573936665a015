"""The tour's HTML page, laid out for projection and print.

One self-contained file (CSS and figures inline, no script or font from
anywhere): a sticky contents list, then one section per claim with the
lecture's statement (math as native MathML), the result, the figures side by
side and the computed tables in a collapsible "details" block. The tables are
the same ones the terminal shows: each claim's ``text`` function prints into
an :class:`HtmlConsole`, which turns rich tables into HTML tables that wrap to
the page's width instead of scrolling sideways.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .mathtext import to_html
from .registry import NOT_RUN, SHOWN, Figure, get_claim

if TYPE_CHECKING:
    from rich.table import Table

    from .tour import TourResult

_STATUS = {  # status -> (css class, mark, word)
    SHOWN: ("ok", "✓", "Shown:"),
    NOT_RUN: ("skip", "○", ""),  # the summary reads "not run: install …"
}
_FAILED = ("bad", "✗", "NOT shown:")


def _plain(obj: object) -> str:
    """Rich markup (``[bold]…[/bold]``) removed: the text a terminal would show."""
    from rich.text import Text

    if isinstance(obj, Text):
        return obj.plain
    return Text.from_markup(str(obj)).plain


class HtmlConsole:
    """The part of ``rich.console.Console`` the claims' ``text`` functions use, writing HTML."""

    def __init__(self) -> None:
        self.blocks: list[str] = []

    def print(self, *objects: Any, **_: Any) -> None:
        from rich.table import Table

        for obj in objects:
            if isinstance(obj, Table):
                self.blocks.append(table_html(obj))
            else:
                text = html.escape(_plain(obj))
                tag = "pre" if "\n" in text else "p"
                self.blocks.append(f"<{tag} class='out'>{text}</{tag}>")

    def rule(self, title: str = "", **_: Any) -> None:
        self.blocks.append(f"<h4>{html.escape(_plain(title))}</h4>" if title else "<hr>")

    def html(self) -> str:
        return "\n".join(self.blocks)


def table_html(table: Table) -> str:
    """A rich ``Table`` as an HTML table (caption = its title; cells as plain text)."""
    cols = table.columns
    head = "".join(f"<th>{html.escape(_plain(c.header))}</th>" for c in cols)
    n_rows = max((len(c._cells) for c in cols), default=0)
    rows = []
    for i in range(n_rows):
        cells = "".join(
            f"<td>{html.escape(_plain(c._cells[i]) if i < len(c._cells) else '')}</td>"
            for c in cols
        )
        rows.append(f"<tr>{cells}</tr>")
    caption = f"<caption>{html.escape(_plain(table.title))}</caption>" if table.title else ""
    return (
        f"<table class='data'>{caption}<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def details_html(cid: str, result: Any) -> str:
    """The claim's computed tables (its terminal section) as HTML."""
    con = HtmlConsole()
    get_claim(cid).text(con, result)
    return con.html()


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _figures_html(figures: Sequence[Figure]) -> str:
    if not figures:
        return ""
    items = []
    for fig in figures:
        cls = " class='wide'" if fig.wide else ""
        items.append(
            f"<figure{cls}>{_img(fig.path, fig.caption)}"
            f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>"
        )
    return f"<div class='figs'>{''.join(items)}</div>"


def section_html(
    cid: str, result: Any, status: tuple[str, str], seconds: float, figures: Sequence[Figure]
) -> str:
    """One claim: statement, what was computed, result, figures, collapsible details."""
    claim = get_claim(cid)
    state, summary = status
    cls, mark, word = _STATUS.get(state, _FAILED)
    esc = html.escape
    return "\n".join(
        [
            f"<section id='{cid}' class='claim'>",
            f"<h2><span class='cid'>{cid}</span> {esc(claim.title)}</h2>",
            f"<p class='statement'><span class='label'>The lecture</span> "
            f"{to_html(claim.statement)}</p>",
            f"<p>{to_html(claim.explanation)}</p>",
            f"<p class='result {cls}'><span class='mark'>{mark} {word}</span> {esc(summary)}.</p>",
            _figures_html(figures),
            "<details><summary>Details: the computed tables</summary>",
            f"<div class='details'>{details_html(cid, result)}</div></details>",
            f"<p class='meta'>{seconds:.1f} s · on its own: <code>{esc(claim.command)}</code>"
            "<span class='top'> · <a href='#top'>back to top</a></span></p>",
            "</section>",
        ]
    )


def _nav(statuses: Mapping[str, tuple[str, str]]) -> str:
    items = []
    for cid, (state, _) in statuses.items():
        cls, mark, _ = _STATUS.get(state, _FAILED)
        items.append(
            f"<li><a href='#{cid}'><span class='{cls}'>{mark}</span> <b>{cid}</b> "
            f"<span class='toc-title'>{html.escape(get_claim(cid).title)}</span></a></li>"
        )
    return f"<nav aria-label='contents'><h2>Contents</h2><ol>{''.join(items)}</ol></nav>"


def render_html(tour: TourResult, figures: Mapping[str, list[Figure]] | None = None) -> str:
    """The report as one HTML string (figures embedded from their PNG files)."""
    from .._version import __version__

    figures = figures or {}
    statuses = tour.statuses()
    n_ok = sum(st == SHOWN for st, _ in statuses.values())
    n_skip = sum(st == NOT_RUN for st, _ in statuses.values())
    flags = f"{' --quick' if tour.quick else ''} --seed {tour.seed} --backend {tour.backend}"
    skipped = f" ({n_skip} not run: install mlplab[torch,jax])" if n_skip else ""
    intro = (
        f"<p>Every claim of the lecture (CISC 7026, “Neural Networks”), computed by mlplab "
        f"{html.escape(__version__)}: <b>{n_ok} of {len(statuses)} claims shown</b>{skipped}. "
        f"{'Quick' if tour.quick else 'Full'} run, seed {tour.seed}, training backend "
        f"{html.escape(tour.backend)}; reproduce with <code>mlplab tour{html.escape(flags)}"
        "</code>.</p>"
    )
    sections = [
        section_html(cid, r, statuses[cid], tour.seconds.get(cid, 0.0), figures.get(cid, []))
        for cid, r in tour.results.items()
    ]
    return "\n".join(
        [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            "<title>mlplab: the Neural Networks lecture, computed</title>",
            f"<style>{CSS}</style></head><body>",
            "<div class='layout'>",
            _nav(statuses),
            "<main id='top'><h1>Neural Networks: the lecture's claims, computed</h1>",
            intro,
            *sections,
            "</main></div></body></html>",
        ]
    )


CSS = """
:root { --fg: #1d1d1f; --muted: #5b5b60; --bg: #fff; --panel: #f5f5f2; --line: #d9d9d4;
        --ok: #17692b; --bad: #b3261e; --skip: #8a5a00; --link: #1a56a8; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e8e6; --muted: #a6a6a0; --bg: #17181a; --panel: #232427; --line: #3a3b3f;
          --ok: #6fcf87; --bad: #ff8a80; --skip: #f0c060; --link: #8ab4f8; }
}
* { box-sizing: border-box; }
html { scroll-behavior: smooth; }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.5;
       font: 18px/1.5 Georgia, 'DejaVu Serif', 'Times New Roman', serif; }
a { color: var(--link); }
.layout { display: grid; grid-template-columns: 17rem minmax(0, 1fr); max-width: 84rem;
          margin: 0 auto; }
nav { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow-y: auto;
      padding: 1rem .8rem; border-right: 1px solid var(--line); font-size: .82rem;
      font-family: system-ui, sans-serif; }
nav h2 { font-size: 1rem; margin: .2rem 0 .6rem; border: 0; }
nav ol { list-style: none; margin: 0; padding: 0; }
nav li { margin: .15rem 0; } nav a { text-decoration: none; color: var(--fg); display: block;
         padding: .15rem .3rem; border-radius: 4px; } nav a:hover { background: var(--panel); }
main { padding: 1rem 2rem 4rem; min-width: 0; }
h1, h2 { font-family: system-ui, 'DejaVu Sans', sans-serif; }
h1 { font-size: 2rem; line-height: 1.2; margin: .6rem 0 .4rem; }
h2 { font-size: 1.4rem; line-height: 1.25; margin: 0 0 .6rem; }
.claim { border-top: 2px solid var(--line); padding-top: 1.2rem; margin-top: 2rem;
         scroll-margin-top: .5rem; }
.cid { display: inline-block; min-width: 2.6em; color: var(--muted); }
.label { font: 600 .75rem system-ui, sans-serif; text-transform: uppercase;
         letter-spacing: .06em; color: var(--muted); margin-right: .4rem; }
.statement { background: var(--panel); border-left: 4px solid var(--line);
             padding: .6rem .9rem; }
.result { padding: .5rem .9rem; border-left: 4px solid; }
.result.ok { border-color: var(--ok); } .result.bad { border-color: var(--bad); }
.result.skip { border-color: var(--skip); }
.mark { font-weight: bold; } .ok { color: var(--ok); } .bad { color: var(--bad); }
.skip { color: var(--skip); } .result .mark { margin-right: .3rem; }
.result.ok .mark { color: var(--ok); } .result.bad .mark { color: var(--bad); }
.result.skip .mark { color: var(--skip); }
math { font-size: 1.08em; }
.figs { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 24rem), 1fr));
        gap: 1rem; margin: 1rem 0; }
figure { margin: 0; } figure.wide { grid-column: 1 / -1; }
figure img { display: block; width: 100%; height: auto; background: #fff; border-radius: 6px;
             border: 1px solid var(--line); }
figcaption { font-size: .9rem; color: var(--muted); margin-top: .3rem; }
details { margin: 1rem 0; border: 1px solid var(--line); border-radius: 6px; }
summary { cursor: pointer; padding: .5rem .9rem; font: 600 .9rem system-ui, sans-serif; }
.details { padding: 0 .9rem .8rem; overflow-wrap: anywhere; }
table.data { border-collapse: collapse; width: 100%; margin: .8rem 0; font-size: .8rem;
             font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; }
table.data caption { text-align: left; font: 600 .85rem system-ui, sans-serif;
                     padding-bottom: .3rem; }
table.data th { text-align: left; border-bottom: 2px solid var(--line); padding: .25rem .5rem;
                font-family: system-ui, sans-serif; vertical-align: bottom; }
table.data td { border-bottom: 1px solid var(--line); padding: .2rem .5rem;
                vertical-align: top; overflow-wrap: anywhere; }
table.data tbody tr:nth-child(even) { background: var(--panel); }
pre.out, p.out { font: .8rem/1.35 'DejaVu Sans Mono', Menlo, Consolas, monospace;
                 white-space: pre-wrap; overflow-wrap: anywhere; margin: .4rem 0; }
code { font-size: .85em; background: var(--panel); padding: 0 .25rem; border-radius: 3px;
       overflow-wrap: anywhere; }
.meta { font-size: .85rem; color: var(--muted); }
@media (max-width: 1000px) {
  .layout { display: block; }
  nav { position: sticky; top: 0; z-index: 2; max-height: none; background: var(--bg);
        border-right: 0; border-bottom: 1px solid var(--line); padding: .4rem .8rem; }
  nav h2, .toc-title { display: none; }
  nav ol { display: flex; flex-wrap: wrap; gap: .1rem .3rem; }
  main { padding: .5rem 1rem 3rem; }
  .claim { scroll-margin-top: 4.5rem; }
}
@media print {
  body { font-size: 11pt; }
  .layout { display: block; }
  nav, .meta .top { display: none; }
  main { padding: 0; }
  .claim { break-before: page; border-top: 0; margin-top: 0; }
  figure, table.data tr { break-inside: avoid; }
  .figs { grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); }
}
"""

__all__ = ["CSS", "HtmlConsole", "details_html", "render_html", "section_html", "table_html"]
