"""The kiosk API /api/v1 through the real ASGI app and a real SQLite hub database."""
from __future__ import annotations

import json
import threading
import time

import pytest
import sqlalchemy as sa

from hub import admin, db, notices
from hub.app import create_app

from .conftest import wait_for

# Every API test runs on SQLite and on a real PostgreSQL (a throwaway cluster; see pg.py).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def delivery_state(engine, notice_id, kiosk="k1"):
    with engine.connect() as conn:
        return conn.execute(sa.select(db.deliveries.c.state).join(db.kiosks, db.kiosks.c.id == db.deliveries.c.kiosk_id)
                            .where(db.deliveries.c.notice_id == notice_id, db.kiosks.c.name == kiosk)).scalar()


def test_wrong_missing_and_revoked_tokens_get_401(client, engine, kiosk_token):
    assert client.get("/api/v1/notices").status_code == 401
    assert client.get("/api/v1/notices", headers=bearer("x" * 43)).status_code == 401
    assert client.get("/api/v1/notices", headers=bearer(kiosk_token)).status_code == 200
    admin.revoke_kiosk(engine, "k1")
    response = client.get("/api/v1/notices", headers=bearer(kiosk_token))
    assert response.status_code == 401 and "revoked" in response.json()["error"]


def test_revoked_token_stops_idle_polls_within_the_change_check(client, engine, settings, kiosk_token):
    tag = client.get("/api/v1/notices", headers=bearer(kiosk_token)).headers["ETag"]
    idle = {**bearer(kiosk_token), "If-None-Match": tag}
    assert client.get("/api/v1/notices", headers=idle).status_code == 304
    admin.revoke_kiosk(engine, "k1")
    wait_for(lambda: client.get("/api/v1/notices", headers=idle).status_code == 401,
             timeout=settings.change_check_seconds + 2)


def test_fetch_hands_a_notice_once_then_304_with_the_etag(client, engine, settings, kiosk_token):
    first = client.get("/api/v1/notices", headers=bearer(kiosk_token))
    tag = first.headers["ETag"]
    assert first.json()["notices"] == []
    assert client.get("/api/v1/notices", headers={**bearer(kiosk_token), "If-None-Match": tag}).status_code == 304
    notice_id = notices.send(engine, settings, "Họp tổ lúc 19h", group="HPN", urgent=True)["id"]
    changed = wait_for(lambda: (r := client.get("/api/v1/notices", headers={**bearer(kiosk_token),
                                                                            "If-None-Match": tag})).status_code
                       == 200 and r, timeout=settings.change_check_seconds + 2)
    assert changed.headers["ETag"] != tag
    (notice,) = changed.json()["notices"]
    assert notice["id"] == notice_id and notice["text"] == "Họp tổ lúc 19h"
    assert notice["group"] == "HPN" and notice["urgent"] is True
    assert delivery_state(engine, notice_id) == "fetched"
    again = client.get("/api/v1/notices", headers=bearer(kiosk_token))
    assert again.json()["notices"] == []


def test_a_kiosk_sees_and_reports_only_its_own_notices(client, engine, settings, kiosk_token):
    other = admin.add_kiosk(engine, "k2")["token"]
    notice_id = notices.send(engine, settings, "Chỉ cho k2", kiosks=["k2"])["id"]
    assert client.get("/api/v1/notices", headers=bearer(kiosk_token)).json()["notices"] == []
    refused = client.post(f"/api/v1/notices/{notice_id}/report", headers=bearer(kiosk_token),
                          json={"state": "queued", "recipients": 5})
    assert refused.status_code == 404
    assert [n["id"] for n in client.get("/api/v1/notices", headers=bearer(other)).json()["notices"]] == [notice_id]


