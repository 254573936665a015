"""The browser the playground and report tests drive: Debian's Chromium through Playwright.

``require_chromium()`` returns its path, or skips the calling test module with the
reason (fails it when ``MLPLAB_REQUIRE_BROWSER=1``, as ``.ci/run`` sets).
``SHOTS`` is the folder for the docs' screenshots (``MLPLAB_SCREENSHOTS``), or None.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

SHOTS = os.environ.get("MLPLAB_SCREENSHOTS")


def _chromium() -> str | None:
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


def _missing() -> str | None:
    if _chromium() is None:
        return "no Chromium found (install Debian's chromium: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    return None


def require_chromium() -> str:
    """Chromium's path; else skip the module (fail it if the browser is required)."""
    missing = _missing()
    if missing:
        if os.environ.get("MLPLAB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"MLPLAB_REQUIRE_BROWSER=1 but {missing}", pytrace=False)
        pytest.skip(missing, allow_module_level=True)
    return _chromium()
