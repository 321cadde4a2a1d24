"""`tdp doctor` on this machine: the emulated modem over a real pty, real CUPS client, real sockets."""
from __future__ import annotations

import http.server
import socket
import threading
from datetime import datetime, timezone

import pytest

from kiosk.appliance import config as config_module
from kiosk.appliance import doctor
from sms.emulator import Emulator

NAMES = ["config", "store", "modem", "printer", "gpio", "clock", "disk", "sdcard", "backup", "hub", "voice"]


def add_config(config_path, text: str) -> None:
    config_path.write_text(config_path.read_text() + text, encoding="utf-8")


def by_name(data) -> dict:
    return {c["name"]: c for c in data["checks"]}


def test_dev_machine_report_names_each_missing_part(tdp):
    result = tdp("doctor", "--json")
    data = result.data
    assert [c["name"] for c in data["checks"]] == NAMES
    for check in data["checks"]:
        assert check["status"] in ("ok", "warn", "fail")
        assert check["en"] and check["vi"]
        if check["status"] != "ok":
            assert check["fix_en"] and check["fix_vi"], check
    checks = by_name(data)
    assert checks["config"]["status"] == "ok"
    modem = checks["modem"]
    assert modem["status"] == "warn" and "Emulated modem" in modem["en"] and "/dev/serial0" in modem["fix_en"]
    assert modem["details"]["registration"] == "home" and modem["details"]["signal_csq"] == 20
    assert checks["gpio"]["status"] == "warn" and "not a Raspberry Pi" in checks["gpio"]["en"]
    assert checks["printer"]["status"] == "ok" and "PDF mode" in checks["printer"]["en"]
    assert checks["hub"]["status"] == "ok" and "standalone" in checks["hub"]["en"]
    assert data["summary"] == {s: sum(c["status"] == s for c in data["checks"]) for s in ("ok", "warn", "fail")}
    assert data["ok"] == (data["summary"]["fail"] == 0)
    assert result.code == (0 if data["ok"] else 1)


def test_human_report_is_bilingual(tdp):
    result = tdp("doctor")
    assert "[WARN] modem" in result.out
    assert "Fix: " in result.out and "Sửa: " in result.out
    assert "Đang dùng modem giả lập" in result.out


def test_missing_modem_fails_and_says_the_queue_is_kept(tdp, config_path, tmp_path):
    add_config(config_path, f'[modem]\nport = "{tmp_path / "ttyNOPE"}"\n')
    result = tdp("doctor", "--json")
    assert result.code == 1
    modem = by_name(result.data)["modem"]
    assert modem["status"] == "fail"
    assert "ttyNOPE" in modem["en"] and "SMS stay queued" in modem["en"]
    assert "HAT" in modem["fix_en"]


@pytest.mark.parametrize("kwargs, expected", [
    ({"sim_inserted": False}, "no SIM"),
    ({"sim_pin": "1234"}, "PIN"),
    ({"registration": 2}, "not registered"),
    ({"csq": 5}, "weak signal"),
])
def test_modem_faults_are_named(kwargs, expected):
    with Emulator(**kwargs) as emulator:
        config = config_module.from_dict({"modem": {"port": emulator.start()}})
        check = doctor.check_modem(config)
    assert check.status in ("warn", "fail")
    assert expected in check.en, check.en
    assert check.fix_en


def test_real_modem_port_that_answers_is_ok():
    with Emulator() as emulator:
        config = config_module.from_dict({"modem": {"port": emulator.start()}})
        check = doctor.check_modem(config)
    assert check.status == "ok" and "Viettel" in check.en


def test_broken_config_fails_but_the_rest_still_runs(tdp, config_path):
    add_config(config_path, "[printer]\nqeue = \"x\"\n")
    result = tdp("doctor", "--json")
    checks = by_name(result.data)
    assert result.code == 1
    assert checks["config"]["status"] == "fail" and "printer.qeue" in checks["config"]["en"]
    assert "did you mean queue" in checks["config"]["en"]
    assert [c["name"] for c in result.data["checks"]] == NAMES


def test_missing_printer_queue_is_named(tdp, config_path):
    add_config(config_path, '[printer]\nqueue = "tdp-doctor-missing"\n')
    printer = by_name(tdp("doctor", "--json").data)["printer"]
    assert printer["status"] == "fail"
    assert "tdp-doctor-missing" in printer["en"] or "CUPS is not reachable" in printer["en"]
    assert "PDF" in printer["en"] or "firstboot" in printer["fix_en"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_hub_fails(tdp, config_path):
    add_config(config_path, f'[hub]\nurl = "http://127.0.0.1:{closed_port()}"\n')
    hub = by_name(tdp("doctor", "--json").data)["hub"]
    assert hub["status"] == "fail" and "unreachable" in hub["en"] and "[hub] url" in hub["fix_en"]


def test_reachable_hub_is_ok(tdp, config_path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        add_config(config_path, f'[hub]\nurl = "http://127.0.0.1:{server.server_port}"\n')
        hub = by_name(tdp("doctor", "--json").data)["hub"]
    finally:
        server.shutdown()
        server.server_close()
    assert hub["status"] == "ok" and "HTTP 200" in hub["en"]


def test_unset_clock_fails():
    check = doctor.check_clock(datetime(1970, 1, 1, tzinfo=timezone.utc))
    assert check.status == "fail" and "never set" in check.en and "NTP" in check.fix_en


def test_full_disk_fails(monkeypatch, tmp_path):
    monkeypatch.setattr(doctor, "DISK_FAIL_BYTES", 2**62)
    config = config_module.from_dict({"storage": {"path": str(tmp_path / "tdp.sqlite3")}})
    check = doctor.check_disk(config)
    assert check.status == "fail" and "nearly full" in check.en


def test_unwritable_store_fails(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    config = config_module.from_dict({"storage": {"path": str(blocker / "tdp.sqlite3")}})
    check = doctor.check_store(config)
    assert check.status == "fail" and "not-a-folder" in check.en and check.fix_en
