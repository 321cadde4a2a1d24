"""Power-cut resilience of the live store: every writer process killed with -9, again and again, in the
middle of heavy writes (contact imports, broadcasts, requests, households); after each kill the store
passes `PRAGMA integrity_check` and every row a writer saw committed is there."""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import ROOT
from tests.support.waiting import wait_until

KINDS = ("imports", "broadcasts", "requests", "households")
ROUNDS = 6


class Writer:
    """One writer process and the rows it reported committed (read by a thread until its pipe closes)."""

    def __init__(self, kind: str, store: Path, seed: int):
        self.process = subprocess.Popen([sys.executable, "-m", "tests.support.writers", kind, str(store), str(seed)],
                                        stdout=subprocess.PIPE, text=True, cwd=ROOT,
                                        env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.split())

    def committed(self) -> list[tuple[str, str]]:
        return [(fields[1], fields[2]) for fields in self.lines if fields and fields[0] != "ready"]

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.reader.join(timeout=30)


def missing_rows(store: Path, committed: list[tuple[str, str]]) -> list[tuple[str, str]]:
    conn = sqlite3.connect(store)
    try:
        missing = []
        for table, key in committed:
            if table == "residents.phone":
                found = conn.execute("SELECT 1 FROM residents WHERE phone = ?", (key,)).fetchone()
            else:
                found = conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (int(key),)).fetchone()
            if not found:
                missing.append((table, key))
        return missing
    finally:
        conn.close()


def test_kill_9_of_every_writer_during_heavy_writes_never_corrupts_or_loses_a_committed_row(store, tmp_path):
    path = Path(store.path)
    store.close()
    rng = random.Random(21)
    everything: list[tuple[str, str]] = []
    for round_number in range(ROUNDS):
        writers = [Writer(kind, path, round_number * 10 + i) for i, kind in enumerate(KINDS)]
        try:
            targets = [rng.randint(2, 40) for _ in writers]
            for writer, target in zip(writers, targets):
                wait_until(lambda: len(writer.lines) > target, timeout=60, what=f"writes of {writer.process.args[3]}")
        finally:
            order = writers[:]
            rng.shuffle(order)
            for writer in order:
                writer.kill()
        assert all(w.process.returncode == -signal.SIGKILL for w in writers)
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], f"round {round_number}"
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == [], f"round {round_number}"
        finally:
            conn.close()
        for writer in writers:
            everything += writer.committed()
        assert missing_rows(path, everything) == [], f"round {round_number}"
    kinds = {table for table, _ in everything}
    assert kinds >= {"residents.phone", "outbox_messages", "dossiers", "households", "residents"}
    assert len(everything) > ROUNDS * 8
