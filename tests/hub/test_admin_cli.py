"""`tdp hub …` admin commands on a real SQLite hub database beside the config (Alembic-migrated)."""
from __future__ import annotations

import io
import sqlite3

import pytest

from hub import auth
from hub.db import MIGRATIONS_DIR


def head_revision() -> str:
    from alembic.script import ScriptDirectory
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


@pytest.fixture
def hub_db(config_path):
    return config_path.parent / "hub.sqlite3"


def test_add_kiosk_prints_token_once_and_stores_only_its_hash(tdp, hub_db):
    r = tdp("hub", "add-kiosk", "tdp1", "--ward", "Phường Demo", "--json")
    assert r.code == 0, r.err
    token = r.data["token"]
    assert len(token) >= 43 and r.data["name"] == "tdp1"
    raw = hub_db.read_bytes() + b"".join(p.read_bytes() for p in hub_db.parent.glob("hub.sqlite3-wal"))
    assert token.encode() not in raw
    with sqlite3.connect(hub_db) as conn:
        stored = conn.execute("SELECT token_hash FROM kiosks WHERE name = 'tdp1'").fetchone()[0]
        assert stored == auth.token_hash(token)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()
    listed = tdp("hub", "kiosks", "--json").data
    assert "token" not in listed[0] and listed[0]["name"] == "tdp1"


def test_two_kiosks_get_different_tokens_and_a_duplicate_name_is_refused(tdp):
    first = tdp("hub", "add-kiosk", "a", "--json").data["token"]
    second = tdp("hub", "add-kiosk", "b", "--json").data["token"]
    assert first != second
    again = tdp("hub", "add-kiosk", "a")
    assert again.code == 1 and "already exists" in again.err and len(again.err.splitlines()) == 1


def test_kiosks_json_lists_name_online_last_seen_and_heartbeat(tdp):
    tdp("hub", "add-kiosk", "k1")
    rows = tdp("hub", "kiosks", "--json").data
    assert rows == [{"name": "k1", "ward": "", "online": False, "last_seen": None, "revoked": False,
                     "sim_number": "", "heartbeat": {}}]
    assert "OFFLINE" in tdp("hub", "kiosks").out


def test_revoke_kiosk_marks_it_revoked_and_unknown_name_is_one_line_error(tdp):
    tdp("hub", "add-kiosk", "k1")
    assert tdp("hub", "revoke-kiosk", "k1").code == 0
    assert tdp("hub", "kiosks", "--json").data[0]["revoked"] is True
    r = tdp("hub", "revoke-kiosk", "nope")
    assert r.code == 1 and "no kiosk 'nope'" in r.err


def test_add_official_reads_password_from_stdin_and_hashes_it(tdp, hub_db, monkeypatch):
    tdp("hub", "add-kiosk", "k1")
    monkeypatch.setattr("sys.stdin", io.StringIO("mật-khẩu-dài\n"))
    r = tdp("hub", "add-official", "--login", "to1", "--name", "Trần Thị Bình", "--role", "group",
            "--kiosk", "k1", "--password-stdin", "--json")
    assert r.code == 0, r.err
    with sqlite3.connect(hub_db) as conn:
        stored = conn.execute("SELECT password_hash FROM officials WHERE login = 'to1'").fetchone()[0]
    assert stored.startswith("scrypt$") and "mật" not in stored
    assert auth.verify_password("mật-khẩu-dài", stored) and not auth.verify_password("wrong-pass", stored)


@pytest.mark.parametrize("args, password, message", [
    (["--role", "group"], "longenough", "needs --kiosk"),
    (["--role", "ward"], "short", "too short"),
    (["--role", "group", "--kiosk", "ghost"], "longenough", "no kiosk"),
])
def test_add_official_bad_input(tdp, monkeypatch, args, password, message):
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    r = tdp("hub", "add-official", "--login", "x1", "--name", "X", *args, "--password-stdin")
    assert r.code == 1 and message in r.err


def test_notice_send_show_cancel_json_shapes(tdp):
    tdp("hub", "add-kiosk", "k1")
    tdp("hub", "add-kiosk", "k2")
    sent = tdp("hub", "notice", "send", "--all", "--group", "HPN", "--text", "Họp Hội phụ nữ 19h", "--urgent",
               "--expires-in", "24", "--json")
    assert sent.code == 0, sent.err
    assert set(sent.data) == {"id"}
    shown = tdp("hub", "notice", "show", str(sent.data["id"]), "--json").data
    assert {"id", "text", "kiosks"} <= set(shown)
    assert shown["text"] == "Họp Hội phụ nữ 19h"
    assert shown["kiosks"] == [
        {"name": n, "state": "pending", "recipients": 0, "sent": 0, "delivered": 0, "failed": 0, "answers": {},
         "detail": ""} for n in ("k1", "k2")]
    assert tdp("hub", "notice", "cancel", str(sent.data["id"])).code == 0
    states = {k["state"] for k in tdp("hub", "notice", "show", str(sent.data["id"]), "--json").data["kiosks"]}
    assert states == {"cancelled"}
    again = tdp("hub", "notice", "cancel", str(sent.data["id"]))
    assert again.code == 1 and "already cancelled" in again.err


def test_notice_to_one_kiosk_only(tdp):
    tdp("hub", "add-kiosk", "k1")
    tdp("hub", "add-kiosk", "k2")
    notice_id = tdp("hub", "notice", "send", "--kiosk", "k2", "--text", "Cắt nước", "--json").data["id"]
    assert [k["name"] for k in tdp("hub", "notice", "show", str(notice_id), "--json").data["kiosks"]] == ["k2"]


@pytest.mark.parametrize("args, message", [
    (["--kiosk", "ghost", "--text", "x"], "unknown kiosk: ghost"),
    (["--all", "--text", "   "], "text is empty"),
    (["--all", "--text", "Thông báo dài " * 60], "SMS parts; at most 10"),
    (["--all", "--group", "H P N", "--text", "x"], "group code"),
    (["--all", "--text", "x", "--expires-in", "0"], "expiry"),
])
def test_notice_send_bad_input_writes_nothing(tdp, hub_db, args, message):
    tdp("hub", "add-kiosk", "k1")
    r = tdp("hub", "notice", "send", *args)
    assert r.code == 1 and message in r.err, r.err
    with sqlite3.connect(hub_db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM notices").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0] == 0


def test_notice_send_needs_exactly_one_target(tdp):
    tdp("hub", "add-kiosk", "k1")
    assert tdp("hub", "notice", "send", "--text", "x").code == 2
    assert tdp("hub", "notice", "send", "--all", "--kiosk", "k1", "--text", "x").code == 2


def test_every_admin_action_is_audited(tdp, hub_db, monkeypatch):
    tdp("hub", "add-kiosk", "k1")
    notice_id = tdp("hub", "notice", "send", "--all", "--text", "Chào", "--json").data["id"]
    tdp("hub", "notice", "cancel", str(notice_id))
    tdp("hub", "revoke-kiosk", "k1")
    with sqlite3.connect(hub_db) as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit ORDER BY id")]
        actors = {r[0] for r in conn.execute("SELECT actor FROM audit")}
    assert actions == ["kiosk.add", "notice.send", "notice.cancel", "kiosk.revoke"]
    assert all(a.startswith("cli") for a in actors)
