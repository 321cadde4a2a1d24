"""End to end on real sockets: `tdp hub serve` as a subprocess, two kiosk stores with emulated modems
and their SMS gateways, and an official using the console in headless Chromium on a phone-sized screen.

Runs on SQLite and on a throwaway PostgreSQL cluster.
"""
from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import requests

from kiosk import demo
from kiosk.appliance import config as config_module
from kiosk.directory import residents as directory
from kiosk.cli import main as tdp_main
from kiosk.directory.residents import Consent
from kiosk.appliance.store import open_store
from kiosk.sync import Sync
from sms.emulator import Emulator
from sms.gateway import Gateway, GatewaySettings

from .conftest import free_port, wait_for

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)

TDP = str(Path(sys.executable).with_name("tdp"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "mat-khau-phuong-01"


class HubProcess:
    """`tdp hub serve` in its own process on a free port of 127.0.0.1."""

    def __init__(self, config: Path):
        self.config = config
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self) -> "HubProcess":
        self.proc = subprocess.Popen([TDP, "--config", str(self.config), "hub", "serve", "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"hub exited: {self.proc.stderr.read().decode()}")
            try:
                return requests.get(self.url + "/api/v1/health", timeout=1).ok
            except requests.RequestException:
                return False
        wait_for(up, timeout=30, interval=0.1)
        return self

    def kill(self, sig=signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)


def hub_cli(config: Path, *args: str, stdin: str = "") -> str:
    out = io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with redirect_stdout(out):
            code = tdp_main(["--config", str(config), "hub", *args])
    finally:
        sys.stdin = old_stdin
    assert code == 0, out.getvalue()
    return out.getvalue()


class Kiosk:
    """A kiosk: its own store, an emulated modem with the real SMS gateway, and the sync client."""

    def __init__(self, folder: Path, hub_url: str, token: str):
        folder.mkdir(parents=True)
        self.path = folder / "tdp.sqlite3"
        self.db = open_store(self.path)
        self.config = config_module.from_dict({"storage": {"path": str(self.path)},
                                               "hub": {"url": hub_url, "token": token, "poll_seconds": 1}})
        self.modem = Emulator()
        self.gateway = Gateway(str(self.path), GatewaySettings(ports=(self.modem.start(),), quiet_start="00:00",
                                                               quiet_end="00:00", health_seconds=1), handlers=[])
        self.sync = Sync(self.db, self.config)

    def start(self) -> "Kiosk":
        self.gateway.start()
        return self

    def sent_numbers(self) -> list[str]:
        return sorted(m.number for m in self.modem.sent)

    def stop(self) -> None:
        self.gateway.stop(timeout=20)
        self.modem.stop()
        self.db.close()


@pytest.fixture
def world(tmp_path, database_url):
    config = tmp_path / "hub" / "tdp.toml"
    config.parent.mkdir()
    config.write_text(f'[storage]\npath = "{tmp_path / "hub" / "data.sqlite3"}"\n'
                      f'[hub_server]\ndatabase = "{database_url}"\nheartbeat_seconds = 2\n', encoding="utf-8")
    hub = HubProcess(config).start()
    tokens = {name: hub_cli(config, "add-kiosk", name, "--ward", "Phường Demo", "--json").split('"token": "')[1]
              .split('"')[0] for name in ("tdp1", "tdp2", "tdp3")}
    hub_cli(config, "add-official", "--login", "phuong", "--name", "Lê Văn Phường", "--role", "ward",
            "--password-stdin", stdin=PASSWORD + "\n")
    kiosks = {}
    try:
        kiosks["tdp1"] = Kiosk(tmp_path / "tdp1", hub.url, tokens["tdp1"]).start()
        demo.seed(kiosks["tdp1"].db, kiosks["tdp1"].config)
        kiosks["tdp2"] = Kiosk(tmp_path / "tdp2", hub.url, tokens["tdp2"]).start()
        for i, (name, consent) in enumerate([("Đỗ Thị Hoa", True), ("Ngô Thị Lan", True), ("Vũ Thị Mai", False),
                                             ("Phan Văn Tài", True)]):
            directory.upsert_resident(kiosks["tdp2"].db, name, f"09120000{i:02d}",
                                      groups=["Hội phụ nữ"] if "Thị" in name else ["Tự vệ"],
                                      consent=Consent(consent, "import", "e2e"))
        yield {"hub": hub, "config": config, "kiosks": kiosks, "tokens": tokens}
    finally:
        for kiosk in kiosks.values():
            kiosk.stop()
        hub.kill()


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, headless, driven by Playwright (no browser is ever downloaded)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser, p.devices["Pixel 5"]
        browser.close()


@pytest.fixture
def browser(chromium):
    """A fresh phone-sized page (its own cookies) for each test."""
    browser, phone = chromium
    context = browser.new_context(**phone)
    yield context.new_page()
    context.close()


def test_official_on_a_phone_sends_to_hoi_phu_nu_of_two_kiosks_and_sees_the_offline_one(world, browser):
    hub, kiosks = world["hub"], world["kiosks"]
    for kiosk in kiosks.values():
        kiosk.sync.run_once()           # both kiosks online (heartbeat); tdp3 never connects
    page = browser
    page.goto(hub.url + "/login")
    page.fill("#login", "phuong")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/compose")
    page.goto(hub.url + "/kiosks")
    cards = page.inner_text("main")
    assert "tdp1" in cards and "Đang hoạt động" in cards and "Chưa kết nối lần nào" in cards

    page.goto(hub.url + "/compose")
    text = "Kính mời hội viên Hội phụ nữ họp lúc 19h30 thứ Bảy tại nhà văn hóa."
    page.fill("#text", text)
    page.wait_for_selector("#parts[data-parts='1']")
    assert "= 1 tin/người" in page.inner_text("#parts")
    page.check("#unaccented")
    page.wait_for_selector("#parts:has-text('không dấu')")
    page.uncheck("#unaccented")
    page.check("input[name=kiosk][value=tdp1]")
    page.check("input[name=kiosk][value=tdp2]")
    page.select_option("#group", "HPN")
    page.click("button.primary")
    page.click("#send")
    page.wait_for_url("**/notices/*")
    notice_id = page.url.split("/notices/")[1].split("?")[0]

    expected = {name: sorted(directory.recipients(k.db, "HPN")) for name, k in kiosks.items()}
    assert len(expected["tdp1"]) > 5 and expected["tdp2"] == ["+84912000000", "+84912000001"]
    def synced(name):
        kiosks[name].sync.run_once(full=False)      # what the tdp-sync service does every poll_seconds
        return kiosks[name].sent_numbers() == expected[name]
    for name in kiosks:
        wait_for(lambda: synced(name), timeout=60, interval=0.2)
    for kiosk in kiosks.values():
        kiosk.sync.run_once(full=False)     # report the counts

    page.goto(hub.url + f"/notices/{notice_id}")
    for name in ("tdp1", "tdp2"):
        row = page.locator(f"tr[data-kiosk={name}]")
        assert row.locator(".recipients").inner_text() == str(len(expected[name]))
        assert row.locator(".sent").inner_text() == str(len(expected[name]))
        assert row.locator(".failed").inner_text() == "0"
    for name, kiosk in kiosks.items():      # each member got it exactly once
        assert kiosk.sent_numbers() == expected[name]
        assert all(m.text == text for m in kiosk.modem.sent)

    # tdp3 never sent a heartbeat: for an urgent notice the console gives the SMS relay command instead.
    page.goto(hub.url + "/compose")
    page.fill("#text", "Nước ngập đường Đại La, tránh đi qua")
    page.check("input[name=kiosk][value=tdp3]")
    page.select_option("#group", "TATCA")
    page.check("#urgent")
    page.wait_for_selector("#relay:not([hidden])")
    assert page.inner_text("#relay-command") == "KC <PIN> TATCA Nước ngập đường Đại La, tránh đi qua"
    assert "dài 1 tin" in page.inner_text("#relay-parts")
    page.uncheck("input[name=kiosk][value=tdp3]")
    page.check("input[name=kiosk][value=tdp1]")
    page.wait_for_selector("#relay", state="hidden")
    page.check("input[name=kiosk][value=tdp3]")
    page.uncheck("input[name=kiosk][value=tdp1]")
    page.click("button.primary")           # sent anyway: the notice page repeats the command
    page.check("#everyone-ok")
    page.click("#send")
    page.wait_for_url("**/notices/*")
    assert "KC <PIN> TATCA Nước ngập đường Đại La" in page.inner_text("[data-relay=tdp3]")


def test_kill_9_during_sync_then_restart_sends_nothing_twice(world):
    hub, kiosk = world["hub"], world["kiosks"]["tdp2"]
    send = ("notice", "send", "--kiosk", "tdp2", "--group", "HPN", "--json", "--text")
    first = json.loads(hub_cli(world["config"], *send, "Lần 1"))["id"]
    stop = threading.Event()
    loop = threading.Thread(target=kiosk.sync.run_forever, args=(stop,), kwargs={"wait": lambda s: stop.wait(0.2)})
    loop.start()
    try:
        wait_for(lambda: len(kiosk.modem.sent) == 2, timeout=30, interval=0.05)
        hub.kill(signal.SIGKILL)                     # mid-loop: the kiosk's next calls fail
        second = json.loads(hub_cli(world["config"], *send, "Lần 2"))["id"]
        restarted = HubProcess(world["config"])
        restarted.port, restarted.url = hub.port, hub.url
        world["hub"] = restarted.start()
        wait_for(lambda: len(kiosk.modem.sent) == 4, timeout=60, interval=0.05)

        def reported(notice_id):
            shown = json.loads(hub_cli(world["config"], "notice", "show", str(notice_id), "--json"))
            return shown["kiosks"][0]["sent"] == 2 and shown["kiosks"][0]["state"] == "done"
        wait_for(lambda: reported(first) and reported(second), timeout=30, interval=0.2)
    finally:
        stop.set()
        loop.join(timeout=30)
        world["hub"].kill()
    texts = sorted((m.number, m.text) for m in kiosk.modem.sent)
    assert texts == sorted([(p, t) for p in ("+84912000000", "+84912000001") for t in ("Lần 1", "Lần 2")])


def test_two_hub_processes_on_one_database_hand_each_notice_once(world):
    """Kiosk polls alternate between two `tdp hub serve` processes sharing the database."""
    second = HubProcess(world["config"]).start()
    try:
        sent = [json.loads(hub_cli(world["config"], "notice", "send", "--kiosk", "tdp1", "--json", "--text",
                                   f"Thông báo {i}"))["id"] for i in range(12)]
        token = world["tokens"]["tdp1"]
        handed, lock = [], threading.Lock()

        def poll(url):
            session = requests.Session()
            for _ in range(6):
                body = session.get(url + "/api/v1/notices", headers={"Authorization": f"Bearer {token}"},
                                   timeout=10).json()
                with lock:
                    handed.extend(n["id"] for n in body["notices"])

        threads = [threading.Thread(target=poll, args=(url,)) for url in (world["hub"].url, second.url) * 3]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        second.kill()
    assert sorted(handed) == sent
