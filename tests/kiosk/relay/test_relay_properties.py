"""No SMS can crash the router: arbitrary Unicode (controls, zero-width, surrogates, NUL, huge
numbers) from officials', residents' and unknown numbers. Every message ends in a logged decision
and what is queued stays within max_parts."""
import tempfile
from itertools import count
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.appliance import config as config_module
from kiosk.appliance.store import open_store
from kiosk.directory import residents as directory
from kiosk.directory.residents import Consent
from kiosk.relay.router import handle, send
from sms.inbox import InboundMessage
from sms.segments import segment

PREFIXES = ["", "TB ", "KC ", "HUY ", "TT ", "NHOM ", "XN ", "DK ", "HS ", "HOTRO ", "TAMTRU ", "TB 2468 ",
            "KC 2468 hoi phu nu ", "TB 2468 TATCA ", "HUY 2468 ", "TT 2468", "NHOM 2468 ", "Hủy ", "Từ chối ",
            "TB 0000 ", "XN AAAAAA "]
ODD = st.sampled_from(["\x00", "\u200b", "\u202e", "\ufeff", "\ud800", "\udfff", "²", "٣", "9" * 30, "\n", "\t",
                       "😀", "Ǆ", "ﬁ", "\u0301", "đ", " "])
TEXT = st.lists(st.one_of(st.text(st.characters(exclude_categories=()), max_size=40), ODD), max_size=8).map("".join)
MESSAGE = st.tuples(st.sampled_from(PREFIXES), TEXT).map("".join)
SENDERS = st.one_of(
    st.sampled_from(["+84912000001", "0912000001", "+84912000004", "+84987000000", "+84987000001", "+84933000111",
                     "+84912000002", "VIETTEL", "", "+", "191"]),
    st.text(st.characters(exclude_categories=()), max_size=20))
KINDS = st.sampled_from(["international", "national", "alphanumeric", "", "unknown"])

_ids = count(1)
_folder = tempfile.TemporaryDirectory()
_db = open_store(Path(_folder.name) / "tdp.sqlite3")
for i in range(2):
    directory.upsert_resident(_db, f"Nguyễn Thị Hoa {i}", f"09870000{i:02d}", groups=["Hội phụ nữ"],
                              consent=Consent(True, "import", "x"))
CONFIG = config_module.from_dict({
    "sms": {"max_parts": 3},
    "relay": {"officials": [{"name": "Trần Văn Tổ", "phone": "0912000001", "pin": "2468"},
                            {"name": "Lê Phó", "phone": "0912000004", "pin": "1357"}],
              "group_leader_phone": "0912000002", "police_phone": "0912000003", "confirm_above": 1}})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sender=SENDERS, kind=KINDS, text=MESSAGE)
def test_any_message_ends_in_a_logged_decision_and_never_raises(sender, kind, text):
    audit_before = _db.scalar("SELECT COALESCE(MAX(id), 0) FROM relay_audit")
    outbox_before = _db.scalar("SELECT COALESCE(MAX(id), 0) FROM outbox_messages")
    message = InboundMessage(id=next(_ids), sender=sender, sender_type=kind, text=text, received_at="")
    replies = handle(_db, CONFIG, message)
    queued = send(_db, CONFIG, message, replies)
    assert _db.scalar("SELECT COUNT(*) FROM relay_audit WHERE id > ?", (audit_before,)) >= 1
    assert queued <= len(replies)
    for reply in replies:
        assert reply.kind in ("reply", "refusal", "forward", "withdrawal", "alert")
    for row in _db.query("SELECT b.part_count FROM outbox_messages m JOIN outbox_bodies b ON b.id = m.body_id "
                         "WHERE m.id > ? AND m.key LIKE 'sms-reply:%'", (outbox_before,)):
        assert row["part_count"] <= CONFIG.sms.max_parts


@settings(max_examples=200, deadline=None)
@given(text=TEXT)
def test_replies_to_the_sender_never_quote_it(text):
    """Only the leader (a forward) ever sees a resident's words; the sender gets a template (at
    most a code-shaped token, [A-Z0-9-]{1,16}, is repeated)."""
    marker = "vneid.example/" + "".join(c for c in text if c.isalnum())[:20]
    for prefix in ("HS ", "DK ", "XN ", "TB ", "HOTRO ", "TAMTRU ", ""):
        message = InboundMessage(id=next(_ids), sender="+84933000222", sender_type="international",
                                 text=prefix + marker, received_at="")
        for reply in handle(_db, CONFIG, message):
            if reply.to == "+84933000222":
                assert "vneid" not in reply.text.lower()
                assert segment(reply.text).count == 1
