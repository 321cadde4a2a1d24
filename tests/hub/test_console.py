"""The web console through the real ASGI app: login, lockout, cookies, CSRF, roles, pages, report download."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from hypothesis import given, settings as hypothesis_settings, strategies as st
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


def token_of(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def send_form(client, data: dict, *, step: str = "send"):
    """Compose as the console does: a fresh form (its CSRF and one-time token), then review, then send."""
    form = client.get("/compose").text
    data = {"csrf": csrf_of(form), "form_token": token_of(form), **data}
    review = client.post("/compose", data={**data, "step": "review"})
    if review.status_code != 200 or step == "review":
        return review
    return client.post("/compose", data={**data, "step": step}, follow_redirects=False)


def test_pages_need_a_login(client):
    r = client.get("/kiosks", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/kiosks"
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
    r = send_form(client, {"text": "Họp Hội phụ nữ 19h", "kiosk": ["k1", "k2"], "group": "HPN"})
    assert r.status_code == 303
    notice_id = int(r.headers["location"].split("/")[2].split("?")[0])
    shown = notices.show(engine, notice_id)
    assert shown["group"] == "HPN" and [k["name"] for k in shown["kiosks"]] == ["k1", "k2"]
    with db.write(engine) as conn:
        conn.execute(db.deliveries.update().where(db.deliveries.c.kiosk_id == 1)
                     .values(state="queued", recipients=7, sent=5, delivered=4, failed=1))
    listing = client.get("/notices").text
    assert "Họp Hội phụ nữ 19h" in listing and "Không gửi được 1" in listing
    listing = client.get(f"/notices/{notice_id}").text
    assert re.search(r'data-kiosk="k1"[^>]*>.*?recipients">7<.*?sent">5<.*?delivered">4<.*?failed">1<', listing, re.S)
    assert any(a["action"] == "notice.send" and a["actor"] == "phuong" for a in admin.audit_log(engine))


def test_compose_errors_are_shown_and_nothing_is_written(client, ward_official, engine):
    login(client)
    for data, message in [({"text": "  ", "kiosk": "k1"}, "Nội dung thông báo đang trống"),
                          ({"text": "Dài quá " * 120, "kiosk": "k1"}, "vượt mức tối đa 10 tin. Hãy rút gọn hoặc chọn gửi không dấu"),
                          ({"text": "Không chọn kiosk"}, "Hãy chọn ít nhất một kiosk"),
                          ({"text": "Hạn sai", "kiosk": "k1", "expires": "mai"}, "Thời hạn phải là một số giờ")]:
        r = send_form(client, {**data, "group": "TATCA"})
        assert r.status_code == 400 and message in r.text
    r = send_form(client, {"text": "Không chọn nhóm", "kiosk": "k1"})      # no default group
    assert r.status_code == 400 and "Hãy chọn nhóm nhận tin" in r.text
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.notices)).scalar() == 0


def test_group_leader_sees_and_targets_only_their_kiosk(client, ward_official, engine):
    login(client, "to1")
    page = client.get("/kiosks").text
    assert 'data-kiosk="k1"' in page and 'data-kiosk="k2"' not in page
    r = send_form(client, {"text": "Vượt quyền", "kiosk": "k2", "group": "TATCA"})
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
    r = send_form(client, {"text": "Cháy chợ, tránh khu vực", "kiosk": ["k1", "k2"], "group": "TV", "urgent": "1"})
    assert r.status_code == 303
    r = client.get(r.headers["location"])
    assert 'data-relay="k1"' in r.text and 'data-relay="k2"' not in r.text
    assert "KC &lt;PIN&gt; TV Cháy chợ, tránh khu vực" in r.text and "0981 000 001" in r.text
    assert 'href="sms:0981000001?body=KC%20%3CPIN%3E%20TV' in r.text
    assert "dài 1 tin (tính cước" in r.text and "không phải mật khẩu đăng nhập" in r.text and "XN" in r.text
    relay = client.post("/console/api/segments", json={"text": "Cháy chợ", "group": "TV", "urgent": True},
                        headers={"X-CSRF-Token": csrf}).json()["relay"]
    assert relay == {"command": "KC <PIN> TV Cháy chợ", "parts": 1, "encoding": "ucs2"}


def test_cancel_from_the_console(client, ward_official, engine):
    login(client)
    notice_id = notices.send(engine, admin_settings(client), "Sẽ hủy", kiosks=["k1"])["id"]
    with db.write(engine) as conn:   # every SMS already sent: the board must still be told
        conn.execute(db.deliveries.update().values(state="done", recipients=3, sent=3))
    page = client.get(f"/notices/{notice_id}/cancel").text
    assert "Tin đã gửi không thu hồi được" in page and notices.show(engine, notice_id)["cancelled"] is False
    r = client.post(f"/notices/{notice_id}/cancel", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303 and notices.show(engine, notice_id)["cancelled"] is True
    assert notices.show(engine, notice_id)["kiosks"][0]["state"] == "cancelled"
    assert "đã gỡ khỏi bảng tin" in client.get(f"/notices/{notice_id}").text


def test_report_page_and_xlsx_download(client, ward_official, engine):
    from openpyxl import load_workbook
    from hub import times
    today = times.today(admin_settings(client).timezone).isoformat()
    with db.write(engine) as conn:
        conn.execute(db.daily_stats.insert(), [
            {"kiosk_id": 1, "day": today, "requests": 10, "requests_online": 9, "help_tickets": 2, "sms_parts": 30,
             "updated_at": db.now()},
            {"kiosk_id": 2, "day": today, "requests": 10, "requests_online": 5, "help_tickets": 1, "sms_parts": 12,
             "updated_at": db.now()}])
    login(client)
    page = client.get("/report").text
    assert "90%" in page and "50%" in page and "<svg" in page and "mục tiêu 80%" in page
    assert f"đến {times.day(today)}</h1>" in page and "Chi phí ước tính: <strong>14.700 đ" in page
    r = client.get("/report.xlsx?days=7")
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(r.content))
    kiosk_rows = list(book["Theo kiosk"].iter_rows(min_row=3, values_only=True))
    assert kiosk_rows == [("k1", "Phường Demo", 10, 9, 0.9, "Đạt", 2, 30, 10500),
                          ("k2", "Phường Demo", 10, 5, 0.5, "Chưa đạt", 1, 12, 4200)]
    assert list(book["Theo phường"].iter_rows(min_row=3, values_only=True)) == [
        ("Phường Demo", 2, 20, 14, 0.7, "Chưa đạt", 3, 42, 14700)]


def test_audit_page_lists_actions_and_logout_ends_the_session(client, ward_official):
    login(client)
    page = client.get("/audit").text
    assert "Đăng nhập" in page and "Lê Văn Phường" in page and "console.login" not in page
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
    r = send_form(client, {"text": "Sang phường khác", "kiosk": "other", "group": "TATCA"})
    assert r.status_code == 400
    assert notices.recent(engine) == []


def test_compose_offers_the_groups_the_kiosks_reported(client, ward_official, engine):
    with db.write(engine) as conn:
        conn.execute(db.kiosks.update().where(db.kiosks.c.name == "k1").values(
            heartbeat='{"groups": [{"code": "CLB", "name": "CLB dưỡng sinh", "consenting": 12}]}', last_seen=db.now()))
    login(client)
    page = client.get("/compose").text
    assert '<option value="CLB"' in page and "CLB dưỡng sinh – 12 người" in page and '<option value="TATCA"' in page
    assert "CLB dưỡng sinh 12" in client.get("/kiosks").text


def test_two_concurrent_posts_of_one_form_make_one_notice(ward_official, engine, settings):
    import threading
    results, token = [], "t" * 32
    barrier = threading.Barrier(4)

    def post():
        barrier.wait()
        results.append(notices.send(engine, settings, "Một lần thôi", kiosks=["k1"], form_token=token)["id"])
    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(notices.recent(engine)) == 1


def _heartbeat(engine, name, seen, **fields):
    import json
    with db.write(engine) as conn:
        conn.execute(db.kiosks.update().where(db.kiosks.c.name == name).values(
            last_seen=seen, heartbeat=json.dumps({"groups": [{"code": "HPN", "name": "Hội phụ nữ", "consenting": 44},
                                                             {"code": "TATCA", "name": "Tất cả", "consenting": 94}],
                                                  **fields}, ensure_ascii=False)))


def test_kiosk_cards_say_since_when_what_to_check_and_whom_to_call(client, ward_official, engine, settings):
    from hub import times
    two_hours_ago = db.now() - 7200
    _heartbeat(engine, "k1", two_hours_ago, duty_name="Hoa", duty_phone="0912345678",
               modem=[{"state": "dead", "signal": 3, "operator": "Viettel"}])
    login(client)
    page = client.get("/kiosks").text
    k1 = page.split('data-kiosk="k1"')[1].split('data-kiosk="k2"')[0]
    assert f"Mất kết nối từ {times.display(two_hours_ago, settings.timezone)} (2 giờ trước)" in k1
    assert "Kiểm tra kiosk còn điện" in k1 and "SIM của kiosk còn tiền" in k1
    assert 'href="tel:0912345678"' in k1 and "Hoa" in k1
    assert "Sóng yếu – bộ phận nhắn tin không hoạt động" in k1 and "dead" not in k1
    assert "Số điện thoại của kiosk: 0981 000 001" in k1
    k2 = page.split('data-kiosk="k2"')[1]
    assert "Chưa kết nối lần nào (kiosk chưa cài đặt xong)" in k2 and "Mất kết nối" not in k2


def test_quiet_hours_are_said_in_compose_and_on_the_notice(client, ward_official, engine, settings):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo
    now = datetime.now(ZoneInfo(settings.timezone))
    settings.quiet_start = (now - timedelta(hours=1)).strftime("%H:%M")
    settings.quiet_end = (now + timedelta(hours=2)).strftime("%H:%M")
    _heartbeat(engine, "k1", db.now())
    login(client)
    assert "Bây giờ là giờ nghỉ đêm" in client.get("/compose").text
    notice_id = notices.send(engine, settings, "Họp tổ", kiosks=["k1"], group="HPN")["id"]
    with db.write(engine) as conn:
        conn.execute(db.deliveries.update().values(state="queued", recipients=44))
    end = (now + timedelta(hours=2))
    assert f"Chờ đến {end.hour}:{end.minute:02d}" in client.get(f"/notices/{notice_id}").text
    assert "(giờ nghỉ đêm)" in client.get(f"/notices/{notice_id}/counts").text


def test_confirmation_lists_recipients_per_kiosk_cost_and_warnings(client, ward_official, engine):
    _heartbeat(engine, "k1", db.now())
    login(client)
    compose = client.get("/compose").text
    assert "Hội phụ nữ – 44 người" in compose and "Tất cả người đăng ký nhận tin (94 người)" in compose
    assert "Chọn tất cả kiosk của Phường Demo (2)" in compose
    review = send_form(client, {"text": "Họp Hội phụ nữ 19h thứ Bảy", "kiosk": ["k1", "k2"], "group": "HPN"},
                       step="review")
    assert review.status_code == 200
    assert re.search(r'data-kiosk="k1">.*?class="count">44<', review.text, re.S)
    assert "1 tin/người × 44 người = 44 tin, khoảng 15.400 đ" in review.text
    assert "Kiosk k2 chưa kết nối lần nào" in review.text
    assert 'id="everyone-step"' not in review.text
    everyone = send_form(client, {"text": "Họp toàn tổ", "kiosk": "k1", "group": "TATCA"})
    assert everyone.status_code == 400 and "hãy đánh dấu ô xác nhận" in everyone.text
    assert notices.recent(engine) == []


def test_a_correction_replaces_the_notice_it_corrects(client, ward_official, engine, settings):
    login(client)
    first = notices.send(engine, settings, "Họp ngày 12/12", kiosks=["k1"], group="HPN")["id"]
    form = client.get(f"/compose?correct={first}").text
    assert "ĐÍNH CHÍNH thông báo ngày" in form and f'name="replaces" value="{first}"' in form
    r = send_form(client, {"text": "ĐÍNH CHÍNH: họp ngày 13/12", "kiosk": "k1", "group": "HPN",
                           "replaces": str(first)})
    assert r.status_code == 303
    assert notices.show(engine, first)["cancelled"] is True
    second = int(r.headers["location"].split("/")[2].split("?")[0])
    assert notices.show(engine, second)["replaces"] == first


def test_a_test_send_goes_to_the_officials_phone_only(client, ward_official, engine):
    _heartbeat(engine, "k1", db.now())
    login(client)
    r = send_form(client, {"text": "Thử", "kiosk": ["k1", "k2"], "group": "HPN", "test_phone": "0912 345 678"},
                  step="test")
    assert r.status_code == 200 and 'id="test-sent"' in r.text
    (test,) = notices.recent(engine)
    assert test["test"] and [k["name"] for k in test["kiosks"]] == ["k1"]     # through the online kiosk
    bad = send_form(client, {"text": "Thử", "kiosk": "k1", "group": "HPN", "test_phone": "abc"}, step="test")
    assert bad.status_code == 400 and "Số điện thoại không đúng" in bad.text
    for _ in range(notices.TEST_SENDS_PER_HOUR - 1):
        assert send_form(client, {"text": "Thử", "kiosk": "k1", "group": "HPN", "test_phone": "0912345678"},
                         step="test").status_code == 200
    over = send_form(client, {"text": "Thử", "kiosk": "k1", "group": "HPN", "test_phone": "0912345678"}, step="test")
    assert over.status_code == 400 and "Mỗi giờ chỉ gửi thử được" in over.text
    assert len(notices.recent(engine)) == notices.TEST_SENDS_PER_HOUR


def test_login_keeps_the_name_and_console_pages_are_not_cached(client, ward_official):
    page = client.get("/login").text
    wrong = client.post("/login", data={"login": "phuong", "password": "sai", "csrf": csrf_of(page)})
    assert 'value="phuong"' in wrong.text and 'autocomplete="current-password"' in wrong.text
    r = login(client)
    assert r.headers["location"] == "/compose"
    assert client.get("/notices").headers["cache-control"] == "no-store"


def test_audit_shows_officials_in_sentences_and_kiosk_events_apart(client, ward_official, engine, settings):
    notice_id = notices.send(engine, settings, "Họp", kiosks=["k1"], group="HPN", actor="phuong")["id"]
    with db.write(engine) as conn:
        admin.record(conn, "kiosk:k1", "api.report", {"notice": notice_id, "state": "done", "recipients": 9, "sent": 9},
                     ward="Phường Demo")
    login(client)
    people = client.get("/audit").text
    assert f"Gửi thông báo #{notice_id} (Hội phụ nữ, 1 tin/người)" in people and "Lê Văn Phường" in people
    assert "Kiosk k1" not in people and "{" not in people.split("<main>")[1]
    machines = client.get("/audit?kiosk=1").text
    assert f"báo thông báo #{notice_id}: đã gửi 9/9 (Đã gửi xong)" in machines


def test_a_ward_official_sees_only_the_audit_of_their_ward(client, ward_official, engine):
    admin.add_kiosk(engine, "other", "Phường Khác")
    admin.add_official(engine, "khac", "Đỗ Văn Khác", "ward", PASSWORD, ward="Phường Khác")
    with db.write(engine) as conn:
        admin.record(conn, "khac", "console.login", {}, ward="Phường Khác")
        admin.record(conn, "kiosk:other", "api.online", {}, ward="Phường Khác")
        admin.record(conn, "kiosk:k1", "api.online", {}, ward="Phường Demo")
    login(client)
    people = client.get("/audit").text
    assert "Lê Văn Phường" in people and "Đỗ Văn Khác" not in people
    machines = client.get("/audit?kiosk=1").text
    assert "Kiosk k1" in machines and "Kiosk other" not in machines


@given(start=st.tuples(st.integers(0, 23), st.integers(0, 59)), end=st.tuples(st.integers(0, 23), st.integers(0, 59)),
       moment=st.floats(1.7e9, 1.9e9))
@hypothesis_settings(max_examples=300, deadline=None)
def test_the_console_and_the_kiosks_agree_on_quiet_hours(start, end, moment):
    from datetime import datetime, timezone
    from hub import times
    from sms.outbox import Policy
    begin, finish = f"{start[0]:02d}:{start[1]:02d}", f"{end[0]:02d}:{end[1]:02d}"
    kiosk = Policy(quiet_start=begin, quiet_end=finish, timezone="Asia/Ho_Chi_Minh")
    assert times.in_quiet_hours("Asia/Ho_Chi_Minh", begin, finish, moment) == \
        kiosk.in_quiet_hours(datetime.fromtimestamp(moment, timezone.utc))