def test_reports_update_the_notice_counts(client, engine, settings, kiosk_token):
    notice_id = notices.send(engine, settings, "Thông báo", kiosks=["k1"])["id"]
    client.get("/api/v1/notices", headers=bearer(kiosk_token))
    r = client.post(f"/api/v1/notices/{notice_id}/report", headers=bearer(kiosk_token),
                    json={"state": "done", "recipients": 12, "sent": 11, "delivered": 9, "failed": 1,
                          "answers": {"C": 7, "K": 2}})
    assert r.status_code == 200, r.text
    shown = notices.show(engine, notice_id)
    assert shown["kiosks"] == [{"name": "k1", "state": "done", "recipients": 12, "sent": 11, "delivered": 9,
                                "failed": 1, "answers": {"C": 7, "K": 2}, "detail": ""}]
    assert shown["answers"] == {"C": 7, "K": 2}


@pytest.mark.parametrize("body, status, message", [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (json.dumps({"state": "bogus"}).encode(), 400, "state must be"),
    (json.dumps({"state": "done", "sent": -1}).encode(), 400, "sent must be"),
    (json.dumps({"state": "done", "answers": {"Nguyễn Văn An": 1}}).encode(), 400, "answer code"),
    (json.dumps({"state": "done", "answers": {"C": -1}}).encode(), 400, "C must be"),
    (json.dumps({"state": "done", "answers": ["C"]}).encode(), 400, "answers must be"),
    (json.dumps({"state": "done", "pad": "x" * 70_000}).encode(), 413, "at most 65536"),
])
def test_bad_report_bodies_get_4xx_and_change_nothing(client, engine, settings, kiosk_token, body, status, message):
    notice_id = notices.send(engine, settings, "Thông báo", kiosks=["k1"])["id"]
    client.get("/api/v1/notices", headers=bearer(kiosk_token))
    r = client.post(f"/api/v1/notices/{notice_id}/report", content=body,
                    headers={**bearer(kiosk_token), "Content-Type": "application/json"})
    assert r.status_code == status and message in r.json()["error"]
    assert delivery_state(engine, notice_id) == "fetched"
    assert notices.show(engine, notice_id)["kiosks"][0]["recipients"] == 0


def test_heartbeat_marks_online_and_keeps_only_known_fields(client, engine, settings, kiosk_token):
    body = {"version": "0.1.0", "uptime_s": 3600, "queue_depth": 4, "printer": "ready", "disk_free_mb": 900,
            "modem": [{"port": "emulator", "state": "ok", "signal": 21, "imsi": "452040000000001"}],
            "resident_name": "Nguyễn Văn A", "phone": "0912345678"}
    r = client.post("/api/v1/heartbeat", headers=bearer(kiosk_token), json=body)
    assert r.status_code == 200 and r.json()["heartbeat_seconds"] == settings.heartbeat_seconds
    (row,) = admin.list_kiosks(engine, settings)
    assert row["online"] is True and row["last_seen"]
    assert row["heartbeat"] == {"version": "0.1.0", "uptime_s": 3600, "queue_depth": 4, "printer": "ready",
                                "disk_free_mb": 900, "modem": [{"port": "emulator", "state": "ok", "signal": 21}]}


def test_kiosk_goes_offline_after_missed_heartbeats(client, engine, settings, kiosk_token):
    client.post("/api/v1/heartbeat", headers=bearer(kiosk_token), json={"version": "x"})
    row = admin.kiosk_by_name(engine, "k1")
    later = row["last_seen"] + settings.heartbeat_seconds * settings.offline_after_missed + 1
    assert admin.is_online(row, settings, row["last_seen"] + settings.heartbeat_seconds)
    assert not admin.is_online(row, settings, later)


def test_expired_notice_is_not_handed_out(client, engine, settings, kiosk_token):
    notice_id = notices.send(engine, settings, "Hết hạn", kiosks=["k1"], expires_in_hours=1)["id"]
    with db.write(engine) as conn:
        conn.execute(db.notices.update().values(expires_at=db.now() - 1))
    assert client.get("/api/v1/notices", headers=bearer(kiosk_token)).json()["notices"] == []
    assert delivery_state(engine, notice_id) == "expired"


def test_cancelled_notice_is_listed_for_the_kiosk(client, engine, settings, kiosk_token):
    notice_id = notices.send(engine, settings, "Hủy", kiosks=["k1"])["id"]
    client.get("/api/v1/notices", headers=bearer(kiosk_token))
    notices.cancel(engine, notice_id)
    body = client.get("/api/v1/notices", headers=bearer(kiosk_token)).json()
    assert body["notices"] == [] and body["cancelled"] == [notice_id]


