"""The Playground workload: frames per second a real browser gets, and the server's step time.

For each network (2-8-8-1 tanh and 2-32×6-1 tanh on the circle set, 250 training
points, batch 10, a 100×100 output heat-map and a 10×10 map per neuron):

* **frames/s**: ``mlplab playground`` runs in its own process; headless Chromium
  (Debian's, through Playwright) opens the page, presses play, and counts the
  frames the page decoded and drew over a window (``framesDrawn``) and the epochs
  they covered. Server and browser share the machine's cores, as in a classroom.
* **server step time**: in this process, one :class:`Session` trains epochs with
  ``mlplab.fit`` (per optimizer step) and builds frames (one batched forward
  pass over 10,000 + 100 + 500 points, then the binary encoding).

Targets (issue 11): >= 30 frames/s for 2-8-8-1, >= 15 frames/s for 6 × 32.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

NETWORKS = {"2-8-8-1": [8, 8], "2-32x6-1": [32] * 6}
TARGET_FPS = {"2-8-8-1": 30.0, "2-32x6-1": 15.0}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PROBE = "[playground.framesDrawn, playground.frame.epoch, playground.drawMs]"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_times(layers, repeats: int) -> dict:
    """Median ms of one optimizer step (``fit``, batch 10) and of building one frame."""
    from mlplab.playground import limit_blas_threads
    from mlplab.playground.session import Session

    limit_blas_threads()  # as `mlplab playground` does
    session = Session(lambda m: None, lambda f: None)
    session.settings.update(layers=list(layers), activations=["tanh"] * len(layers))
    session._build_model()
    steps_per_epoch = -(-len(session.X_train) // session.settings["batch"])
    session._epoch()  # warm-up
    step_ms, frame_ms = [], []
    for _ in range(max(3, repeats)):
        t = time.perf_counter()
        for _ in range(5):
            session._epoch()
        step_ms.append((time.perf_counter() - t) / (5 * steps_per_epoch) * 1e3)
        t = time.perf_counter()
        for _ in range(5):
            session.frame()
        frame_ms.append((time.perf_counter() - t) / 5 * 1e3)
    return {
        "step_ms": statistics.median(step_ms),
        "frame_ms": statistics.median(frame_ms),
        "steps_per_epoch": steps_per_epoch,
    }


def browser_fps(url: str, layers, window_s: float, repeats: int) -> dict:
    """Frames the page drew per second while training, median over ``repeats`` windows."""
    from playwright.sync_api import sync_playwright

    fragment = (
        f"#dataset=circle&layers={','.join(map(str, layers))}"
        f"&activations={','.join(['tanh'] * len(layers))}&features=x1,x2&batch=10&lr=0.03"
    )
    sizes = "2," + ",".join(map(str, layers)) + ",1"
    fps, epochs, draw = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url + fragment)
        page.wait_for_function(
            f"window.playground.started && window.playground.state.sizes.join() === '{sizes}'"
        )
        page.click("#play")
        page.wait_for_timeout(1000)  # warm-up
        for _ in range(repeats):
            f0, e0, d0 = page.evaluate(PROBE)
            t0 = time.perf_counter()
            page.wait_for_timeout(window_s * 1000)
            f1, e1, d1 = page.evaluate(PROBE)
            dt = time.perf_counter() - t0
            fps.append((f1 - f0) / dt)
            epochs.append((e1 - e0) / dt)
            draw.append((d1 - d0) / max(1, f1 - f0))
        page.click("#play")
        browser.close()
    return {
        "fps": statistics.median(fps),
        "fps_all": fps,
        "epochs_per_s": statistics.median(epochs),
        "draw_ms": statistics.median(draw),
    }


def run(quick: bool, repeats: int, env: dict) -> dict:
    """Every network: browser frames/s and server step / frame times."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return {"skipped": "the playwright package is not installed"}
    if not Path(CHROMIUM).exists():
        return {"skipped": "no Chromium found"}
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mlplab", "playground", "--port", str(port), "--no-browser"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for(port)
        out = {}
        for name, layers in NETWORKS.items():
            rec = browser_fps(url, layers, 1.0 if quick else 3.0, 1 if quick else repeats)
            rec.update(server_times(layers, 1 if quick else repeats))
            rec["target_fps"] = TARGET_FPS[name]
            out[name] = rec
        return out
    finally:
        server.terminate()
        server.wait(10)


def _wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"mlplab playground did not listen on port {port} within {timeout} s")


def render(res: dict, add, target) -> None:
    """The Playground table and its targets, into the suite's report."""
    add("")
    add("== Playground: circle, 250 training points, batch 10, tanh; 100x100 output map ==")
    if "skipped" in res:
        add(f"skipped: {res['skipped']}")
        return
    add(
        f"{'network':<12}{'frames/s':>10}{'epochs/s':>10}{'step ms':>9}{'frame ms':>10}"
        f"{'draw ms':>9}"
    )
    for name, rec in res.items():
        add(
            f"{name:<12}{rec['fps']:>10.1f}{rec['epochs_per_s']:>10.1f}"
            f"{rec['step_ms']:>9.3f}{rec['frame_ms']:>10.2f}{rec['draw_ms']:>9.1f}"
        )
        goal = rec["target_fps"]
        target(f"Playground {name}: >= {goal:g} frames/s", rec["fps"] >= goal, f"{rec['fps']:.1f}")


if __name__ == "__main__":  # python -m benchmarks.playground: this workload alone
    import json

    from .runner import worker_env

    env = worker_env()
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [os.environ.get("PYTHONPATH"), env["PYTHONPATH"]])
    )
    print(json.dumps(run("--quick" in sys.argv, 5, env), indent=1))
