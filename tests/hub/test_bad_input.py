"""Bad input gets a clear 4xx (issue 17): body limits (413) on every route, JSON depth, lone surrogates
and NUL (400), ids out of range (404), strict ISO days, formula-safe report cells; and a hypothesis
property test that drives a real server with arbitrary methods, paths, headers and bodies and never
gets a 500 or a dropped keep-alive connection. SQLite and PostgreSQL."""
from __future__ import annotations

import http.client
import io
import json
import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from openpyxl import load_workbook

from hub import admin, db, notices, report

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

PASSWORD = "mat-khau-du-dai"


def bearer(token):
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


@pytest.fixture
def official_client(client, engine, kiosk_token):
    admin.add_official(engine, "phuong", "Lê Văn Phường", "ward", PASSWORD)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    assert client.post("/login", data={"login": "phuong", "password": PASSWORD, "csrf": csrf},
                       follow_redirects=False).status_code == 303
    client.csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/compose").text).group(1)
    return client


def test_a_huge_login_form_is_refused_with_413_before_it_is_read(client, settings):
    big = b"login=x&password=" + b"a" * (settings.max_body_bytes + 1)
    r = client.post("/login", content=big, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "quá lớn" in r.text

    def chunks():                      # no Content-Length: counted as it streams
        for _ in range(100):
            yield b"a" * 4096
    r = client.post("/login", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


def test_crafted_requests_of_the_review_get_4xx(official_client, kiosk_token, engine, settings):
    c, h = official_client, bearer(kiosk_token)
    notices.send(engine, settings, "Thông báo", kiosks=["k1"])
    cases = [
        (c.get("/static/%00"), 400),
        (c.post("/api/v1/heartbeat", content=b"[" * 30000 + b"]" * 30000, headers=h), 400),
        (c.post("/api/v1/heartbeat", content=b"{\"x\": " + b"[" * 20 + b"]" * 20 + b"}",
                headers=h), 400),
        (c.post("/api/v1/heartbeat", content=b'{"version": "\\ud800"}', headers=h), 400),
        (c.post("/api/v1/heartbeat", content=b'{"version": "a\\u0000b"}', headers=h), 400),
        (c.post("/api/v1/heartbeat", content=b'{"uptime_s": NaN}', headers=h), 400),
        (c.post("/api/v1/notices/99999999999999999999/report", json={"state": "done"}, headers=h), 404),
        (c.get("/notices/9223372036854775808"), 404),
        (c.post("/notices/99999999999999999999/cancel", data={"csrf": c.csrf}), 404),
        (c.post("/console/api/segments", content=b"[" * 30000 + b"]" * 30000,
                headers={"X-CSRF-Token": c.csrf, "Content-Type": "application/json"}), 400),
        (c.post("/compose", data={"csrf": c.csrf, "text": "a\x00b", "kiosk": "k1"}), 400),
        (c.post("/compose", data={"csrf": c.csrf, "text": "\u200b\u200d \ufeff", "kiosk": "k1"}), 400),
        (c.post("/compose", files={"text": ("x.txt", b"hello")}, data={"csrf": c.csrf}), 415),
        (c.get("/report?days=%00"), 400),
    ]
    assert [r.status_code for r, _ in cases] == [status for _, status in cases]
    assert all("error" in r.json() for r, _ in cases if r.headers["content-type"].startswith("application/json"))
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.notices)).scalar() == 1


@pytest.mark.parametrize("day", ["2026-13-45", "2026-01-01\n", " 2026-01-01", "2026-02-29", "2026-1-01",
                                 "２０２６-01-01", 20260101, None, "2026-01-01T00:00"])
def test_daily_refuses_anything_but_a_real_iso_day(client, engine, kiosk_token, day):
    r = client.post("/api/v1/daily", json={"days": [{"day": day, "requests": 5}]}, headers=bearer(kiosk_token))
    assert r.status_code == 400 and "YYYY-MM-DD" in r.json()["error"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.daily_stats)).scalar() == 0