def test_unacknowledged_notice_is_handed_again_after_the_lease(client, engine, settings, kiosk_token):
    settings.handout_lease_seconds = 0
    notice_id = notices.send(engine, settings, "Lặp lại", kiosks=["k1"])["id"]
    assert [n["id"] for n in client.get("/api/v1/notices", headers=bearer(kiosk_token)).json()["notices"]] == [notice_id]
    assert [n["id"] for n in client.get("/api/v1/notices", headers=bearer(kiosk_token)).json()["notices"]] == [notice_id]
    client.post(f"/api/v1/notices/{notice_id}/report", headers=bearer(kiosk_token), json={"state": "queued"})
    assert client.get("/api/v1/notices", headers=bearer(kiosk_token)).json()["notices"] == []


def test_daily_totals_are_upserted_and_validated(client, engine, kiosk_token):
    day = {"day": "2026-11-20", "requests": 10, "requests_online": 8, "help_tickets": 3, "sms_parts": 40}
    assert client.post("/api/v1/daily", headers=bearer(kiosk_token), json={"days": [day]}).status_code == 200
    assert client.post("/api/v1/daily", headers=bearer(kiosk_token),
                       json={"days": [{**day, "requests": 12}]}).status_code == 200
    with engine.connect() as conn:
        rows = conn.execute(sa.select(db.daily_stats.c.day, db.daily_stats.c.requests)).all()
    assert [tuple(r) for r in rows] == [("2026-11-20", 12)]
    bad = client.post("/api/v1/daily", headers=bearer(kiosk_token), json={"days": [{**day, "requests_online": 99}]})
    assert bad.status_code == 400 and "more than requests" in bad.json()["error"]
    assert client.post("/api/v1/daily", headers=bearer(kiosk_token), json={"days": [{"day": "20/11"}]}).status_code == 400


def test_unknown_endpoint_is_json_404(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404 and "no such API endpoint" in r.json()["error"]


def test_two_hub_processes_never_hand_one_notice_to_one_kiosk_twice(settings, engine, kiosk_token):
    """Two apps with their own engines (as two processes would have) race on one database."""
    from starlette.testclient import TestClient
    ids = [notices.send(engine, settings, f"Thông báo {i}", kiosks=["k1"])["id"] for i in range(20)]
    second_engine = db.open_hub(settings.database)
    handed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def poll(app):
        with TestClient(app) as c:
            barrier.wait()
            for _ in range(5):
                got = [n["id"] for n in c.get("/api/v1/notices", headers=bearer(kiosk_token)).json()["notices"]]
                with lock:
                    handed.extend(got)

    apps = [create_app(settings, engine), create_app(settings, second_engine)]
    threads = [threading.Thread(target=poll, args=(apps[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    second_engine.dispose()
    assert sorted(handed) == ids


def test_long_poll_answers_as_soon_as_a_notice_is_sent(client, engine, settings, kiosk_token):
    tag = client.get("/api/v1/notices", headers=bearer(kiosk_token)).headers["ETag"]
    idle = {**bearer(kiosk_token), "If-None-Match": tag}
    started = time.monotonic()
    assert client.get("/api/v1/notices?wait=0.6", headers=idle).status_code == 304
    assert time.monotonic() - started >= 0.6                       # held for the whole wait
    sender = threading.Timer(0.3, lambda: notices.send(engine, settings, "Tin đến ngay", kiosks=["k1"]))
    started = time.monotonic()
    sender.start()
    r = client.get("/api/v1/notices?wait=10", headers=idle)
    elapsed = time.monotonic() - started
    sender.join()
    assert r.status_code == 200 and [n["text"] for n in r.json()["notices"]] == ["Tin đến ngay"]
    assert elapsed < 0.3 + settings.change_check_seconds + 1.5
    bad = client.get("/api/v1/notices?wait=soon", headers=idle)
    assert bad.status_code == 400 and "wait" in bad.json()["error"]


def test_a_stranger_gets_401_before_any_body_check(client):
    r = client.post("/api/v1/heartbeat", content=b"{broken", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
