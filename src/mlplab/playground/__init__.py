"""The mlplab playground: build, hand-set and train networks live in the browser.

``mlplab playground`` starts :func:`serve`; :func:`create_app` is the ASGI app
(Starlette) for tests and for running under another server. Training runs in
Python on mlplab's engine; the page only draws what the server sends.
"""

from __future__ import annotations

from .server import create_app

__all__ = ["create_app", "serve"]

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    backend: str = "numpy",
    open_browser: bool = True,
    on_ready=None,
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
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    config = uvicorn.Config(
        create_app(backend),
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
