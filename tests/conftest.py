"""Shared fixtures: an isolated config + store per test, and the `tdp` CLI run in-process."""
from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.appliance.store import open_store

pytest_plugins = ["tests.support.gpio"]  # the `factory` fixture: gpiozero's MockFactory

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def data(self):
        return json.loads(self.out)


@pytest.fixture
def config_path(tmp_path, monkeypatch) -> Path:
    """A minimal config whose store lives in this test's temp dir; also exported as $TDP_CONFIG."""
    path = tmp_path / "tdp.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "data" / "tdp.sqlite3"}"\n', encoding="utf-8")
    monkeypatch.setenv("TDP_CONFIG", str(path))
    return path


@pytest.fixture
def store(config_path):
    """The store that `tdp` commands in this test use (same file), opened and migrated."""
    database = open_store(config_path.parent / "data" / "tdp.sqlite3")
    yield database
    database.close()


@pytest.fixture
def tdp(config_path):
    """Run `tdp ARGS…` in-process against this test's config; returns Result(code, out, err)."""
    def run(*args: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main([str(a) for a in args])
        return Result(code, out.getvalue(), err.getvalue())
    return run
