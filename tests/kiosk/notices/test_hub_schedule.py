"""Hub notices with a time, a repeat and a question, through a live hub on a real socket: each
kiosk schedules them in its own timezone, counts the replies, and sends back counts only."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from hub import admin, db as hub_db, notices as hub_notices
from hub.app import create_app
from hub.settings import HubSettings
from kiosk.appliance import config as config_module
from kiosk.appliance.store import open_store
from kiosk.directory import residents as directory
from kiosk.directory.residents import Consent
from kiosk.notices import schedule
from kiosk.relay.router import handle
from kiosk.sync import Sync
from sms.inbox import InboundMessage
from tests.hub.conftest import LiveHub

MEMBERS = {"+84987000000": "Nguyễn Thị Hoa", "+84987000001": "Trần Thị Lan", "+84987000002": "Lê Thị Mai"}


@pytest.fixture
def hub(tmp_path):
    settings = HubSettings(database=f"sqlite:///{tmp_path / 'hubside' / 'hub.sqlite3'}", change_check_seconds=0)
    engine = hub_db.open_hub(settings.database)
    live = LiveHub(create_app(settings, engine)).start()
    live.settings, live.engine, live.path = settings, engine, tmp_path / "hubside"
    yield live
    live.stop()
    engine.dispose()


def _kiosk(tmp_path, hub, name: str, zone: str):
    token = admin.add_kiosk(hub.engine, name, "Phường Demo")["token"]
    config = config_module.from_dict({"storage": {"path": str(tmp_path / name / "tdp.sqlite3")},
                                      "site": {"timezone": zone},
                                      "hub": {"url": hub.url, "token": token, "poll_seconds": 1}})
    store = open_store(config.storage.path)
    for phone, name_ in MEMBERS.items():
        directory.upsert_resident(store, name_, phone, groups=["Hội phụ nữ"], consent=Consent(True, "import"))
    return config, store


def test_kiosks_honour_the_hubs_time_in_their_own_timezone_and_report_answer_counts(tmp_path, hub):
    hanoi, hanoi_db = _kiosk(tmp_path, hub, "tdp-hanoi", "Asia/Ho_Chi_Minh")
    paris, paris_db = _kiosk(tmp_path, hub, "tdp-paris", "Europe/Paris")
    day = (datetime.now(timezone.utc) + timedelta(days=5)).date()
    at = f"{day.isoformat()} 08:00"
    notice_id = hub_notices.send(hub.engine, hub.settings, "Họp Hội phụ nữ sáng nay, chị có dự không?", group="HPN",
                                 at=at, every="month", ask="C=Có;K=Không")["id"]
    for config, store in ((hanoi, hanoi_db), (paris, paris_db)):
        assert Sync(store, config).run_once()["queued"] == [notice_id]
        (local,) = schedule.list_sends(store)
        assert (local["source"], local["next"], local["every"]) == ("hub", at, "month")
    due = {z: datetime.combine(day, datetime.min.time().replace(hour=8), ZoneInfo(z)).astimezone(timezone.utc)
           for z in ("Asia/Ho_Chi_Minh", "Europe/Paris")}
    assert due["Europe/Paris"] - due["Asia/Ho_Chi_Minh"] >= timedelta(hours=6)
    # Hanoi's 08:00 comes; Paris's has not yet.
    assert len(schedule.run_due(hanoi_db, hanoi, due["Asia/Ho_Chi_Minh"] + timedelta(seconds=5))) == 1
    assert schedule.run_due(paris_db, paris, due["Asia/Ho_Chi_Minh"] + timedelta(seconds=5)) == []
    for phone, reply in zip(MEMBERS, ["Có ạ", "khong nhe", "c"]):
        handle(hanoi_db, hanoi, InboundMessage(id=0, sender=phone, sender_type="international", text=reply,
                                               received_at=""), now=due["Asia/Ho_Chi_Minh"] + timedelta(minutes=5))
    sync = Sync(hanoi_db, hanoi)
    sync.run_once()
    shown = hub_notices.show(hub.engine, notice_id)
    by_kiosk = {k["name"]: k for k in shown["kiosks"]}
    assert by_kiosk["tdp-hanoi"]["answers"] == {"C": 2, "K": 1} and by_kiosk["tdp-hanoi"]["recipients"] == 3
    assert shown["answers"] == {"C": 2, "K": 1} and (shown["at"], shown["every"]) == (at, "month")
    # Counts only: no resident's name or number anywhere in the hub's database.
    hub.engine.dispose()
    raw = b"".join(p.read_bytes() for p in hub.path.glob("hub.sqlite3*"))
    with hub.engine.connect() as conn:
        dumped = "\n".join(str(tuple(row)) for table in hub_db.metadata.sorted_tables
                           for row in conn.execute(sa.select(table))).encode()
    assert b"C=C" in dumped   # the search does see the hub's data
    for phone, name in MEMBERS.items():
        for form in (phone, phone.lstrip("+"), "0" + phone[3:], name):
            assert form.encode() not in raw and form.encode() not in dumped, f"{form!r} leaked to the hub"


def test_a_cancel_on_the_hub_stops_the_kiosks_schedule(tmp_path, hub):
    config, store = _kiosk(tmp_path, hub, "tdp1", "Asia/Ho_Chi_Minh")
    day = (datetime.now(timezone.utc) + timedelta(days=2)).date()
    notice_id = hub_notices.send(hub.engine, hub.settings, "Treo cờ Tết", at=f"{day} 07:00", every="day")["id"]
    sync = Sync(store, config)
    sync.run_once()
    hub_notices.cancel(hub.engine, notice_id)
    sync.run_once()
    (local,) = schedule.list_sends(store)
    assert local["state"] == "cancelled" and local["next"] is None
    assert schedule.run_due(store, config, datetime.now(timezone.utc) + timedelta(days=10)) == []


def test_a_hub_notice_with_fields_is_filled_on_the_kiosk_from_its_directory(tmp_path, hub):
    config, store = _kiosk(tmp_path, hub, "tdp1", "Asia/Ho_Chi_Minh")
    notice_id = hub_notices.send(hub.engine, hub.settings, "Kính gửi {ho_ten}: họp tổ 19h", group="HPN")["id"]
    Sync(store, config).run_once()
    from sms import outbox
    texts = sorted(m["text"] for m in outbox.messages(store))
    assert texts == sorted(f"Kính gửi {name}: họp tổ 19h" for name in MEMBERS.values())
    assert hub_notices.show(hub.engine, notice_id)["kiosks"][0]["recipients"] == 3
    bad = hub_notices.send(hub.engine, hub.settings, "Kính gửi {ten}", group="HPN")["id"]
    Sync(store, config).run_once()
    (k,) = hub_notices.show(hub.engine, bad)["kiosks"]
    assert k["state"] == "refused" and "unknown field {ten}" in k["detail"]
