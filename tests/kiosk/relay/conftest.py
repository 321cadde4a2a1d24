"""A ward for the relay tests: officials, a leader, residents of two groups, and a `run` helper
that goes through the router and its budget exactly as the gateway's inbox handler does."""
from itertools import count

import pytest

from kiosk.appliance import config as config_module
from kiosk.directory import residents as directory
from kiosk.directory.residents import Consent
from kiosk.relay.router import handle, send
from sms.inbox import InboundMessage

OFFICIAL = "+84912000001"
OTHER_OFFICIAL = "+84912000004"
LEADER = "+84912000002"
POLICE = "+84912000003"
_ids = count(10_000)


@pytest.fixture
def relay_config():
    return config_module.from_dict({
        "site": {"residential_group": "Tổ dân phố số 1"},
        "relay": {"officials": [{"name": "Trần Văn Tổ", "phone": "0912 000 001", "pin": "2468"},
                                {"name": "Lê Phó", "phone": "0912000004", "pin": "1357"}],
                  "group_leader_phone": "0912000002", "police_phone": "0912000003", "confirm_above": 3},
    })


@pytest.fixture
def relay_ward(store):
    """Hội phụ nữ with 3 consenting members and one who never consented; Chi bộ with 5."""
    for i in range(3):
        directory.upsert_resident(store, f"Nguyễn Thị Hoa {i}", f"09870000{i:02d}", groups=["Hội phụ nữ"],
                                  consent=Consent(True, "import", "list.xlsx"))
    directory.upsert_resident(store, "Lê Thị Không", "0987000099", groups=["Hội phụ nữ"])
    for i in range(5):
        directory.upsert_resident(store, f"Phạm Văn Bình {i}", f"09860000{i:02d}", groups=["Chi bộ"],
                                  consent=Consent(True, "import", "list.xlsx"))
    return store


def sms(sender, text, kind="international"):
    return InboundMessage(id=next(_ids), sender=sender, sender_type=kind, text=text, received_at="")


def run(store, config, sender, text, kind="international", now=None):
    """(replies, queued): what the router decided and what the budget let into the outbox."""
    message = sms(sender, text, kind)
    replies = handle(store, config, message, now=now)
    return replies, send(store, config, message, replies, now=now)
