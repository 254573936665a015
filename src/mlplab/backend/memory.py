"""Memory: how much there is, and sizes in words (checked before a big allocation)."""

from __future__ import annotations

import os


def available_memory() -> int:
    """Bytes of memory available to a new allocation (psutil, else /proc/meminfo, else sysconf)."""
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 2**63 - 1  # unknown: do not refuse


def format_bytes(n: int) -> str:
    """``123456789`` -> ``'117.7 MiB'``; exact integers of any size."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    n, unit = int(n), 0
    while n >= 1024 * 1024**unit and unit < len(units) - 1:
        unit += 1
    if unit == len(units) - 1 and n >= 1024 * 1024**unit:  # beyond 1024 YiB: whole YiB
        yib = n // 1024**unit
        return f"{yib:,} YiB" if yib < 10**9 else f"about 10^{len(str(n)) - 1} B"
    return f"{n / 1024**unit:.1f} {units[unit]}" if unit else f"{n} B"
