"""Ward scope (issue 17): an official of ward A walks every console page and API route of the app and
finds nothing of ward B (its kiosks, notices, groups, officials, audit rows). SQLite and PostgreSQL.

The routes are read from the app itself, so a page added later is walked too.
"""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from hub import admin, auth, feed, notices

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

PASSWORD = "mat-khau-du-dai"
WARD_B_MARKERS = ("kb-only", "Phường B", "TIN-RIENG-B", "wardb", "Nhom-B-rieng", "BGRP", "0981999999")


@pytest.fixture
def two_wards(engine, settings):
    admin.add_kiosk(engine, "ka-1", "Phường A")
    token_b = admin.add_kiosk(engine, "kb-only", "Phường B", sim_number="0981999999")["token"]
    admin.add_official(engine, "admin", "Quản trị", "ward", PASSWORD)
    admin.add_official(engine, "warda", "Cán bộ A", "ward", PASSWORD, ward="Phường A")
    admin.add_official(engine, "wardb", "Cán bộ B", "ward", PASSWORD, ward="Phường B")
    kiosk_b = feed.authenticate(engine, token_b)
    feed.heartbeat(engine, settings, kiosk_b, {"version": "1.0", "groups": [
        {"code": "BGRP", "name": "Nhom-B-rieng", "consenting": 3}]})
    feed.daily(engine, kiosk_b, {"days": [{"day": "2026-01-02", "requests": 9, "requests_online": 4}]})
    ids = {"b_only": notices.send(engine, settings, "TIN-RIENG-B họp tổ", kiosks=["kb-only"], actor="admin")["id"],
           "both": notices.send(engine, settings, "Tin chung hai phường", kiosks=["ka-1", "kb-only"], actor="admin")["id"],
           "a_only": notices.send(engine, settings, "Tin phường A", kiosks=["ka-1"], actor="admin")["id"]}
    feed.fetch(engine, settings, kiosk_b)
    notices.cancel(engine, ids["b_only"], actor="admin")
    for _ in range(2):        # wardb's failed and successful logins are ward B's business
        with pytest.raises(auth.LoginRefused):
            auth.login(engine, settings, "wardb", "wrong-password", "10.0.0.2")
    with TestClient(create_client_app(engine, settings)) as other:
        assert log_in(other, "wardb").status_code == 303
        other.get("/report.xlsx")
    return ids


def create_client_app(engine, settings):
    from hub.app import create_app
    return create_app(settings, engine)


def log_in(client, name):
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    return client.post("/login", data={"login": name, "password": PASSWORD, "csrf": csrf}, follow_redirects=False)


def visible_text(response) -> str:
    """What the official can read in a response: headers and body (an .xlsx unpacked)."""
    text = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    if response.headers.get("content-type", "").startswith("application/vnd.openxmlformats"):
        book = load_workbook(io.BytesIO(response.content))
        return text + " ".join(str(c) for s in book for row in s.iter_rows(values_only=True) for c in row)
    return text + response.text


def test_an_official_of_ward_a_finds_nothing_of_ward_b_on_any_route(app, engine, two_wards):
    client = TestClient(app)
    assert log_in(client, "warda").status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/kiosks").text).group(1)
    walked, seen = set(), []
    params = {"notice_id": list(two_wards.values()), "action": ["disable", "add", "reset-password"],
              "version": ["0.2.0", "..%2f..%2fetc%2fpasswd"]}
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        assert isinstance(route, Route)
        names = re.findall(r"{(\w+)(?::\w+)?}", route.path)
        paths = [route.path]
        for name in names:
            paths = [re.sub(r"{%s(?::\w+)?}" % name, str(value), p) for p in paths for value in params[name]]
        for method in sorted(route.methods - {"HEAD"}):
            for path in paths:
                if path == "/logout":
                    continue
                if method == "GET":
                    r = client.get(path, follow_redirects=False)
                elif path.startswith("/api/") or path.startswith("/console/api/"):
                    r = client.post(path, json={"text": "kb-only?", "state": "done"}, headers={"X-CSRF-Token": csrf})
                else:
                    r = client.post(path, data={"csrf": csrf, "text": "thử", "kiosk": "kb-only", "login": "wardb",
                                                "group": "TATCA", "password": "cay-tre-ven-ao-9"},
                                    follow_redirects=False)
                assert r.status_code < 500, (method, path, r.status_code)
                seen.append((method, path, r.status_code, visible_text(r)))
            walked.add((method, route.path))
    every = {(m, r.path) for r in app.routes if isinstance(r, Route) for m in r.methods - {"HEAD"}}
    assert walked | {("POST", "/logout")} == every
    for method, path, status, text in seen:
        # Her own request's words may come back; nothing else of ward B may.
        text = text.replace("kb-only?", "")
        leaked = [m for m in WARD_B_MARKERS if m in text]
        assert not leaked, (method, path, status, leaked)
    assert notices.show(engine, two_wards["both"])["cancelled"] is False     # her cancel of a shared notice failed
    assert admin.list_officials(engine)[2]["disabled"] is False               # and she disabled nobody


def test_the_audit_page_shows_a_ward_official_only_their_ward(app, engine, two_wards):
    client = TestClient(app)
    assert log_in(client, "warda").status_code == 303
    page = client.get("/audit").text
    assert "Gửi thông báo #" in page and "Đăng nhập" in page     # officials' actions, in sentences
    assert not [m for m in WARD_B_MARKERS if m in page]
    mine = admin.audit_log(engine, official={"role": "ward", "ward": "Phường A", "login": "warda"})
    assert mine and {r["ward"] for r in mine} == {"Phường A"}
    everything = admin.audit_log(engine, official={"role": "ward", "ward": "", "login": "admin"})
    assert {"Phường A", "Phường B"} <= {r["ward"] for r in everything}
