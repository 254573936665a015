"""The mlplab playground: build, hand-set and train networks live in the browser.

``mlplab playground`` starts :func:`serve`; :func:`create_app` is the ASGI app
(Starlette) for tests and for running under another server. Training runs in
Python on mlplab's engine; the page only draws what the server sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .server import create_app

__all__ = ["create_app", "serve"]

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def limit_blas_threads() -> None:
    """One BLAS thread: the playground's products are small, and the browser shares the cores.

    With two OpenBLAS threads on a busy 2-core machine, a (10000, 32) @ (32, 32)
    product of a frame took ~25 ms instead of ~2 ms (threads waiting for a core).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn brings it; without it the defaults stay
        return
    threadpool_limits(1, user_api="blas")


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    backend: str = "numpy",
    device: Any = None,
    open_browser: bool = True,
    on_ready: Callable[[str], object] | None = None,
) -> None:
    """Serve the playground until interrupted; ``port=0`` picks a free port.

    Raises:
        ConfigError: the backend is not installed or the port cannot be bound.
    """
    import socket
    import threading
    import webbrowser

    import uvicorn

    import mlplab as ml

    from .protocol import MAX_MESSAGE_BYTES

    if backend not in ml.available_backends():
        raise ml.ConfigError(
            f"backend {backend!r} is not available here; available: "
            f"{', '.join(ml.available_backends())}."
        )
    if device is not None and backend != "numpy":
        ml.get_backend(backend, "float64", device)  # an absent GPU: a clear error now
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ml.ConfigError(
            f"cannot listen on {host}:{port}: {err.strerror or err}; pass another --port."
        ) from None
    port = sock.getsockname()[1]
    limit_blas_threads()
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    config = uvicorn.Config(
        create_app(backend, device),
        log_level="warning",
        ws_max_size=MAX_MESSAGE_BYTES + 2**20,
        ws="auto",
    )
    server = uvicorn.Server(config)
    print(f"mlplab playground on {url} (backend {backend}); Ctrl-C stops it.", flush=True)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    if on_ready is not None:
        on_ready(url)
    server.run(sockets=[sock])
