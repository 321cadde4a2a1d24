"""No lock storm at start-up (issue 17): with the schema up to date, opening the store only reads, so
commands run while another process holds a write transaction; a write that cannot get the lock
ends with the one-line "store is busy" error after the short wait, never "internal error"."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.appliance.store import open_store
from sms.storage import Database, Migration, StoreBusy

TDP = str(Path(sys.executable).with_name("tdp"))
HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("CREATE TABLE IF NOT EXISTS holder_scratch (x)")
conn.execute("INSERT INTO holder_scratch VALUES (1)")
print("holding", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@pytest.fixture
def held_store(config_path, store):
    """Another process holding the store's write lock until the test ends."""
    path = config_path.parent / "data" / "tdp.sqlite3"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    yield path
    holder.stdin.write("\n")
    holder.stdin.flush()
    holder.wait(timeout=20)


def run(config_path, *args, timeout=60):
    return subprocess.run([TDP, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "TDP_CONFIG": str(config_path)})


def test_a_read_command_runs_while_another_process_writes(config_path, held_store):
    # The holder waits for this test, so a command that waited for its lock would time out here.
    r = run(config_path, "request", "list", "--json", timeout=20)
    assert r.returncode == 0, r.stderr


def test_a_write_command_gives_the_one_line_busy_error(config_path, held_store):
    r = run(config_path, "request", "new", "--procedure", "HT-KS", "--name", "Lê Văn A",
            "--phone", "0912345678")
    assert r.returncode == 1
    assert "store is busy" in r.stderr and "internal error" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_migrate_only_reads_when_nothing_is_pending(tmp_path):
    path = tmp_path / "s.sqlite3"
    steps = [Migration("one", "CREATE TABLE a (x)"), Migration("two", "CREATE TABLE b (x)")]
    with Database(path) as db:
        assert db.migrate(steps) == ["one", "two"]
    other = Database(path)
    other.execute("BEGIN IMMEDIATE")                # another writer holds the lock
    try:
        quick = Database(path, busy_timeout_ms=200)
        assert quick.migrate(steps) == []          # nothing pending: no lock needed
        with pytest.raises(StoreBusy, match="store is busy"):
            quick.migrate(steps + [Migration("three", "CREATE TABLE c (x)")])
        quick.close()
    finally:
        other.execute("ROLLBACK")
        other.close()
    with open_store(tmp_path / "kiosk.sqlite3") as db:
        assert db.applied_migrations()
