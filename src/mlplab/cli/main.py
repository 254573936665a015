"""Entry point: builds the parser from the command modules, runs one, reports errors.

Errors exit non-zero with one line ``mlplab: error: …`` (no traceback unless
``--debug``). Ctrl-C exits with status 130.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

if TYPE_CHECKING:
    #: What each command module's ``register(sub)`` gets (``add_subparsers``).
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

# Modules that contribute subcommands, in the order `--help` lists them.
COMMAND_MODULES = (
    "mlplab.cli.lecture_cmds",
    "mlplab.cli.train_cmds",
    "mlplab.cli.interop_cmds",
    "mlplab.cli.playground_cmds",
)


class _Parser(argparse.ArgumentParser):
    argv: list[str] | None = None  # the command line, set by main (for _help_prog)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A value such as `-1,2` or `-0.5,1` (`--input -1,2`) is a list of numbers, not an
        # option: argparse only knows single negative numbers. No mlplab option looks like one.
        self._negative_number_matcher = re.compile(r"^-\.?\d[\d.,eE+\- ]*$")

    def _all_options(self) -> list[str]:
        """Every ``--option`` of this parser and of its subcommands."""
        options = list(self._option_string_actions)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    options += list(sub._option_string_actions)
        return [o for o in options if o.startswith("--")]

    def error(
        self, message: str
    ) -> NoReturn:  # argparse's usage errors: the error line, where to look, exit 2
        message = _did_you_mean(message, self._all_options())
        print(f"mlplab: error: {message}", file=sys.stderr)
        print(f"see `{self._help_prog()} --help`", file=sys.stderr)
        raise SystemExit(2)

    def _help_prog(self) -> str:
        """``mlplab train`` when the top-level parser reports an error about a subcommand."""
        commands = (self._subparsers._group_actions[0].choices if self._subparsers else None) or {}
        for token in self.argv or sys.argv[1:]:
            if token in commands:
                return f"{self.prog} {token}"
        return self.prog


_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)$")


def _did_you_mean(message: str, options: list[str]) -> str:
    """argparse's "invalid choice" / "unrecognized arguments" message with the nearest
    valid name suggested."""
    import difflib

    if message.startswith("unrecognized arguments: "):
        flags = [w.split("=")[0] for w in message.split()[2:] if w.startswith("--")]
        close = difflib.get_close_matches(flags[0], options, n=1) if flags else []
        return message + (f"; did you mean {close[0]}?" if close else "")
    match = _INVALID_CHOICE.search(message)
    if not match:
        return message
    given, listed = match.group(1), match.group(2)
    names = [n.strip().strip("'") for n in listed.split(",")]
    close = difflib.get_close_matches(given, names, n=1, cutoff=0.6)
    if not close:
        close = [n for n in names if n.startswith(given) or given.startswith(n)][:1]
    return message + (f"; did you mean '{close[0]}'?" if close else "")


def build_parser() -> _Parser:
    from mlplab import __version__

    parser = _Parser(
        prog="mlplab",
        description="Multi-layer perceptrons as the lecture teaches them: "
        "reproduce its claims (mlplab tour), train, explain and predict.",
        epilog="Example: mlplab tour --quick --out tour-out",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mlplab {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:  # that group is not built yet
                continue
            raise
        module.register(sub)
    return parser


def _tolerant_streams() -> None:
    """Never crash on printing: characters the terminal's encoding lacks become escapes."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)  # TextIO does not declare it
        try:
            if reconfigure is not None:
                reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):  # not a TextIOWrapper (e.g. captured)
            pass


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    print(f"mlplab: warning: {message}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    import warnings

    _tolerant_streams()
    warnings.showwarning = _show_warning  # one line, no source path
    parser = build_parser()
    parser.argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from mlplab.errors import MLPLabError

    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a full disk or closed pipe shows here, not at exit
        return status
    except MLPLabError as err:
        if args.debug:
            raise
        print(f"mlplab: error: {err}", file=sys.stderr)
        return 2
    except MemoryError:
        if args.debug:
            raise
        print(
            "mlplab: error: out of memory: the sizes asked for need more memory than this "
            "machine has; use fewer samples, inputs or narrower layers.",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:  # the reader went away (`mlplab … | head`): not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("mlplab: interrupted", file=sys.stderr)
        return 130
    except OSError as err:  # the system refused a read or write: say which, in one line
        if args.debug:
            raise
        return _os_error(err)
    except Exception as err:  # an mlplab bug, not a user error: say so in one line
        if args.debug:
            raise
        print(
            f"mlplab: internal error: {type(err).__name__}: {err} (run `mlplab --debug "
            "COMMAND …` for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1


def _os_error(err: OSError) -> int:
    import os

    where = f" {err.filename!r}" if getattr(err, "filename", None) else ""
    what = err.strerror or str(err) or type(err).__name__
    if not where and err.errno is not None:
        where = " the standard output"
        try:  # what is left in the buffer cannot be written either: drop it quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
    print(f"mlplab: error: cannot write or read{where}: {what}.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