def test_daily_takes_a_leap_day_once(client, engine, kiosk_token):
    for _ in range(2):
        r = client.post("/api/v1/daily", json={"days": [{"day": "2028-02-29", "requests": 5}]},
                        headers=bearer(kiosk_token))
        assert r.status_code == 200
    with engine.connect() as conn:
        assert conn.execute(sa.select(db.daily_stats.c.day, db.daily_stats.c.requests)).all() == [("2028-02-29", 5)]


def test_report_cells_from_outside_never_become_formulas(engine, settings):
    admin.add_kiosk(engine, "k1", '=HYPERLINK("http://evil.example","bấm vào")')
    admin.add_kiosk(engine, "k2", "@SUM(1+1)")
    admin.add_kiosk(engine, "k3", "+84 Phường")
    data = report.build(engine, settings, ["k1", "k2", "k3"], *report.period(7))
    book = load_workbook(io.BytesIO(report.xlsx(data)))
    cells = [c for sheet in book for row in sheet.iter_rows(min_row=3) for c in row[:2]]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert '\'=HYPERLINK("http://evil.example","bấm vào")' in texts and "'@SUM(1+1)" in texts
    assert "'+84 Phường" in texts
    assert all(c.data_type != "f" for c in cells)


# --- property: nothing answers 500, and the connection stays usable -------------------------------
ROUTES = ["/", "/login", "/logout", "/kiosks", "/compose", "/notices", "/notices/1", "/notices/1/cancel",
          "/report", "/report.xlsx", "/audit", "/officials", "/officials/disable", "/console/api/segments",
          "/static/console.js", "/api/v1/health", "/api/v1/heartbeat", "/api/v1/notices",
          "/api/v1/notices/1/report", "/api/v1/daily"]
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=60)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                         max_size=4), max_leaves=20)


@st.composite
def requests_(draw):
    path = draw(st.sampled_from(ROUTES) | st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40)
                .map(lambda p: "/" + p.lstrip("/")))
    path += draw(st.sampled_from(["", "?days=7", "?wait=0", "?days=%00", "?wait=nan", "/%00", "/%ff", "/..%2f..",
                                  "?" + "x" * 3000, "/9" * 30]))
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]))
    kind = draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded", "multipart/form-data",
                                 "text/plain", ""]))
    body = draw(st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode()),
                          st.just(b"[" * 5000 + b"]" * 5000), st.just(b'{"version": "\\udfff", "day": "x"}'),
                          st.just(b"text=a%00b&csrf=x&login=a"), st.just(b"a" * 70_000)))
    headers = draw(st.dictionaries(st.sampled_from(["Cookie", "Authorization", "If-None-Match", "X-CSRF-Token",
                                                    "X-Forwarded-For", "Accept", "Host", "Range"]),
                                   header_text, max_size=4))
    return method, path, kind, body, headers, draw(st.booleans()), draw(st.booleans())


def test_no_input_makes_the_hub_answer_500(live_hub, engine, settings, kiosk_token):
    admin.add_official(engine, "phuong", "Lê Văn Phường", "ward", PASSWORD)
    import requests
    session = requests.Session()
    csrf = re.search(r'name="csrf" value="([^"]+)"', session.get(live_hub.url + "/login").text).group(1)
    session.post(live_hub.url + "/login", data={"login": "phuong", "password": PASSWORD, "csrf": csrf})
    cookie = f"tdp_session={session.cookies['tdp_session']}"
    notices.send(engine, settings, "Thông báo", kiosks=["k1"])
    failures = []

    @hsettings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(requests_())
    def probe(case):
        method, path, kind, body, headers, as_official, as_kiosk = case
        headers = dict(headers)
        if as_official:
            headers["Cookie"] = cookie
        if as_kiosk:
            headers["Authorization"] = f"Bearer {kiosk_token}"
        if kind:
            headers["Content-Type"] = kind
        conn = http.client.HTTPConnection("127.0.0.1", live_hub.port, timeout=30)
        try:
            conn.request(method, path, body=body if method not in ("GET", "HEAD") else None, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status >= 500:
                failures.append((method, path, kind, body[:80], headers, response.status))
            if not response.will_close:      # a kept-alive connection must still work
                conn.request("GET", "/api/v1/health")
                again = conn.getresponse()
                again.read()
                assert again.status == 200, (method, path)
        finally:
            conn.close()
        assert not failures, failures[-1]
    probe()
