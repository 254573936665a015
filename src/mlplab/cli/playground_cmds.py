"""Playground command: ``mlplab playground`` (a local web page on mlplab's engine)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .main import Subparsers


def register(sub: Subparsers) -> None:
    """Add the ``playground`` subcommand."""
    p = sub.add_parser(
        "playground",
        help="build, hand-set and train networks live in the browser",
        description=(
            "Start a local web server with the mlplab playground and open it in the browser: "
            "TensorFlow Playground's controls, the lecture's presets (AND/OR, XOR, universal "
            "approximation, one SGD step), training on mlplab's own engine."
        ),
        epilog="Example: mlplab playground --port 8765 --backend torch --no-browser",
    )
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0: any free)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.add_argument(
        "--backend",
        default="numpy",
        help="numpy, torch or jax (default numpy; the page can switch)",
    )
    p.add_argument(
        "--device",
        default=None,
        help="cpu, cuda or cuda:N for the torch and jax backends (default: a GPU when present)",
    )
    p.set_defaults(func=run_playground)


def run_playground(args: argparse.Namespace) -> int:
    from mlplab.errors import ConfigError
    from mlplab.playground import LOCAL_HOSTS, serve

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be from 0 to 65535; got {args.port}.")
    if args.host not in LOCAL_HOSTS:
        print(
            f"mlplab: warning: listening on {args.host}: anyone who can reach this address "
            "can use the playground and the CPU time it takes. Use --host 127.0.0.1 to keep "
            "it to this machine.",
            file=sys.stderr,
        )
    serve(
        args.host,
        args.port,
        backend=args.backend,
        device=args.device,
        open_browser=not args.no_browser,
    )
    return 0
