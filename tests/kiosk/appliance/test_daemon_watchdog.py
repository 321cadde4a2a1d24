"""The daemons talk to systemd themselves: READY=1 when up, then WATCHDOG=1 from their main loop."""
import os
import socket
import subprocess
import sys

from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.waiting import wait_until


@pytest.fixture
def notify_socket(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    sock.bind(str(path))
    sock.settimeout(60)
    yield sock, str(path)
    sock.close()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _messages_until_watchdog(sock) -> list[str]:
    seen = []
    while not any("WATCHDOG=1" in m for m in seen):
        seen.append(sock.recv(4096).decode())  # blocks until the daemon speaks (timeout 60 s)
    return seen


@pytest.mark.parametrize("command", [["gateway"], ["kiosk", "--size", "800x480"]])
def test_daemon_reports_ready_then_feeds_the_watchdog(command, notify_socket, config_path):
    sock, path = notify_socket
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000", "TDP_CONFIG": str(config_path)}
    env.pop("WATCHDOG_PID", None)
    env.pop("DISPLAY", None)
    process = subprocess.Popen([sys.executable, "-m", "kiosk", *command], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        seen = _messages_until_watchdog(sock)
        helpers = _children(process.pid)  # the kiosk's private Xvfb, when there is no display
    finally:
        process.kill()  # what systemd does when the watchdog runs out
        process.wait(30)
    # Killed outright, the daemon still leaves nothing running behind it.
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in helpers), 10, "Xvfb to exit")
    assert any("READY=1" in m for m in seen), seen
    ready_at = next(i for i, m in enumerate(seen) if "READY=1" in m)
    watchdog_at = next(i for i, m in enumerate(seen) if "WATCHDOG=1" in m)
    assert ready_at <= watchdog_at
