"""The inbox: deduplication, multipart reassembly, the incomplete timeout, handlers run once."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from sms import inbox
from sms.gateway import open_database
from sms.pdu import decode, encode_deliver

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
SENDER = "+84901234567"


@pytest.fixture
def db(tmp_path):
    database = open_database(tmp_path / "inbox.sqlite3")
    yield database
    database.close()


def receive(db, text, *, sender=SENDER, concat=None, at=T0, sent=T0):
    pdu = encode_deliver(sender, text, timestamp=sent, concat=concat)
    return inbox.store(db, decode(pdu), pdu, port="modem-1", now=at), pdu


def test_single_message_is_stored_once_even_if_read_twice(db):
    message_id, pdu = receive(db, "Đăng ký tạm trú cho cháu Minh")
    assert message_id is not None
    assert inbox.store(db, decode(pdu), pdu, now=T0) is None
    rows = inbox.messages(db)
    assert [(r["sender"], r["text"], r["incomplete"]) for r in rows] == [
        (SENDER, "Đăng ký tạm trú cho cháu Minh", False)]


def test_parts_in_any_order_are_joined_by_sender_and_reference(db):
    assert receive(db, "phần hai ", concat=(7, 3, 2))[0] is None
    assert receive(db, "khác người gửi", sender="+84901111111", concat=(7, 3, 1))[0] is None
    assert receive(db, "phần một ", concat=(7, 3, 1))[0] is None
    assert receive(db, "phần một ", concat=(7, 3, 1), sent=T0 + timedelta(seconds=5))[0] is None  # resent copy
    message_id, _ = receive(db, "phần ba", concat=(7, 3, 3))
    assert message_id is not None
    assert inbox.messages(db)[0]["text"] == "phần một phần hai phần ba"
    assert inbox.pending_parts(db) == 1  # the other sender's part still waits
    # The same reference reused later by the same phone starts a new message.
    receive(db, "mới ", concat=(7, 2, 1), at=T0 + timedelta(hours=1))
    assert receive(db, "tiếp", concat=(7, 2, 2), at=T0 + timedelta(hours=1))[0] is not None
    assert inbox.messages(db)[0]["text"] == "mới tiếp"


def test_missing_parts_are_delivered_incomplete_after_the_timeout(db):
    receive(db, "đầu ", concat=(9, 3, 1))
    receive(db, "cuối", concat=(9, 3, 3))
    assert inbox.flush_incomplete(db, 600, now=T0 + timedelta(minutes=9)) == []
    [message_id] = inbox.flush_incomplete(db, 600, now=T0 + timedelta(minutes=11))
    row = inbox.messages(db)[0]
    assert (row["id"], row["text"], row["incomplete"], row["parts_received"], row["parts_expected"]) == (
        message_id, "đầu cuối", True, 2, 3)
    assert inbox.pending_parts(db) == 0


def test_each_message_is_handled_once_and_handler_errors_are_recorded(db):
    seen = []
    receive(db, "một")
    receive(db, "hai", sent=T0 + timedelta(seconds=1))

    def failing(db, message):
        if message.text == "một":
            raise ValueError("không hiểu lệnh")

    handlers = [failing, lambda db, m: seen.append((m.text, m.incomplete))]
    assert inbox.dispatch(db, handlers) == 2
    assert inbox.dispatch(db, handlers) == 0
    assert seen == [("một", False), ("hai", False)]
    errors = {r["text"]: r["handler_error"] for r in inbox.messages(db)}
    assert "không hiểu lệnh" in errors["một"] and errors["hai"] is None


def test_concurrent_dispatchers_never_handle_a_message_twice(tmp_path):
    path = tmp_path / "shared.sqlite3"
    setup = open_database(path)
    for n in range(30):
        receive(setup, f"tin {n}", sent=T0 + timedelta(seconds=n))
    handled, lock = [], threading.Lock()

    def record(db, message):
        with lock:
            handled.append(message.id)

    def worker():
        db = open_database(path)
        inbox.dispatch(db, [record])
        db.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(handled) == sorted(set(handled)) and len(handled) == 30
    setup.close()


def test_registered_handlers_are_the_gateway_default(db):
    def relay(db, message):
        pass
    try:
        assert inbox.register_handler(relay) is relay
        inbox.register_handler(relay)
        assert inbox.registered_handlers().count(relay) == 1
    finally:
        inbox.unregister_handler(relay)
    assert relay not in inbox.registered_handlers()


def test_redact_removes_the_original_text_from_message_and_parts(db):
    first = receive(db, "BC 1234 họp tổ ", concat=(9, 2, 1))[0]
    message_id, pdu = receive(db, "19h tối nay", concat=(9, 2, 2))
    assert first is None and message_id is not None
    assert inbox.redact(db, message_id, "BC **** họp tổ 19h tối nay")
    assert inbox.messages(db)[0]["text"] == "BC **** họp tổ 19h tối nay"
    texts = [row[0] for row in db.execute("SELECT text FROM inbox_parts").fetchall()]
    assert not any("1234" in t for t in texts)
    assert inbox.store(db, decode(pdu), pdu, now=T0) is None  # the same PDU read again is still ignored
    assert not inbox.redact(db, 999, "x")
    with pytest.raises(ValueError):
        inbox.redact(db, message_id, "x" * 5000)
