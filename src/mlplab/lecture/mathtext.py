"""Text with inline math: ``$…$`` segments in LaTeX, rendered as MathML for the report.

The claims' statements are written once, with their math in LaTeX between
dollar signs (``"$\\theta = (X^\\top X)^{-1} X^\\top y$"``); :func:`to_html`
turns that into HTML with native MathML (rendered by Chromium, Firefox and
Safari without any script).
"""

from __future__ import annotations

import html
import re

_MATH = re.compile(r"\$([^$]+)\$")


def latex_to_mathml(latex: str, display: bool = False) -> str:
    """One LaTeX formula as a ``<math>`` element."""
    from latex2mathml.converter import convert

    return convert(latex, display="block" if display else "inline")


def to_html(text: str) -> str:
    """``text`` HTML-escaped, each ``$…$`` segment replaced by MathML."""
    parts, pos = [], 0
    for m in _MATH.finditer(text):
        parts.append(html.escape(text[pos : m.start()]))
        parts.append(latex_to_mathml(m.group(1)))
        pos = m.end()
    parts.append(html.escape(text[pos:]))
    return "".join(parts)


__all__ = ["latex_to_mathml", "to_html"]
