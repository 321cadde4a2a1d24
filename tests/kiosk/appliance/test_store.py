"""The one SQLite store: named migrations once and atomically, WAL + foreign keys, many real processes."""
from __future__ import annotations

import multiprocessing
import sqlite3
import traceback

import pytest

from kiosk.directory import residents as directory
from kiosk.appliance.store import all_migrations, open_store
from sms.storage import Database, Migration, StorageError

WRITERS = 4
WRITES_EACH = 40


def test_migrations_are_applied_once_and_recorded(tmp_path):
    path = tmp_path / "s.sqlite3"
    first = open_store(path)
    names = [m.name for m in all_migrations()]
    assert first.applied_migrations() == names
    first.close()

    second = Database(path)
    assert second.migrate(all_migrations()) == []
    assert second.applied_migrations() == names
    second.close()


def test_a_failing_migration_leaves_no_trace_of_itself(tmp_path):
    db = Database(tmp_path / "m.sqlite3")
    good = Migration("0001_good", "CREATE TABLE a (x INTEGER);")
    bad = Migration("0002_bad", "CREATE TABLE b (x INTEGER);\nINSERT INTO no_such_table VALUES (1);")
    with pytest.raises(StorageError, match="migration 0002_bad failed"):
        db.migrate([good, bad])
    tables = {r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "a" in tables and "b" not in tables
    assert db.applied_migrations() == ["0001_good"]

    fixed = Migration("0002_bad", "CREATE TABLE b (x INTEGER);")
    assert db.migrate([good, fixed]) == ["0002_bad"]
    db.close()


def test_a_callable_migration_runs_in_the_same_transaction_as_its_record(tmp_path):
    db = Database(tmp_path / "c.sqlite3")

    def half_then_fail(conn):
        conn.execute("CREATE TABLE half (x INTEGER)")
        conn.execute("INSERT INTO half VALUES (1)")
        raise sqlite3.OperationalError("disk on fire")

    with pytest.raises(StorageError):
        db.migrate([Migration("0001_half", half_then_fail)])
    assert db.scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'") == 0
    assert db.applied_migrations() == []
    db.close()


def test_wal_and_foreign_keys_are_on(store):
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA foreign_keys") == 1
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction() as conn:
            conn.execute("INSERT INTO memberships (resident_id, group_id) VALUES (999, 999)")


def test_a_multi_row_write_is_all_or_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            directory.upsert_resident(store, "Lê Văn A", "0912345678", groups=["Chi bộ"])
            raise RuntimeError("power cut half-way")
    assert store.scalar("SELECT COUNT(*) FROM residents") == 0
    assert store.scalar("SELECT COUNT(*) FROM groups") == 0


def _writer(path: str, worker: int, start, results) -> None:
    """One real process: all open (and migrate) the fresh store at once, then all write at once."""
    try:
        start.wait(timeout=30)
        db = open_store(path)
        start.wait(timeout=30)
        for i in range(WRITES_EACH):
            # A read-modify-write: lost if two processes' transactions ever interleaved.
            with db.transaction() as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS counter (n INTEGER NOT NULL)")
                current = conn.execute("SELECT n FROM counter").fetchone()
                if current is None:
                    conn.execute("INSERT INTO counter (n) VALUES (1)")
                else:
                    conn.execute("UPDATE counter SET n = ?", (current[0] + 1,))
            directory.upsert_resident(db, f"Người {worker}-{i}", f"09{worker}{i:07d}",
                                      groups=["Hội phụ nữ" if i % 2 else "Chi bộ"])
            db.query("SELECT COUNT(*) FROM residents")  # readers run alongside writers
        db.close()
        results.put((worker, "ok"))
    except BaseException:
        results.put((worker, traceback.format_exc()))


@pytest.mark.timeout(120)
def test_several_processes_share_one_file_without_lost_writes_or_lock_errors(tmp_path):
    path = str(tmp_path / "shared.sqlite3")  # fresh: the processes also race to migrate it
    context = multiprocessing.get_context("fork")
    start = context.Barrier(WRITERS)
    results = context.Queue()
    processes = [context.Process(target=_writer, args=(path, w, start, results)) for w in range(WRITERS)]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=110) for _ in processes)
    for process in processes:
        process.join(timeout=10)

    assert outcomes == {w: "ok" for w in range(WRITERS)}
    db = open_store(path)
    assert db.scalar("SELECT n FROM counter") == WRITERS * WRITES_EACH
    assert db.scalar("SELECT COUNT(*) FROM residents") == WRITERS * WRITES_EACH
    assert db.scalar("SELECT COUNT(*) FROM groups") == 2
    assert db.scalar("SELECT COUNT(*) FROM memberships") == WRITERS * WRITES_EACH
    assert db.applied_migrations() == [m.name for m in all_migrations()]
    db.close()
