"""The playground's web server: one page, its static files, one WebSocket per tab.

Each WebSocket gets its own :class:`~mlplab.playground.session.Session` and an
:class:`Outbox`: JSON messages queue in order, frames go through a slot of
length one (a newer frame replaces an unsent one), and the next frame is sent
only once the page has drawn the last (it answers ``{"cmd": "ack"}``), so a
slow browser never backs up. A closed tab stops its training task.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVarTuple
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .protocol import Message
from .session import Session

STATIC = Path(__file__).parent / "static"
ACK_TIMEOUT = 1.0  # a page that never acknowledges still gets a frame a second
log = logging.getLogger("mlplab.playground")
_Args = TypeVarTuple("_Args")


class Outbox:
    """What waits to go to one page: JSON messages in order, and the newest frame."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.thread = threading.get_ident()
        self.messages: deque[str] = deque()
        self.frame: bytes | None = None
        self.in_flight_since: float | None = None  # a sent frame not yet acknowledged
        self.event = asyncio.Event()
        self.frames_sent = 0

    def _call(self, fn: Callable[[*_Args], None], *args: *_Args) -> None:
        if threading.get_ident() == self.thread:
            fn(*args)
        else:  # from the training thread
            self.loop.call_soon_threadsafe(fn, *args)

    def put_json(self, message: Message) -> None:
        self._call(self._put_json, json.dumps(message, allow_nan=False, default=str))

    def _put_json(self, text: str) -> None:
        self.messages.append(text)
        self.event.set()

    def put_frame(self, frame: bytes) -> None:
        self._call(self._put_frame, frame)

    def _put_frame(self, frame: bytes) -> None:
        self.frame = frame  # replaces a frame not sent yet: the queue has length one
        self.event.set()

    def frame_wanted(self) -> bool:
        """Whether a new frame is worth building: the slot is empty.

        The slot empties when its frame is sent, so the next frame is built while the
        page draws the last one and goes out the moment the page acknowledges it.
        (Rebuilding a waiting frame to keep it fresh was measured: it cost training
        epochs on a loaded machine and gained no frames per second.)
        """
        return self.frame is None

    def ack(self) -> None:
        self.in_flight_since = None
        self.event.set()

    def may_send_frame(self) -> bool:
        waiting = self.in_flight_since
        return waiting is None or time.monotonic() - waiting > ACK_TIMEOUT


async def _send_loop(ws: WebSocket, box: Outbox) -> None:
    while True:
        try:
            await asyncio.wait_for(box.event.wait(), timeout=ACK_TIMEOUT / 2)
        except TimeoutError:
            pass
        box.event.clear()
        while box.messages:
            await ws.send_text(box.messages.popleft())
        if box.frame is not None and box.may_send_frame():
            frame, box.frame = box.frame, None
            box.in_flight_since = time.monotonic()
            await ws.send_bytes(frame)
            box.frames_sent += 1


def _same_origin(ws: WebSocket) -> bool:
    """Refuse a WebSocket opened by a page of another site (cross-site hijacking)."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser (a test client, a script on this machine)
    return urlsplit(origin).netloc == ws.headers.get("host")


async def _playground_socket(ws: WebSocket) -> None:
    if not _same_origin(ws):
        await ws.close(code=1008)
        return
    await ws.accept()
    box = Outbox(asyncio.get_running_loop())
    session = Session(
        box.put_json, box.put_frame, backend=ws.app.state.backend, device=ws.app.state.device
    )
    session.frame_wanted, session.on_ack = box.frame_wanted, box.ack
    sender = asyncio.create_task(_send_loop(ws, box))
    session.announce()
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text")
            await session.handle(raw if raw is not None else message.get("bytes"))
            if sender.done():  # the page went away while we were sending
                break
    except WebSocketDisconnect:
        pass
    finally:
        await session.stop()
        sender.cancel()
        try:
            await sender
        except (asyncio.CancelledError, Exception):
            pass


async def _index(request: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


def create_app(backend: str = "numpy", device: Any = None) -> Starlette:
    """The ASGI app: ``/`` the page, ``/static`` its files, ``/ws`` a tab's session."""
    app = Starlette(
        routes=[
            Route("/", _index),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            WebSocketRoute("/ws", _playground_socket),
        ]
    )
    app.state.backend = backend
    app.state.device = device
    return app
