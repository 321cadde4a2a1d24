"""A tiny sd_notify(3) client: tells systemd READY=1, WATCHDOG=1 and STATUS=… over $NOTIFY_SOCKET.

Outside systemd (no $NOTIFY_SOCKET) every call is a no-op, so daemons call it unconditionally.
A socket path starting with "@" is in Linux's abstract namespace. Sending never raises: a
watchdog ping that cannot be delivered must not crash the daemon it is meant to watch.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)


def _address(path: str) -> str | bytes:
    return b"\0" + path[1:].encode() if path.startswith("@") else path


def notify(*fields: str, environ=None) -> bool:
    """Send "KEY=value" fields in one datagram; True if sent, False if no socket or it failed."""
    env = os.environ if environ is None else environ
    path = env.get("NOTIFY_SOCKET")
    if not path or not fields:
        return False
    message = "\n".join(fields).encode("utf-8")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(_address(path))
            sock.sendall(message)
        return True
    except OSError as exc:
        log.warning("sd_notify to %s failed: %s", path, exc)
        return False


def watchdog_interval(environ=None) -> float | None:
    """systemd's watchdog timeout in seconds from $WATCHDOG_USEC, or None when the watchdog is off
    (unset, zero, unparsable, or $WATCHDOG_PID names another process)."""
    env = os.environ if environ is None else environ
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", "0"))
    except ValueError:
        return None
    return usec / 1_000_000 if usec > 0 else None


class Watchdog:
    """READY=1 once, then WATCHDOG=1 at most every half of the watchdog timeout.

    Call `ping()` from the daemon's main loop as often as you like: it sends only when due, so
    a hung loop stops the pings and systemd restarts the service. `clock` is in seconds.
    """

    def __init__(self, environ=None, clock: Callable[[], float] = time.monotonic):
        self._env = dict(os.environ if environ is None else environ)
        self._clock = clock
        self._lock = threading.Lock()
        self.timeout = watchdog_interval(self._env)
        self.interval = self.timeout / 2 if self.timeout else None
        self._last_ping: float | None = None
        self.pings_sent = 0

    @property
    def enabled(self) -> bool:
        return bool(self._env.get("NOTIFY_SOCKET"))

    def ready(self, status: str = "") -> bool:
        """Tell systemd start-up is done (Type=notify); optionally with a STATUS line."""
        fields = ["READY=1"] + ([f"STATUS={status}"] if status else [])
        sent = notify(*fields, environ=self._env)
        with self._lock:
            self._last_ping = self._clock()
        return sent

    def status(self, text: str) -> bool:
        """Set the one-line status `systemctl status` shows."""
        return notify(f"STATUS={text}", environ=self._env)

    def ping(self) -> bool:
        """Send WATCHDOG=1 if the watchdog is on and half its timeout has passed; True if sent."""
        if self.interval is None:
            return False
        now = self._clock()
        with self._lock:
            if self._last_ping is not None and now - self._last_ping < self.interval:
                return False
            self._last_ping = now
        sent = notify("WATCHDOG=1", environ=self._env)
        if sent:
            self.pings_sent += 1
        return sent

    def stopping(self, status: str = "") -> bool:
        """Tell systemd the service is shutting down on purpose."""
        return notify("STOPPING=1", *([f"STATUS={status}"] if status else []), environ=self._env)
