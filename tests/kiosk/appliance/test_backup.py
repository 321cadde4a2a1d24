"""Backups of the real store while real writer processes keep going; restore after a wiped card."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kiosk.appliance import backup, backup_places, config as config_module, doctor
from kiosk.directory import residents
from kiosk.dossiers import lifecycle
from tests.conftest import ROOT
from tests.support.waiting import wait_until

TABLES = ("households", "residents", "consent_log", "dossiers", "dossier_events", "relay_audit")


@pytest.fixture
def stick(tmp_path) -> Path:
    """A mounted USB stick as the backup service sees it: a folder under a media root with the marker."""
    top = tmp_path / "media" / "TDP-BACKUP"
    top.mkdir(parents=True)
    (top / backup.MARKER_NAME).write_text("")
    return top


@pytest.fixture
def configured(config_path, tmp_path, stick) -> config_module.Config:
    config_path.write_text(config_path.read_text() + f'[backup]\nmedia_roots = ["{tmp_path / "media"}"]\n'
                           f'folder = "{tmp_path / "other-partition"}"\n', encoding="utf-8")
    return config_module.load(config_path)


def start_writer(kind: str, store: Path, seed: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "tests.support.writers", kind, str(store), str(seed)],
                               stdout=subprocess.PIPE, text=True, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert process.stdout.readline().startswith("ready"), "writer did not start"
    return process


def rows(path: Path, table: str) -> dict[int, tuple]:
    conn = sqlite3.connect(path)
    try:
        return {row[0]: row for row in conn.execute(f"SELECT * FROM {table} ORDER BY id")}
    finally:
        conn.close()


def seed_ward(store) -> None:
    household = residents.add_household(store, "Số 12 ngõ 34 phố Hòa Bình", "Tổ 1")
    residents.upsert_resident(store, "Nguyễn Văn Ánh", "0912000111", household_id=household, is_head=True,
                              consent=residents.Consent(True, "import", "danh-sach.xlsx"))
    residents.set_consent(store, "0912000111", residents.Consent(False, "sms", "Hủy nhận tin"))
    lifecycle.create(store, procedure_code="HT-KS", full_name="Lê Thị Mai", phone="0987654321",
                     citizen_id="001234567890")
    with store.transaction() as conn:
        conn.execute("INSERT INTO relay_audit (at, sender, official, command, outcome, detail) "
                     "VALUES ('2026-12-01T08:00:00Z', '+84912345678', 'Trần Văn Bình', 'TB', 'refused', 'wrong PIN')")


def test_backup_while_writing_then_wiped_card_restores_every_row_byte_for_byte(tdp, store, configured, stick, tmp_path):
    seed_ward(store)
    live = Path(configured.storage.path)
    writers = [start_writer("households", live, 1), start_writer("requests", live, 2), start_writer("audit", live, 3)]
    try:
        for writer in writers:
            for _ in range(20):
                writer.stdout.readline()          # each has committed rows before the backup starts
        before = {t: rows(live, t) for t in TABLES}
        taken = tdp("backup", "now", "--json")
        assert taken.code == 0, taken.err
    finally:
        for writer in writers:
            writer.kill()
            writer.wait()
    after = {t: rows(live, t) for t in TABLES}
    assert taken.data["destination"] == "usb" and taken.data["file"].startswith(str(stick))
    assert taken.data["key_created"] and Path(taken.data["key_file"]).parent == live.parent
    leaders_slip = tmp_path / "slip.txt"
    shutil.copy(taken.data["key_file"], leaders_slip)
    assert b"Nguy" not in Path(taken.data["file"]).read_bytes()        # sealed: no name in clear

    store.close()
    shutil.rmtree(live.parent)                                        # the card died
    shutil.copy(leaders_slip, tmp_path / "slip-restored.txt")
    (live.parent).mkdir()
    shutil.copy(leaders_slip, live.parent / backup.KEY_NAME)
    restored = tdp("backup", "restore", taken.data["file"], "--json")
    assert restored.code == 0, restored.err
    for table in TABLES:
        back = rows(live, table)
        assert set(before[table]) <= set(back), f"{table}: rows committed before the backup are missing"
        for key, row in back.items():
            assert row == after[table][key], f"{table} row {key} differs"
        # a consistent snapshot: every row up to the newest one it holds, nothing half-written
        assert set(back) == {k for k in after[table] if k <= max(back)}, table
    assert backup.integrity(live) == "ok"
    consent = rows(live, "consent_log")
    assert [r[2] for r in consent.values() if r[1] == 1][:2] == [1, 0]   # given, then withdrawn by SMS


def test_kill_9_during_a_backup_harms_neither_the_store_nor_the_previous_backup(tdp, store, configured, stick):
    with store.transaction() as conn:
        conn.executemany("INSERT INTO households (address, residential_group, created_at) VALUES (?, '', '')",
                         [(f"Số {i} " + os.urandom(200).hex(),) for i in range(25_000)])
    first = tdp("backup", "now", "--json")
    assert first.code == 0, first.err
    folder, data_dir = stick / backup.STICK_FOLDER, Path(configured.storage.path).parent
    phases = {"snapshot": lambda: list(data_dir.glob(".tdp-snapshot-*")),
              "sealed file": lambda: list(folder.glob(".tdp-*.partial"))}
    for phase, present in phases.items():
        process = subprocess.Popen([sys.executable, "-m", "kiosk", "backup", "now"], cwd=ROOT,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(present, timeout=30, what=f"the {phase} of a running backup", interval=0.001)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        assert process.returncode == -signal.SIGKILL
        assert backup.integrity(Path(configured.storage.path)) == "ok"
        listed = tdp("backup", "list", "--json").data["backups"]
        assert [b["path"] for b in listed] == [first.data["file"]], phase   # the half one never counts
        assert tdp("backup", "verify", first.data["file"]).code == 0
        assert store.scalar("SELECT COUNT(*) FROM households") == 25_000
    again = tdp("backup", "now", "--json")
    assert again.code == 0
    assert not list(data_dir.glob(".tdp-snapshot-*")) and not list(folder.glob(".tdp-*.partial"))


def test_wrong_passphrase_and_tampered_file_are_refused_without_touching_the_store(tdp, store, configured, tmp_path):
    seed_ward(store)
    taken = tdp("backup", "now", "--json").data
    key = Path(taken["key_file"])
    right = key.read_text()
    key.write_text("sai-mat-khau-roi\n")
    refused = tdp("backup", "restore", taken["file"])
    assert refused.code == 1 and "wrong passphrase" in refused.err and "Traceback" not in refused.err
    key.write_text(right)
    data = bytearray(Path(taken["file"]).read_bytes())
    data[-20] ^= 1
    tampered = tmp_path / "tampered.tdpbak"
    tampered.write_bytes(bytes(data))
    assert "damaged" in tdp("backup", "verify", tampered).err
    header_changed = Path(taken["file"]).read_bytes().replace(b'"kind": "manual"', b'"kind": "nightly"')
    tampered.write_bytes(header_changed)
    assert tdp("backup", "verify", tampered).code == 1
    assert store.scalar("SELECT COUNT(*) FROM residents") == 1


def test_restore_refuses_while_another_process_has_the_store_open(tdp, store, configured):
    seed_ward(store)
    taken = tdp("backup", "now", "--json").data
    store.close()
    writer = start_writer("audit", Path(configured.storage.path), 4)
    try:
        writer.stdout.readline()
        refused = tdp("backup", "restore", taken["file"])
    finally:
        writer.kill()
        writer.wait()
    assert refused.code == 1 and "stop the services first" in refused.err
    written = backup.integrity(Path(configured.storage.path)) == "ok" and rows(Path(configured.storage.path),
                                                                                 "relay_audit")
    assert len(written) > 1                                       # the writer's rows were not thrown away
    restored = tdp("backup", "restore", taken["file"], "--json")
    assert restored.code == 0 and restored.data["counts"]["relay_audit"] == 1
    assert Path(restored.data["previous"]).is_file()              # the store it replaced is kept


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=300), st.binary(max_size=200).map(lambda b: backup.MAGIC + b),
                 st.dictionaries(st.sampled_from(["kdf", "nonce", "sha256", "created"]),
                                 st.one_of(st.text(max_size=10), st.integers(), st.dictionaries(
                                     st.sampled_from(["name", "n", "r", "p", "salt"]),
                                     st.one_of(st.text(max_size=8), st.integers(-5, 2**40)))))
                 .map(lambda h: backup.MAGIC + json.dumps(h).encode() + b"\n" + b"x" * 40)))
def test_any_file_on_a_stick_is_refused_with_a_backup_error_never_a_crash(data):
    try:
        backup.unseal(data, "mat-khau-bat-ky", "stick/file.tdpbak")
    except backup.BackupError:
        pass


def test_no_stick_uses_the_folder_on_another_partition_and_doctor_says_so(tdp, store, configured, stick, tmp_path):
    (stick / backup.MARKER_NAME).unlink()
    taken = tdp("backup", "now", "--json").data
    assert taken["destination"] == "folder" and taken["folder"] == str(tmp_path / "other-partition")
    check = doctor.check_backup(configured)
    assert check.status == "warn" and "SD card itself" in check.en         # same file system in this test
    (stick / backup.MARKER_NAME).write_text("")
    assert tdp("backup", "now").code == 0
    assert doctor.check_backup(configured).status == "ok"


def test_doctor_warns_two_days_after_the_last_good_backup(tdp, store, configured):
    assert doctor.check_backup(configured).status == "warn"              # none yet
    taken = tdp("backup", "now", "--json").data
    created = datetime.fromisoformat(taken["created"])
    fresh = doctor.check_backup(configured, now=created + timedelta(hours=47))
    assert fresh.status == "ok" and created.strftime("%Y-%m-%d %H:%M") in fresh.en
    stale = doctor.check_backup(configured, now=created + timedelta(hours=49))
    assert stale.status == "warn" and "older than 48 h" in stale.en


def fake_backup(folder: Path, moment: datetime, kind: str) -> None:
    """A file with a real header and no content: rotation reads headers only."""
    header = {"created": moment.isoformat(timespec="seconds"), "kind": kind, "kiosk": "k", "version": "0.1.0",
              "nonce": "", "kdf": {"name": "scrypt", "n": 2**14, "r": 8, "p": 1, "salt": ""}}
    name = f"tdp-k-{moment:%Y%m%dT%H%M%SZ}-{kind}.tdpbak"
    (folder / name).write_bytes(backup.MAGIC + json.dumps(header).encode() + b"\n")


def test_rotation_keeps_seven_daily_and_four_weekly(tmp_path):
    folder = tmp_path / "rotation"
    folder.mkdir()
    start = datetime(2026, 9, 1, 2, 0, tzinfo=timezone.utc)
    for day in range(60):
        for hour in (0, 5):
            fake_backup(folder, start + timedelta(days=day, hours=hour), "nightly")
    for day in (10, 20, 30):
        fake_backup(folder, start + timedelta(days=day, hours=1), "pre-upgrade")
    (folder / "holiday-photos.jpg").write_bytes(b"not ours")
    removed = backup_places.rotate(folder, daily=7, weekly=4)
    kept = backup_places.backups_in(folder)
    nightly = sorted(datetime.fromisoformat(b.created) for b in kept if b.kind == "nightly")
    last = start + timedelta(days=59, hours=5)
    assert {m.date() for m in nightly} >= {last.date() - timedelta(days=d) for d in range(7)}
    assert all(m.hour == 7 for m in nightly)                            # the newest of each day
    weeks = sorted({m.isocalendar()[:2] for m in nightly})
    assert len(weeks) == 4 and len(nightly) == 7 + 2                    # 7 days span 2 weeks; 2 older Sundays
    assert sorted(b.created[:10] for b in kept if b.kind == "pre-upgrade") == ["2026-09-21", "2026-10-01"]
    assert len(removed) == 120 + 3 - len(kept) and (folder / "holiday-photos.jpg").exists()


def test_a_stick_found_by_its_label(store, configured, tmp_path, monkeypatch):
    (tmp_path / "media" / "TDP-BACKUP" / backup.MARKER_NAME).unlink()
    mount = tmp_path / "media" / "quantri" / "3A1F-0C2B"
    mount.mkdir(parents=True)
    labels = tmp_path / "by-label"
    labels.mkdir()
    (labels / "TDP-BACKUP").symlink_to("/dev/sda1")
    monkeypatch.setattr(backup_places, "BY_LABEL", labels)
    monkeypatch.setattr(backup_places, "_mounts", lambda: {str(mount): "/dev/sda1"})
    assert backup_places.destination(configured) == backup_places.Place(mount / backup.STICK_FOLDER, "usb")
