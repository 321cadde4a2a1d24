"""The web console through the real ASGI app: login, lockout, cookies, CSRF, roles, pages, report download."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from hub import admin, db, notices

PASSWORD = "mat-khau-du-dai"


@pytest.fixture
def ward_official(engine):
    admin.add_kiosk(engine, "k1", "Phường Demo", sim_number="0981000001")
    admin.add_kiosk(engine, "k2", "Phường Demo")
    admin.add_official(engine, "phuong", "Lê Văn Phường", "ward", PASSWORD, ward="Phường Demo")
    admin.add_official(engine, "to1", "Trần Thị Tổ", "group", PASSWORD, kiosk="k1")


def login(client, name="phuong", password=PASSWORD):
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"login": name, "password": password, "csrf": csrf}, follow_redirects=False)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_pages_need_a_login(client):
    r = client.get("/kiosks", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.post("/console/api/segments", json={"text": "x"}).status_code == 401


def test_login_sets_httponly_samesite_cookie_secure_only_over_https(app, client, ward_official):
    r = login(client)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "tdp_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie
    with TestClient(app, base_url="https://testserver") as secure_client:
        assert "Secure" in login(secure_client).headers["set-cookie"]
    assert "Lê Văn Phường" in client.get("/kiosks").text


def test_login_form_without_csrf_is_refused(client, ward_official):
    client.get("/login")
    r = client.post("/login", data={"login": "phuong", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403 and "tdp_session" not in r.headers.get("set-cookie", "")


def test_repeated_wrong_passwords_lock_the_address_with_the_same_message(client, ward_official, engine, settings):
    wrong = [login(client, password="wrong-password") for _ in range(settings.login_max_failures)]
    assert {r.status_code for r in wrong} == {401}
    assert len({re.search(r'class="error"[^>]*>(.*?)<', r.text, re.S).group(1) for r in wrong}) == 1
    refused = login(client)                      # even the right password, while this address is locked
    assert refused.status_code == 401 and "từ địa chỉ này" in refused.text
    with db.write(engine) as conn:
        conn.execute(db.login_throttle.update().values(locked_until=db.now() - 1))
    assert login(client).status_code == 303
    actions = [r["action"] for r in admin.audit_log(engine)]
    assert actions.count("console.login_failed") == settings.login_max_failures + 1


def test_compose_needs_the_csrf_token(client, ward_official, engine):
    login(client)
    r = client.post("/compose", data={"text": "Tin giả", "kiosk": "k1", "group": "TATCA", "csrf": "nope"})
    assert r.status_code == 403
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.notices)).scalar() == 0


def test_ward_official_composes_for_two_kiosks_and_sees_counts(client, ward_official, engine):
    login(client)
    form = client.get("/compose").text
    r = client.post("/compose", data={"text": "Họp Hội phụ nữ 19h", "kiosk": ["k1", "k2"], "group": "HPN",
                                      "csrf": csrf_of(form)}, follow_redirects=False)
    assert r.status_code == 303
    notice_id = int(r.headers["location"].split("/")[2].split("?")[0])
    shown = notices.show(engine, notice_id)
    assert shown["group"] == "HPN" and [k["name"] for k in shown["kiosks"]] == ["k1", "k2"]
    with db.write(engine) as conn:
        conn.execute(db.deliveries.update().where(db.deliveries.c.kiosk_id == 1)
                     .values(state="queued", recipients=7, sent=5, delivered=4, failed=1))
    listing = client.get("/notices").text
    assert "Họp Hội phụ nữ 19h" in listing
    assert re.search(r'data-kiosk="k1">.*?recipients">7<.*?sent">5<.*?delivered">4<.*?failed">1<', listing, re.S)
    assert any(a["action"] == "notice.send" and a["actor"] == "phuong" for a in admin.audit_log(engine))


def test_compose_errors_are_shown_and_nothing_is_written(client, ward_official, engine):
    login(client)
    csrf = csrf_of(client.get("/compose").text)
    for data, message in [({"text": "  ", "kiosk": "k1"}, "Nội dung thông báo đang trống"),
                          ({"text": "Dài quá " * 120, "kiosk": "k1"}, "tối đa 10: hãy rút gọn hoặc gửi không dấu"),
                          ({"text": "Không chọn kiosk"}, "Hãy chọn ít nhất một kiosk"),
                          ({"text": "Hạn sai", "kiosk": "k1", "expires": "mai"}, "Thời hạn phải là số giờ")]:
        r = client.post("/compose", data={**data, "group": "TATCA", "csrf": csrf})
        assert r.status_code == 400 and message in r.text
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.notices)).scalar() == 0


def test_group_leader_sees_and_targets_only_their_kiosk(client, ward_official, engine):
    login(client, "to1")
    page = client.get("/kiosks").text
    assert 'data-kiosk="k1"' in page and 'data-kiosk="k2"' not in page
    csrf = csrf_of(client.get("/compose").text)
    r = client.post("/compose", data={"text": "Vượt quyền", "kiosk": "k2", "group": "TATCA", "csrf": csrf})
    assert r.status_code == 400 and "chỉ được gửi tới kiosk mình quản lý" in r.text
    other = notices.send(engine, admin_settings(client), "Của phường", kiosks=["k2"])["id"]
    assert client.get(f"/notices/{other}").status_code == 404


def admin_settings(client):
    return client.app.state.hub.settings


def test_live_part_count_cost_and_unaccented_option(client, ward_official):
    login(client)
    csrf = csrf_of(client.get("/compose").text)
    text = "Thông báo: ngày mai cắt nước toàn phường từ 8 giờ đến 17 giờ, bà con chủ động trữ nước."
    headers = {"X-CSRF-Token": csrf}
    accented = client.post("/console/api/segments", json={"text": text}, headers=headers).json()
    plain = client.post("/console/api/segments", json={"text": text, "unaccented": True}, headers=headers).json()
    assert accented["encoding"] == "ucs2" and accented["parts"] == 2
    assert plain["encoding"] == "gsm7" and plain["parts"] == 1
    assert accented["cost_per_recipient"] == 2 * admin_settings(client).price_per_part
    assert client.post("/console/api/segments", json={"text": text}).status_code == 403


def test_urgent_notice_for_an_offline_kiosk_shows_the_sms_relay_command(client, ward_official, engine):
    login(client)
    k2 = admin.kiosk_by_name(engine, "k2")
    with db.write(engine) as conn:   # k2 heartbeats; k1 never did, so it is offline
        conn.execute(db.kiosks.update().where(db.kiosks.c.id == k2["id"]).values(last_seen=db.now()))
    csrf = csrf_of(client.get("/compose").text)
    r = client.post("/compose", data={"text": "Cháy chợ, tránh khu vực", "kiosk": ["k1", "k2"], "group": "TV",
                                      "urgent": "1", "csrf": csrf})
    assert r.status_code == 200
    assert 'data-relay="k1"' in r.text and 'data-relay="k2"' not in r.text
    assert "KC &lt;PIN&gt; TV Cháy chợ, tránh khu vực" in r.text and "0981000001" in r.text
    assert "dài 1 tin nhắn" in r.text
    relay = client.post("/console/api/segments", json={"text": "Cháy chợ", "group": "TV", "urgent": True},
                        headers={"X-CSRF-Token": csrf}).json()["relay"]
    assert relay == {"command": "KC <PIN> TV Cháy chợ", "parts": 1, "encoding": "ucs2"}


def test_cancel_from_the_console(client, ward_official, engine):
    login(client)
    notice_id = notices.send(engine, admin_settings(client), "Sẽ hủy", kiosks=["k1"])["id"]
    page = client.get(f"/notices/{notice_id}").text
    r = client.post(f"/notices/{notice_id}/cancel", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303 and notices.show(engine, notice_id)["cancelled"] is True


def test_report_page_and_xlsx_download(client, ward_official, engine):
    from datetime import date
    from openpyxl import load_workbook
    today = date.today().isoformat()
    with db.write(engine) as conn:
        conn.execute(db.daily_stats.insert(), [
            {"kiosk_id": 1, "day": today, "requests": 10, "requests_online": 9, "help_tickets": 2, "sms_parts": 30,
             "updated_at": db.now()},
            {"kiosk_id": 2, "day": today, "requests": 10, "requests_online": 5, "help_tickets": 1, "sms_parts": 12,
             "updated_at": db.now()}])
    login(client)
    page = client.get("/report").text
    assert "90%" in page and "50%" in page and "<svg" in page and "mục tiêu 80%" in page
    r = client.get("/report.xlsx?days=7")
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(r.content))
    kiosk_rows = list(book["Theo kiosk"].iter_rows(min_row=3, values_only=True))
    assert kiosk_rows == [("k1", "Phường Demo", 10, 9, 0.9, "Đạt", 2, 30), ("k2", "Phường Demo", 10, 5, 0.5, "Chưa đạt", 1, 12)]
    assert list(book["Theo phường"].iter_rows(min_row=3, values_only=True)) == [
        ("Phường Demo", 2, 20, 14, 0.7, "Chưa đạt", 3, 42)]


def test_audit_page_lists_actions_and_logout_ends_the_session(client, ward_official):
    login(client)
    page = client.get("/audit").text
    assert "console.login" in page and "kiosk.add" in page
    client.post("/logout", data={"csrf": csrf_of(page)})
    assert client.get("/audit", follow_redirects=False).status_code == 303


def test_security_headers_and_html_404(client, ward_official):
    login(client)
    r = client.get("/kiosks")
    assert r.headers["x-frame-options"] == "DENY" and "default-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/nope").status_code == 404


def test_ward_official_sees_only_the_kiosks_of_their_ward(client, ward_official, engine):
    admin.add_kiosk(engine, "other", "Phường Khác")
    login(client)
    page = client.get("/kiosks").text
    assert 'data-kiosk="k1"' in page and 'data-kiosk="other"' not in page
    csrf = csrf_of(client.get("/compose").text)
    r = client.post("/compose", data={"text": "Sang phường khác", "kiosk": "other", "group": "TATCA", "csrf": csrf})
    assert r.status_code == 400
    assert notices.recent(engine) == []


def test_compose_offers_the_groups_the_kiosks_reported(client, ward_official, engine):
    with db.write(engine) as conn:
        conn.execute(db.kiosks.update().where(db.kiosks.c.name == "k1").values(
            heartbeat='{"groups": [{"code": "CLB", "name": "CLB dưỡng sinh", "consenting": 12}]}'))
    login(client)
    page = client.get("/compose").text
    assert '<option value="CLB"' in page and "CLB dưỡng sinh" in page and '<option value="TATCA"' in page
    assert "CLB 12" in client.get("/kiosks").text
