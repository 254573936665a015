"""The tour's report.html in a real headless Chromium, driven by Playwright for Python.

Checks what a teacher projecting the page would see: nothing wider than the
window at 1280 px and 800 px (tables wrap, figures shrink), the math rendered
as MathML, the contents list sticky. Needs Debian's Chromium and the
`playwright` package (Playwright's own browser download is never used); without
them the tests skip, unless MLPLAB_REQUIRE_BROWSER=1, where they fail.
Set MLPLAB_SCREENSHOTS=DIR to save the screenshots docs/tour.md shows into
DIR/tour/ (``MLPLAB_SCREENSHOTS=docs/img``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import SHOTS, require_chromium

CHROMIUM = require_chromium()

# Every element whose right edge passes the window's, or whose content is wider than
# its box (clipped, or scrolling sideways), as "tag#id.class (x px)" strings.
OVERFLOWS = """() => {
  const W = document.documentElement.clientWidth, bad = [];
  for (const el of document.querySelectorAll('main *, nav *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.className && typeof el.className === 'string' ? '.' + el.className : '');
    if (r.right > W + 0.5) bad.push(name + ' right edge ' + Math.round(r.right));
    const style = getComputedStyle(el);
    if (['hidden', 'auto', 'scroll', 'clip'].includes(style.overflowX) &&
        el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'NAV')
      bad.push(name + ' content ' + el.scrollWidth + ' > box ' + el.clientWidth);
  }
  if (document.documentElement.scrollWidth > W) bad.push('page ' +
    document.documentElement.scrollWidth + ' > window ' + W);
  return bad;
}"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from mlplab.lecture.report import write_report
    from mlplab.lecture.tour import run_tour

    out = tmp_path_factory.mktemp("tour")
    tour = run_tour(quick=True)
    return write_report(tour, out).html


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield b
        b.close()


def _open(browser, report, width: int, height: int = 800, dark: bool = False):
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme="dark" if dark else "light",
        offline=True,  # the page must need nothing from the network
    )
    page = context.new_page()
    errors, requests = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    assert not errors, errors
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    return context, page


def _shot(page, tmp_path, name: str, **kw) -> Path:
    folder = Path(SHOTS) / "tour" if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    page.screenshot(path=str(path), **kw)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


@pytest.mark.parametrize("width", [1280, 800])
def test_nothing_overflows(browser, report, width, tmp_path):
    context, page = _open(browser, report, width)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert page.evaluate(OVERFLOWS) == []
    context.close()


def test_math_is_mathml_and_rendered(browser, report):
    context, page = _open(browser, report, 1280)
    assert page.evaluate("CSS.supports('display', 'math')"), "this Chromium renders no MathML"
    n_math = page.evaluate("document.querySelectorAll('section.claim math').length")
    assert n_math >= 13
    # every formula is laid out as math (display: math), with a visible box, and L2's
    # binomial coefficient is really stacked
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('section.claim math')].map(m =>
             [getComputedStyle(m).display, m.getBoundingClientRect().height])"""
    )
    assert all(d.startswith(("math", "inline math", "block math")) and h > 0 for d, h in boxes)
    top, bottom = page.evaluate(
        """() => { const f = document.querySelector('#L2 .statement mfrac');
                   return [f.children[0].getBoundingClientRect().bottom,
                           f.children[1].getBoundingClientRect().top]; }"""
    )
    assert top <= bottom + 1  # d + m stands above m
    text = page.inner_text("#L1 .statement")
    assert "𝜃" in text  # θ set as a math identifier (mathematical italic)
    assert "_" not in text and "\\" not in text and "$" not in text  # no raw LaTeX left
    context.close()


def test_contents_stay_in_view_and_link_every_claim(browser, report):
    context, page = _open(browser, report, 1280)
    links = page.eval_on_selector_all("nav a", "els => els.map(a => a.getAttribute('href'))")
    assert links == [f"#L{i}" for i in range(1, 14)]
    page.evaluate("document.documentElement.style.scrollBehavior = 'auto'")  # no animation
    page.click("nav a[href='#L10']")
    page.wait_for_function("document.getElementById('L10').getBoundingClientRect().top < 80")
    assert page.evaluate("document.querySelector('nav').getBoundingClientRect().top") == 0
    assert abs(page.evaluate("document.getElementById('L10').getBoundingClientRect().top")) < 80
    context.close()


def test_screenshots(browser, report, tmp_path):
    """The views docs/tour.md shows (saved there with MLPLAB_SCREENSHOTS=docs/img)."""
    context, page = _open(browser, report, 1280)
    _shot(page, tmp_path, "report-top.png")
    for cid in ("L3", "L6", "L12", "L13"):
        page.locator(f"#{cid}").scroll_into_view_if_needed()
        page.evaluate(f"window.scrollTo(0, document.getElementById('{cid}').offsetTop - 8)")
        _shot(page, tmp_path, f"report-{cid.lower()}.png")
    context.close()
    context, page = _open(browser, report, 800, 1000)
    page.evaluate("document.querySelector('#L2 details').open = true")
    page.evaluate("window.scrollTo(0, document.getElementById('L2').offsetTop - 60)")
    _shot(page, tmp_path, "report-l2-800px.png")
    context.close()
    context, page = _open(browser, report, 1280, dark=True)
    page.evaluate("window.scrollTo(0, document.getElementById('L10').offsetTop - 8)")
    _shot(page, tmp_path, "report-l10-dark.png")
    context.close()
