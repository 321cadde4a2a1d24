"""Hub fixtures: a fresh hub database, an in-process ASGI client, and a live hub on a real socket."""
from __future__ import annotations

import itertools
import os
import socket
import threading
import time

import pytest
import uvicorn

from hub import admin, db
from hub.app import create_app
from hub.settings import HubSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float = 10.0, interval: float = 0.02):
    """Poll `condition()` until truthy (returned) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL cluster for the whole session (each test gets its own database)."""
    from .pg import Cluster
    cluster = Cluster().start()
    yield cluster
    cluster.stop()


_databases = itertools.count(1)


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """An empty hub database: SQLite by default; parametrize indirectly with "postgresql" for PG."""
    backend = getattr(request, "param", "sqlite")
    if backend == "postgresql":
        cluster = request.getfixturevalue("pg_cluster")
        return cluster.create_database(f"hub_{os.getpid()}_{next(_databases)}")
    return f"sqlite:///{tmp_path / 'hub' / 'hub.sqlite3'}"


@pytest.fixture
def settings(database_url) -> HubSettings:
    return HubSettings(database=database_url)


@pytest.fixture
def engine(settings):
    engine = db.open_hub(settings.database)
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings, engine):
    return create_app(settings, engine)


@pytest.fixture
def client(app):
    from starlette.testclient import TestClient
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def kiosk_token(engine):
    """Token of a registered kiosk named k1."""
    return admin.add_kiosk(engine, "k1", "Phường Demo")["token"]


class LiveHub:
    """uvicorn serving the app on 127.0.0.1:<free port> in a thread (real sockets)."""

    def __init__(self, app):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    access_log=False, timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self):
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=10)
        return self

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_hub(app):
    hub = LiveHub(app).start()
    yield hub
    hub.stop()
