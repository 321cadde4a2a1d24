"""Login guessing limits (issue 17): counted atomically per source address and per account, so
concurrency cannot get around them; one message whatever the reason; growing lockouts; unlock.

Runs on SQLite and on a throwaway PostgreSQL cluster; the done-when case drives a real
`tdp hub serve` subprocess over HTTP.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from hub import admin, auth, db
from hub.errors import InvalidInput

from .conftest import free_port, wait_for

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

PASSWORD = "mat-khau-du-dai"
TDP = str(Path(sys.executable).with_name("tdp"))


@pytest.fixture
def official(engine):
    admin.add_kiosk(engine, "k1", "Phường Demo")
    return admin.add_official(engine, "phuong", "Lê Văn Phường", "ward", PASSWORD, ward="Phường Demo")


def attempt(engine, settings, password, source="198.51.100.7", login="phuong"):
    """One login; returns "ok" or the LoginRefused reason, and the message shown."""
    try:
        auth.login(engine, settings, login, password, source)
        return "ok", ""
    except auth.LoginRefused as exc:
        return exc.reason, str(exc)


def test_fifty_concurrent_guesses_from_one_address_check_at_most_five_passwords(engine, settings, official):
    with ThreadPoolExecutor(50) as pool:
        outcomes = list(pool.map(lambda i: attempt(engine, settings, f"wrong-guess-{i:04d}"), range(50)))
    checked = sum(1 for reason, _ in outcomes if reason == "wrong_password")
    assert checked <= settings.login_max_failures, outcomes
    assert attempt(engine, settings, PASSWORD)[0] == "address_locked"
    # ...while the official, from their own phone, is not kept out.
    assert attempt(engine, settings, PASSWORD, source="203.0.113.50")[0] == "ok"


def test_fifty_concurrent_guesses_from_fifty_addresses_lock_the_account(engine, settings, official):
    with ThreadPoolExecutor(50) as pool:
        outcomes = list(pool.map(lambda i: attempt(engine, settings, f"wrong-guess-{i:04d}", f"10.0.{i}.1"),
                                 range(50)))
    checked = sum(1 for reason, _ in outcomes if reason == "wrong_password")
    assert checked <= settings.account_max_failures, checked
    assert attempt(engine, settings, PASSWORD, source="203.0.113.50")[0] == "account_locked"


def test_the_message_is_the_same_for_unknown_login_wrong_password_and_locked_account(engine, settings, official):
    unknown = attempt(engine, settings, "whatever-pass", source="10.1.0.1", login="khong-co-ai")
    wrong = attempt(engine, settings, "wrong-password", source="10.1.0.2")
    for i in range(settings.account_max_failures):
        attempt(engine, settings, "wrong-password", source=f"10.2.{i}.1")
    locked = attempt(engine, settings, PASSWORD, source="10.1.0.3")
    assert (unknown[0], wrong[0], locked[0]) == ("unknown_login", "wrong_password", "account_locked")
    assert unknown[1] == wrong[1] == locked[1]
    disabled = admin.add_official(engine, "nghi", "Cán bộ đã nghỉ", "ward", PASSWORD)
    admin.disable_official(engine, disabled["login"])
    assert attempt(engine, settings, PASSWORD, source="10.1.0.4", login="nghi") == ("unknown_login", unknown[1])


def test_a_right_password_undoes_only_its_own_attempt_for_the_address(engine, settings, official):
    for _ in range(settings.login_max_failures - 1):
        assert attempt(engine, settings, "wrong-password")[0] == "wrong_password"
    assert attempt(engine, settings, PASSWORD)[0] == "ok"
    assert attempt(engine, settings, "wrong-password")[0] == "wrong_password"   # the 5th failure: locks
    assert attempt(engine, settings, PASSWORD)[0] == "address_locked"


def test_each_repeat_lockout_lasts_twice_as_long(engine, settings, official):
    lengths = []
    for _ in range(3):
        for _ in range(settings.login_max_failures):
            attempt(engine, settings, "wrong-password")
        with db.read(engine) as conn:
            row = conn.execute(sa.select(db.login_throttle).where(
                db.login_throttle.c.key == auth.source_key("198.51.100.7"))).mappings().one()
        lengths.append(row["locked_until"] - row["updated_at"])
        with db.write(engine) as conn:     # the lockout has run out
            conn.execute(db.login_throttle.update().values(locked_until=db.now() - 1))
    base = settings.lockout_minutes * 60
    assert [round(n / base) for n in lengths] == [1, 2, 4]


def test_unlock_lifts_an_account_lockout_and_is_audited(engine, settings, official):
    for i in range(settings.account_max_failures):
        attempt(engine, settings, "wrong-password", source=f"10.3.{i}.1")
    assert attempt(engine, settings, PASSWORD, source="10.9.9.9")[0] == "account_locked"
    assert admin.list_officials(engine)[0]["locked_until"] is not None
    assert admin.unlock_official(engine, "phuong", actor="cli:root") == {"login": "phuong", "was_locked": True}
    assert attempt(engine, settings, PASSWORD, source="10.9.9.9")[0] == "ok"
    assert any(r["action"] == "official.unlock" and r["actor"] == "cli:root" for r in admin.audit_log(engine))


def test_ipv6_guesses_count_per_64_block(database_url):
    assert auth.source_key("2001:db8:1:2::1") == auth.source_key("2001:db8:1:2:ffff::9")
    assert auth.source_key("2001:db8:1:3::1") != auth.source_key("2001:db8:1:2::1")
    assert auth.source_key("::ffff:192.0.2.1") == auth.source_key("192.0.2.1")


# --- done when: a real `tdp hub serve` -----------------------------------------------------------
def _login(url: str, password: str, forwarded_for: str | None = None) -> int:
    session = requests.Session()
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = session.get(url + "/login", headers=headers, timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = session.post(url + "/login", data={"login": "phuong", "password": password, "csrf": csrf}, headers=headers,
                     allow_redirects=False, timeout=60)
    return r.status_code


def test_done_when_fifty_concurrent_wrong_logins_to_tdp_hub_serve_then_the_right_password_is_refused(
        tmp_path, database_url):
    config = tmp_path / "tdp.toml"
    config.write_text(f'[storage]\npath = "{tmp_path / "data.sqlite3"}"\n[hub_server]\ndatabase = "{database_url}"\n',
                      encoding="utf-8")
    subprocess.run([TDP, "--config", str(config), "hub", "official", "add", "phuong", "--name", "Lê Văn Phường",
                    "--role", "ward", "--password-stdin"], input=PASSWORD + "\n", text=True, check=True,
                   capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([TDP, "--config", str(config), "hub", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def up():
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                return requests.get(url + "/api/v1/health", timeout=1).ok
            except requests.RequestException:
                return False
        wait_for(up, timeout=30, interval=0.1)
        with ThreadPoolExecutor(50) as pool:
            statuses = list(pool.map(lambda i: _login(url, f"wrong-guess-{i:04d}"), range(50)))
        assert set(statuses) == {401}
        assert _login(url, PASSWORD) == 401                          # the lockout held
        assert _login(url, PASSWORD, forwarded_for="203.0.113.50") == 303   # the official is not kept out
        audit = subprocess.run([TDP, "--config", str(config), "hub", "audit", "--json"], capture_output=True,
                               text=True, check=True)
        reasons = [json.loads(r["detail"])["reason"] for r in json.loads(audit.stdout)
                   if r["action"] == "console.login_failed"]
        assert reasons.count("wrong_password") <= 5 and len(reasons) == 51
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_passwords_need_ten_characters_and_not_a_common_one(engine):
    for weak in ("ngan-qua", "1234567890", "Password123", "phuong2026", "aaaaaaaaaaaa"):
        with pytest.raises(InvalidInput):
            admin.add_official(engine, "phuong", "Lê Văn Phường", "ward", weak)
    assert admin.add_official(engine, "phuong", "Lê Văn Phường", "ward", "cay-tre-ven-ao-9")["login"] == "phuong"


def test_guesses_from_many_addresses_do_not_keep_the_official_out_of_their_own_phone(app, engine, settings,
                                                                                     official):
    from starlette.testclient import TestClient
    phone = TestClient(app)

    def console_login(client, password):
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
        return client.post("/login", data={"login": "phuong", "password": password, "csrf": csrf},
                           follow_redirects=False)
    assert console_login(phone, PASSWORD).status_code == 303           # the phone becomes a known device
    phone.post("/logout", data={"csrf": re.search(r'name="csrf" value="([^"]+)"',
                                                  phone.get("/kiosks").text).group(1)})
    for i in range(settings.account_max_failures):                     # a botnet locks the account
        attempt(engine, settings, f"wrong-guess-{i}", source=f"10.7.{i}.1")
    assert console_login(TestClient(app), PASSWORD).status_code == 401  # a new browser: locked out
    assert console_login(phone, PASSWORD).status_code == 303            # her own phone: still gets in
    admin.reset_password(engine, "phuong", "cay-tre-ven-ao-9")          # a new password forgets devices
    for i in range(settings.account_max_failures):
        attempt(engine, settings, f"wrong-guess-{i}", source=f"10.8.{i}.1")
    assert console_login(phone, "cay-tre-ven-ao-9").status_code == 401
