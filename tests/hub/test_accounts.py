"""Account life cycle (issue 17): disable, enable, unlock, reset-password, logout on the CLI and in the
console for hub-wide officials; sessions end at once; every change audited. SQLite and PostgreSQL."""
from __future__ import annotations

import io
import json
import re

import pytest

from hub import admin
from hub.errors import NotFound

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

PASSWORD = "mat-khau-du-dai"
NEW_PASSWORD = "cay-tre-ven-ao-9"


@pytest.fixture
def accounts(engine):
    admin.add_kiosk(engine, "k1", "Phường A")
    admin.add_official(engine, "admin", "Quản trị", "ward", PASSWORD)
    admin.add_official(engine, "warda", "Cán bộ A", "ward", PASSWORD, ward="Phường A")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(client, name, password=PASSWORD, source=None):
    csrf = csrf_of(client.get("/login").text)
    return client.post("/login", data={"login": name, "password": password, "csrf": csrf}, follow_redirects=False)


def logged_in(app, name, password=PASSWORD):
    from starlette.testclient import TestClient
    client = TestClient(app)
    assert login(client, name, password).status_code == 303
    return client


def test_disabling_an_official_ends_their_open_sessions_at_once(app, engine, accounts):
    browser, phone = logged_in(app, "warda"), logged_in(app, "warda")
    assert browser.get("/kiosks", follow_redirects=False).status_code == 200
    assert admin.disable_official(engine, "warda", actor="cli:root") == {"login": "warda", "disabled": True,
                                                                         "sessions_ended": 2}
    for client in (browser, phone):
        r = client.get("/kiosks", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert login(browser, "warda").status_code == 401
    admin.enable_official(engine, "warda")
    assert login(browser, "warda").status_code == 303


def test_reset_password_ends_sessions_and_only_the_new_password_works(app, engine, accounts):
    old = logged_in(app, "warda")
    admin.reset_password(engine, "warda", NEW_PASSWORD)
    assert old.get("/kiosks", follow_redirects=False).status_code == 303
    assert login(old, "warda", PASSWORD).status_code == 401
    assert login(old, "warda", NEW_PASSWORD).status_code == 303


def test_logout_everywhere_and_unknown_names(app, engine, accounts):
    clients = [logged_in(app, "warda") for _ in range(3)]
    assert admin.logout_official(engine, "warda")["sessions_ended"] == 3
    assert all(c.get("/kiosks", follow_redirects=False).status_code == 303 for c in clients)
    with pytest.raises(NotFound):
        admin.disable_official(engine, "khong-co")


def test_every_account_change_is_audited(engine, accounts):
    admin.disable_official(engine, "warda", actor="cli:root")
    admin.enable_official(engine, "warda", actor="cli:root")
    admin.unlock_official(engine, "warda", actor="cli:root")
    admin.reset_password(engine, "warda", NEW_PASSWORD, actor="cli:root")
    admin.logout_official(engine, "warda", actor="cli:root")
    rows = [r for r in admin.audit_log(engine) if r["actor"] == "cli:root"]
    assert [r["action"] for r in reversed(rows)] == ["official.disable", "official.enable", "official.unlock",
                                                     "official.reset_password", "official.logout"]
    assert all(json.loads(r["detail"])["login"] == "warda" and r["ward"] == "Phường A" for r in rows)
    assert NEW_PASSWORD not in json.dumps(rows)


def test_the_cli_runs_the_whole_life_cycle(tdp, config_path, monkeypatch, database_url):
    config_path.write_text(config_path.read_text() + f'[hub_server]\ndatabase = "{database_url}"\n')
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert tdp("hub", "official", "add", "to1", "--name", "Tổ trưởng", "--role", "ward", "--password-stdin").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert tdp("hub", "add-official", "--login", "to2", "--name", "Tổ hai", "--role", "ward",
               "--password-stdin").code == 0
    assert "official to1 disabled" in tdp("hub", "official", "disable", "to1").out
    listed = tdp("hub", "official", "list", "--json").data
    assert [(r["login"], r["disabled"]) for r in listed] == [("to1", True), ("to2", False)]
    assert tdp("hub", "official", "enable", "to1").code == 0
    assert "was not locked" in tdp("hub", "official", "unlock", "to1").out
    assert "0 session(s) ended" in tdp("hub", "official", "logout", "to1").out
    monkeypatch.setattr("sys.stdin", io.StringIO("ngan\n"))
    short = tdp("hub", "official", "reset-password", "to1", "--password-stdin")
    assert short.code == 1 and "at least 10" in short.err and len(short.err.strip().splitlines()) == 1
    monkeypatch.setattr("sys.stdin", io.StringIO("matkhau123\n"))
    common = tdp("hub", "official", "reset-password", "to1", "--password-stdin")
    assert common.code == 1 and "too easy" in common.err
    monkeypatch.setattr("sys.stdin", io.StringIO(NEW_PASSWORD + "\n"))
    assert tdp("hub", "official", "reset-password", "to1", "--password-stdin").code == 0
    missing = tdp("hub", "official", "disable", "nobody")
    assert missing.code == 1 and "no official 'nobody'" in missing.err
    actions = [r["action"] for r in tdp("hub", "audit", "--json").data]
    assert {"official.add", "official.disable", "official.enable", "official.unlock", "official.logout",
            "official.reset_password"} <= set(actions)


def test_a_hub_wide_official_manages_accounts_in_the_console(app, engine, accounts):
    boss, warda = logged_in(app, "admin"), logged_in(app, "warda")
    page = boss.get("/officials")
    assert page.status_code == 200 and 'data-login="warda"' in page.text and "Tài khoản" in page.text
    csrf = csrf_of(page.text)
    r = boss.post("/officials/disable", data={"login": "warda", "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert warda.get("/kiosks", follow_redirects=False).status_code == 303
    weak = boss.post("/officials/reset-password", data={"login": "warda", "password": "ngan", "csrf": csrf})
    assert weak.status_code == 400 and "ít nhất 10 ký tự" in weak.text
    assert boss.post("/officials/enable", data={"login": "warda", "csrf": csrf}).status_code == 200
    assert boss.post("/officials/reset-password", data={"login": "warda", "password": NEW_PASSWORD,
                                                        "csrf": csrf}).status_code == 200
    assert login(warda, "warda", NEW_PASSWORD).status_code == 303
    added = boss.post("/officials/add", data={"login": "to1", "name": "Tổ trưởng 1", "role": "group", "kiosk": "k1",
                                              "password": NEW_PASSWORD, "csrf": csrf})
    assert added.status_code == 200 and 'data-login="to1"' in added.text
    forged = boss.post("/officials/disable", data={"login": "to1", "csrf": "forged"})
    assert forged.status_code == 403
    actions = [(r["actor"], r["action"]) for r in admin.audit_log(engine)]
    assert ("admin", "official.disable") in actions and ("admin", "official.add") in actions


def test_a_ward_official_cannot_manage_accounts(app, engine, accounts):
    warda = logged_in(app, "warda")
    assert warda.get("/officials").status_code == 403
    csrf = csrf_of(warda.get("/kiosks").text)
    assert warda.post("/officials/disable", data={"login": "admin", "csrf": csrf}).status_code == 403
    assert admin.list_officials(engine)[0]["disabled"] is False
