"""Retention: the gateway's housekeeping deletes finished traffic past its age and nothing else,
and runs the kiosk's own purge jobs on the same beat."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sms import health as modem_health, inbox, outbox
from sms.gateway import Gateway, GatewaySettings, Retention, open_database
from sms.pdu import decode, encode_deliver
from tests.sms.test_outbox import DAY, PHONE, drain


@pytest.fixture
def db(tmp_path):
    database = open_database(tmp_path / "retention.sqlite3")
    yield database
    database.close()


def test_outbox_purge_keeps_what_is_young_or_unfinished(db):
    old, young = DAY - timedelta(days=41), DAY - timedelta(days=5)
    finished = outbox.enqueue_many(db, [PHONE, "+84987654321"], "Họp tổ", key_prefix="old", now=old)
    drain(db, now=DAY)
    old_reply = outbox.enqueue(db, "+84987654322", "đã gửi", now=old)
    recent = outbox.enqueue(db, "+84987654323", "mới", now=young)
    drain(db, now=DAY + timedelta(seconds=1))
    outbox.enqueue(db, "+84987654324", "đang chờ", now=old)  # queued, never sent: kept whatever its age
    assert outbox.message(db, old_reply)["state"] == "sent"
    assert outbox.purge(db, 40, now=DAY) == 3  # the two broadcast messages and the old reply
    left = {m["to"] for m in outbox.messages(db)}
    assert left == {"+84987654323", "+84987654324"} and outbox.message(db, recent)["state"] == "sent"
    assert db.scalar("SELECT COUNT(*) FROM outbox_bodies") == 2  # the broadcast's shared body went too
    assert db.scalar("SELECT COUNT(*) FROM outbox_parts WHERE message_id IN (?, ?)", tuple(finished)) == 0
    assert outbox.purge(db, 0, now=DAY) == 0  # 0 keeps everything


def test_inbox_purge_deletes_handled_messages_only(db):
    for n, age in enumerate((45, 45, 3)):
        pdu = encode_deliver(f"+8490123456{n}", f"tin {n}", timestamp=DAY)
        inbox.store(db, decode(pdu), pdu, now=DAY - timedelta(days=age))
    first = inbox.messages(db)[-1]["id"]
    inbox.dispatch(db, [lambda db, m: None], now=DAY)
    db.execute("UPDATE inbox_messages SET handled_at = NULL WHERE id = ?", (first,))  # still unhandled
    assert inbox.purge(db, 40, now=DAY) == 1
    assert sorted(m["text"] for m in inbox.messages(db)) == ["tin 0", "tin 2"]
    assert db.scalar("SELECT COUNT(*) FROM inbox_parts") == 2


def test_the_gateway_housekeeping_purges_and_runs_the_kiosk_jobs_even_if_one_fails(db, tmp_path):
    modem_health.write(db, "gone-modem", "dead")
    db.execute("UPDATE gateway_health SET updated_at = '2020-01-01T00:00:00+00:00'")
    calls = []

    def broken(db):
        raise RuntimeError("audit table locked")

    def audit_purge(db):
        calls.append(db)
        return 7
    gateway = Gateway(db, GatewaySettings(ports=("/dev/null-modem",), retention=Retention(health_days=7)),
                      handlers=[], housekeeping=[broken, audit_purge])
    purged = gateway.purge(db)
    assert purged["health"] == 1 and purged["audit_purge"] == 7 and "broken" not in purged
    assert calls == [db] and modem_health.rows(db) == []
