"""The relay end to end: SMS injected into the emulated modem, through the real gateway on a pty."""

import pytest

from kiosk.appliance import config as config_module
from kiosk.directory import residents as directory
from kiosk.notices import board as notices
from kiosk.directory.residents import Consent
from kiosk.relay.router import make_handler
from kiosk.appliance.store import open_store
from sms import outbox
from sms.emulator import Emulator
from sms.gateway import Gateway, GatewaySettings
from tests.support.waiting import wait_until

OFFICIAL = "+84912000001"
MEMBERS = ["+84987000000", "+84987000001", "+84987000002"]


@pytest.fixture
def appliance(tmp_path):
    config = config_module.from_dict({
        "storage": {"path": str(tmp_path / "tdp.sqlite3")},
        "sms": {"quiet_start": "00:00", "quiet_end": "00:00"},
        "relay": {"officials": [{"name": "Trần Văn Tổ", "phone": "0912000001", "pin": "2468"}],
                  "group_leader_phone": "0912000002"},
    })
    db = open_store(config.storage.path)
    for i, phone in enumerate(MEMBERS):
        directory.upsert_resident(db, f"Nguyễn Thị Hoa {i}", phone, groups=["Hội phụ nữ"],
                                  consent=Consent(True, "import", "list.xlsx"))
    directory.upsert_resident(db, "Lê Thị Không", "0987000099", groups=["Hội phụ nữ"])
    emulator = Emulator()
    port = emulator.start()
    gateway = Gateway(config.storage.path, GatewaySettings(ports=(port,), quiet_start="00:00", quiet_end="00:00",
                                                           sweep_seconds=2.0), handlers=[make_handler(config)])
    gateway.start()
    yield db, emulator
    gateway.stop(10)
    emulator.stop()
    db.close()


def _handled(db, n):
    return lambda: db.scalar("SELECT COUNT(*) FROM inbox_messages WHERE handled_at IS NOT NULL") >= n


def test_official_tb_reaches_every_consenting_member_and_the_board(appliance):
    db, emulator = appliance
    emulator.inject_incoming(OFFICIAL, "TB 2468 HPN Mời chị em họp chi hội lúc 19h30 thứ Sáu.")
    emulator.wait_for_sent(4, timeout=30)  # three members and the official's reply
    assert sorted(p.number for p in emulator.sent) == sorted([*MEMBERS, OFFICIAL])
    for member in MEMBERS:
        assert emulator.sent_texts(member) == ["Mời chị em họp chi hội lúc 19h30 thứ Sáu."]
    assert "Da gui TB" in emulator.sent_texts(OFFICIAL)[0]
    assert notices.current(db)[0]["text"] == "Mời chị em họp chi hội lúc 19h30 thứ Sáu."


def test_the_same_text_from_any_other_phone_reaches_no_resident(appliance):
    db, emulator = appliance
    emulator.inject_incoming("+84977777777", "TB 2468 HPN Tin giả mạo")
    emulator.wait_for_sent(2, timeout=30)  # forwarded to the leader as a resident's message, and the reply
    assert sorted(p.number for p in emulator.sent) == ["+84912000002", "+84977777777"]
    assert emulator.sent_texts("+84912000002") == ["Tin nhan tu 0977 777 777: TB **** HPN Tin giả mạo"]
    assert notices.current(db) == [] and db.scalar("SELECT outcome FROM relay_audit") == "forwarded"
    assert "2468" not in db.scalar("SELECT text FROM inbox_messages")


def test_a_flood_is_handled_without_loss_or_reply_storms(appliance):
    db, emulator = appliance
    senders = [f"+849650000{i:02d}" for i in range(10)]
    injected = 0
    for round_ in range(12):
        for sender in senders:
            # Like a real SIM, the emulated one holds 30 messages: pace the flood by its free slots.
            wait_until(lambda: len(emulator.stored()) < 25, what="free SIM storage")
            emulator.inject_incoming(sender, f"HS TDP1-2611-AAA{round_}")
            injected += 1
    wait_until(_handled(db, injected), timeout=60, what=f"{injected} messages handled")
    assert db.scalar("SELECT COUNT(*) FROM inbox_messages") == injected
    wait_until(lambda: len(emulator.sent_texts()) >= len(senders) and outbox.queue_depth(db) == 0,
               what="the replies to be sent")
    replies_per_sender = {s: len(emulator.sent_texts(s)) for s in senders}
    assert set(replies_per_sender.values()) == {1}, replies_per_sender
