"""A flood of 1,000 SMS within a minute from 50 spoofed numbers (officials', residents' and
strangers'), through the real inbox handler: at most the budgeted replies go out, every message
stays on record with a decision, and no consent change is lost."""
from collections import Counter
from datetime import datetime, timedelta, timezone

from kiosk.appliance import config as config_module
from kiosk.directory import residents as directory
from kiosk.directory.residents import Consent
from kiosk.relay.router import make_handler
from kiosk.volunteers import help_tickets
from kiosk.volunteers import people as volunteers
from sms import inbox, outbox
from sms.pdu import decode, encode_deliver

OFFICIALS = ["+84912000001", "+84912000004"]
RESIDENTS = [f"+849870{i:05d}" for i in range(20)]
STRANGERS = [f"+849650{i:05d}" for i in range(28)]
SENDERS = OFFICIALS + RESIDENTS + STRANGERS
LEADER = "+84912000002"
TEXTS = {
    "official": ["TB 1111 TATCA Tin gia", "XN ACEFHJ", "TB", "NHOM 0000", "KC 9999 HPN Chay", "TT"],
    "resident": ["HS TDP1-2611-AAAA", "HOTRO cài VNeID giúp tôi", "Đèn đường ngõ 7 hỏng", "Hủy nhận tin",
                 "DK Nguyễn Văn Khách", "Nhóm em muốn hỏi", "Từ chối", "TB 2468 HPN gia mao"],
    "stranger": ["HS XYZ", "HOTRO giúp", "Khuyến mãi lớn", "DK A", "XN 1234", "STOP", "\u200b", "HUY 2468 ²"],
}


def _kind(sender):
    return "official" if sender in OFFICIALS else "resident" if sender in RESIDENTS else "stranger"


def test_a_thousand_spoofed_messages_in_a_minute(store):
    config = config_module.from_dict({"relay": {
        "officials": [{"name": "A", "phone": OFFICIALS[0], "pin": "2468"},
                      {"name": "B", "phone": OFFICIALS[1], "pin": "1357"}],
        "group_leader_phone": LEADER, "police_phone": "0912000003"}})
    volunteers.add(store, volunteers.NewVolunteer(name="Đỗ Minh Tâm", phone="0966100201", role="leader"))
    for n, phone in enumerate(RESIDENTS):
        directory.upsert_resident(store, f"Lê Thị Hoa {n}", phone, groups=["Hội phụ nữ"],
                                  consent=Consent(True, "import", "x"))
    start = datetime.now(timezone.utc).replace(microsecond=0)
    sent = []
    for n in range(1000):
        sender = SENDERS[n % len(SENDERS)]
        options = TEXTS[_kind(sender)]
        text = options[(n // len(SENDERS)) % len(options)]
        sent.append((sender, text))
        at = start + timedelta(milliseconds=55 * n)  # 1,000 within 55 s
        pdu = encode_deliver(sender, f"{text} #{n}" if text.isascii() and "2468" not in text else text, timestamp=at)
        inbox.store(store, decode(pdu), pdu, now=at)
    assert store.scalar("SELECT COUNT(*) FROM inbox_messages") >= 995  # identical PDUs are one message

    handled = inbox.dispatch(store, [make_handler(config)])
    stored = store.scalar("SELECT COUNT(*) FROM inbox_messages")
    assert handled == stored
    assert store.scalar("SELECT COUNT(*) FROM inbox_messages WHERE handled_at IS NULL OR handler_error IS NOT NULL") == 0
    assert store.scalar("SELECT COUNT(*) FROM relay_audit") >= stored  # a decision on record for each

    sender_of = {m["id"]: m["sender"] for m in inbox.messages(store, limit=5000)}
    caused = Counter(sender_of[int(m["key"].split(":")[1])] for m in outbox.messages(store, limit=5000)
                     if m["key"].startswith("sms-reply:"))
    assert max(caused.values()) <= config.relay.replies_per_hour
    to_self = Counter(m["to"] for m in outbox.messages(store, limit=5000) if m["to"] in SENDERS)
    residents_and_strangers = RESIDENTS + STRANGERS
    assert all(to_self[s] <= 1 for s in residents_and_strangers)  # one reply a minute, strangers' refusals once a day
    assert all(to_self[s] <= config.relay.replies_per_hour for s in OFFICIALS)
    assert sum(caused.values()) <= len(SENDERS) * config.relay.replies_per_hour
    assert outbox.messages(store, key_prefix="relay:") == []  # no spoofed broadcast reached anyone
    held = store.scalar("SELECT COUNT(*) FROM relay_audit WHERE outcome = 'held'")
    assert held > 0

    withdrew = {s for s, t in sent if s in RESIDENTS and t in ("Hủy nhận tin", "Từ chối")}
    assert withdrew and all(directory.resident_by_phone(store, s)["consent"] == 0 for s in withdrew)
    logged = {r["phone"] for r in directory.withdrawals_between(store, "2000-01-01", "2100-01-01")}
    assert logged == withdrew
    tickets = Counter(t["requester_phone"] for t in help_tickets.list_tickets(store))
    assert set(tickets.values()) == {1}
    print(f"\nflood: {stored} messages, {sum(caused.values())} SMS queued, {held} held, "
          f"{len(withdrew)} withdrawals, most caused by one number: {max(caused.values())}")
