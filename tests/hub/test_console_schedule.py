"""The console's Compose takes a time and a repeat; a notice's page shows its question's counts
(never who answered) and why a kiosk refused it."""
from __future__ import annotations

import re

import sqlalchemy as sa

from hub import admin, db, feed, notices

PASSWORD = "mat-khau-du-dai"


def _login(client, engine):
    admin.add_kiosk(engine, "k1", "Phường Demo")
    admin.add_official(engine, "phuong", "Lê Văn Phường", "ward", PASSWORD, ward="Phường Demo")
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"login": "phuong", "password": PASSWORD, "csrf": csrf}, follow_redirects=False)
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/compose").text).group(1)


def test_compose_schedules_a_monthly_notice_and_its_page_says_so(client, engine):
    csrf = _login(client, engine)
    form = client.get("/compose").text
    assert 'type="datetime-local" id="at" name="at"' in form and '<option value="month"' in form
    token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)
    data = {"text": "Chi trả lương hưu 8h tại nhà văn hóa", "kiosk": "k1", "group": "TATCA",
            "at": "2026-12-24T08:00", "every": "month", "csrf": csrf, "form_token": token}
    review = client.post("/compose", data={**data, "step": "review"})
    assert "Thông báo sẽ gửi lúc 08:00 ngày 24/12/2026 (giờ của kiosk), lặp lại hằng tháng." in review.text
    r = client.post("/compose", data={**data, "step": "send", "everyone_ok": "1"}, follow_redirects=False)
    assert r.status_code == 303
    notice_id = int(r.headers["location"].split("/")[2].split("?")[0])
    shown = notices.show(engine, notice_id)
    assert (shown["at"], shown["every"]) == ("2026-12-24 08:00", "month")
    assert "Gửi lúc 24/12/2026 08:00 (giờ kiosk) · lặp lại hằng tháng" in client.get(f"/notices/{notice_id}").text


def test_compose_refuses_a_bad_time_or_a_repeat_without_one(client, engine):
    csrf = _login(client, engine)
    for data, message in [({"at": "24/12/2026 8h"}, "Thời gian phải có dạng"),
                          ({"every": "month"}, "cần thời gian gửi đầu tiên"),
                          ({"at": "2026-12-24T08:00", "every": "year"}, "Lặp lại")]:
        r = client.post("/compose", data={"text": "Họp", "kiosk": "k1", "group": "TATCA", "csrf": csrf, **data})
        assert r.status_code == 400 and message in r.text
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.notices)).scalar() == 0


def test_the_notice_page_shows_answer_counts_and_refusals_only(client, engine, settings):
    _login(client, engine)
    admin.add_kiosk(engine, "k2", "Phường Demo")
    notice_id = notices.send(engine, settings, "Bác có dự họp không?", kiosks=["k1", "k2"])["id"]
    for name, body in [("k1", {"state": "done", "recipients": 3, "sent": 3, "answers": {"C": 2, "K": 1}}),
                       ("k2", {"state": "refused", "recipients": 4, "detail": "monthly SMS budget reached"})]:
        kiosk = {"id": db_id(engine, name), "name": name, "ward": "Phường Demo"}
        feed.report(engine, kiosk, notice_id, body)
    page = client.get(f"/notices/{notice_id}").text
    assert re.search(r'data-answer="C"><td[^>]*>C</td><td[^>]*>2<', page)
    assert re.search(r'data-answer="K"><td[^>]*>K</td><td[^>]*>1<', page)
    assert 'data-refused="k2">Kiosk k2 không gửi: monthly SMS budget reached' in page
    assert "Kiosk từ chối gửi" in page


def db_id(engine, name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(db.kiosks.c.id).where(db.kiosks.c.name == name)).scalar_one()
