"""sd_notify over a real AF_UNIX datagram socket, as systemd's manager listens for it."""
from __future__ import annotations

import os
import socket
import uuid

import pytest

from kiosk.appliance import sdnotify


@pytest.fixture
def listener(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.settimeout(2)
    yield path, sock
    sock.close()


def receive(sock) -> set[str]:
    return set(sock.recv(4096).decode().split("\n"))


def test_ready_status_and_watchdog_reach_the_socket(listener):
    path, sock = listener
    clock = [0.0]
    dog = sdnotify.Watchdog({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "20000000"}, clock=lambda: clock[0])
    assert dog.interval == 10.0
    assert dog.ready("Đang chạy: 3 tin chờ gửi")
    assert receive(sock) == {"READY=1", "STATUS=Đang chạy: 3 tin chờ gửi"}
    assert not dog.ping()               # just became ready: not due yet
    clock[0] = 10.5
    assert dog.ping()
    assert receive(sock) == {"WATCHDOG=1"}
    assert not dog.ping()               # rate-limited: many calls per loop, one datagram
    clock[0] = 21.0
    assert dog.ping()
    assert receive(sock) == {"WATCHDOG=1"}
    assert dog.pings_sent == 2
    assert dog.status("modem dead")
    assert receive(sock) == {"STATUS=modem dead"}


def test_abstract_namespace_socket():
    name = f"tdp-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(2)
        assert sdnotify.notify("READY=1", environ={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"READY=1"


def test_no_socket_is_a_quiet_no_op():
    dog = sdnotify.Watchdog({})
    assert not dog.enabled
    assert not dog.ready()
    assert not dog.ping()
    assert sdnotify.watchdog_interval({}) is None


def test_dead_socket_does_not_raise(tmp_path):
    assert not sdnotify.notify("WATCHDOG=1", environ={"NOTIFY_SOCKET": str(tmp_path / "gone")})


def test_watchdog_for_another_pid_is_ignored(listener):
    path, _ = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert sdnotify.watchdog_interval(env) is None
    assert not sdnotify.Watchdog(env).ping()
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "junk"}) is None
