"""A flood of 1,000 incoming SMS within a minute: every one stored and handled, nobody's phone
flooded back (one reply per sender, one forward per sender, one help ticket per sender)."""
from collections import Counter
from datetime import datetime, timedelta, timezone

from kiosk.appliance import config as config_module
from kiosk.directory import residents as directory
from kiosk.volunteers import help_tickets
from kiosk.volunteers import people as volunteers
from kiosk.directory.residents import Consent
from kiosk.relay.residents import make_handler
from sms import inbox, outbox
from sms.pdu import decode, encode_deliver

SENDERS = [f"+849650{i:05d}" for i in range(50)]
TEXTS = ["HS TDP1-2611-AAAA", "HOTRO cài VNeID giúp tôi", "Đèn đường ngõ 7 hỏng", "DK Nguyễn Văn Khách"]


def test_a_thousand_messages_in_a_minute(store):
    config = config_module.from_dict({"relay": {"group_leader_phone": "0912000002",
                                                "police_phone": "0912000003"}})
    volunteers.add(store, volunteers.NewVolunteer(name="Đỗ Minh Tâm", phone="0966100201", role="leader"))
    directory.upsert_resident(store, "Lê Thị Hoa", SENDERS[0], consent=Consent(True, "import", "x"))
    start = datetime.now(timezone.utc).replace(microsecond=0)
    for n in range(1000):
        sender = SENDERS[n % len(SENDERS)]
        sent_at = start + timedelta(milliseconds=55 * n)  # 1,000 within 55 s
        pdu = encode_deliver(sender, f"{TEXTS[(n // len(SENDERS)) % len(TEXTS)]} #{n}", timestamp=sent_at)
        assert inbox.store(store, decode(pdu), pdu, now=sent_at) is not None
    handled = inbox.dispatch(store, [make_handler(config)])
    assert handled == 1000
    assert store.scalar("SELECT COUNT(*) FROM inbox_messages WHERE handled_at IS NULL OR handler_error IS NOT NULL") == 0
    replies = Counter(m["to"] for m in outbox.messages(store, limit=5000) if m["to"] in SENDERS)
    assert set(replies) == set(SENDERS) and set(replies.values()) == {1}
    to_leader = outbox.messages(store, to="+84912000002", limit=5000)
    assert len(to_leader) <= len(SENDERS)  # at most one forward per sender in the minute
    tickets = Counter(t["requester_phone"] for t in help_tickets.list_tickets(store))
    assert set(tickets.values()) == {1}
    held = store.scalar("SELECT COUNT(*) FROM relay_audit WHERE outcome = 'held'")
    assert held > 0  # what was not sent is on record, and every message stays in the inbox
    assert store.scalar("SELECT COUNT(*) FROM inbox_messages") == 1000
