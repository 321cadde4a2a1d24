"""`tdp`: the one command. Thin argparse front over the domain; `main()` returns the exit code.

Subcommands live in `kiosk/commands/*.py`; each module has `register(cli: Commands)`.
Exit codes: 0 ok, 1 user error (one line on stderr, no traceback), 2 usage. DEBUG=1 shows
tracebacks.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
from dataclasses import dataclass, field
from typing import Callable

from hardware.errors import HardwareError
from sms.errors import SmsError
from sms.storage import SHORT_BUSY_TIMEOUT_MS

from . import __version__, commands
from kiosk.appliance.config import Config, load
from .errors import TdpError

USER_ERRORS = (TdpError, SmsError, HardwareError)


@dataclass
class Context:
    """What a command handler gets: the parsed args, lazily loaded config and store, and output."""
    args: argparse.Namespace
    stdout: object = field(default_factory=lambda: sys.stdout)
    _config: Config | None = None
    _store: object = None

    @property
    def config(self) -> Config:
        if self._config is None:
            chosen = getattr(self.args, "leaf_config", None) or getattr(self.args, "config", None)
            self._config = load(chosen)
        return self._config

    @property
    def store(self):
        """The shared SQLite store, opened and migrated on first use."""
        if self._store is None:
            from kiosk.appliance.store import open_store
            self._store = open_store(self.config.storage.path, busy_timeout_ms=SHORT_BUSY_TIMEOUT_MS)
        return self._store

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    def emit(self, data, text: str | Callable[[], str] | None = None) -> None:
        """Print `data` as JSON under --json, else the human text (or a str() of data)."""
        if self.json:
            print(json.dumps(data, ensure_ascii=False, indent=2, default=str), file=self.stdout)
        else:
            message = text() if callable(text) else text
            print(message if message is not None else data, file=self.stdout)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


Handler = Callable[[Context], int | None]


class Commands:
    """Registry handed to each commands module: nested groups and leaf commands."""

    def __init__(self, subparsers):
        self._subparsers = subparsers
        self._groups: dict[str, Commands] = {}

    def group(self, name: str, help: str) -> "Commands":
        """A command group (`tdp sms …`), created once and shared by every module that adds to it."""
        if name not in self._groups:
            parser = self._subparsers.add_parser(name, help=help, description=help)
            sub = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND", required=True)
            self._groups[name] = Commands(sub)
        return self._groups[name]

    def command(self, name: str, handler: Handler, help: str, json: bool = False) -> argparse.ArgumentParser:
        """A leaf command; `json=True` adds the standard --json flag."""
        parser = self._subparsers.add_parser(name, help=help, description=help)
        parser.set_defaults(handler=handler)
        parser.add_argument("--config", dest="leaf_config", metavar="FILE",
                            help="TOML config file (default: $TDP_CONFIG, else demo defaults)")
        if json:
            parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
        return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tdp", description="TDP Kiosk (Tổ dân phố điện tử): kiosk, SMS gateway and hub.")
    parser.add_argument("--config", metavar="FILE", help="TOML config file (default: $TDP_CONFIG, else demo defaults)")
    parser.add_argument("--version", action="version", version=f"tdp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    registry = Commands(sub)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(registry)
    return parser


def main(argv: list[str] | None = None) -> int:
    debug = os.environ.get("DEBUG") not in (None, "", "0")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 0 for --help, 2 for usage errors
        return int(exc.code or 0)
    ctx = Context(args)
    try:
        result = args.handler(ctx)
        return int(result or 0)
    except USER_ERRORS as exc:
        if debug:
            raise
        print(f"tdp: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: still one line for the user, the traceback with DEBUG=1
        if debug:
            raise
        print(f"tdp: internal error: {type(exc).__name__}: {_one_line(exc)} (run with DEBUG=1 for details)",
              file=sys.stderr)
        return 1
    finally:
        ctx.close()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
