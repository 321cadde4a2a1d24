"""`tdp doctor` while the gateway owns the modem: one line from the gateway's own health rows."""
from __future__ import annotations

from kiosk.appliance import config as config_module, doctor
from kiosk.appliance.status import modem_led
from sms.emulator import Emulator
from tests.sms.test_gateway import make_gateway
from tests.support.waiting import wait_until


def _doctor_with_gateway_running(monkeypatch, tmp_path, emulator):
    store = tmp_path / "tdp.sqlite3"
    config = config_module.from_dict({"storage": {"path": str(store)}})
    monkeypatch.setattr(doctor, "service_active", lambda unit: unit == "tdp-gateway.service")
    gateway = make_gateway(store, [emulator.port], handlers=[])
    gateway.start()
    return config, gateway


def test_a_pin_locked_sim_is_one_clear_line(monkeypatch, tmp_path):
    with Emulator(sim_pin="1234") as locked:
        config, gateway = _doctor_with_gateway_running(monkeypatch, tmp_path, locked)
        try:
            check = wait_until(lambda: (c := doctor.check_modem(config)).status == doctor.FAIL and c,
                               what="doctor sees the locked SIM")
        finally:
            gateway.stop(10)
    assert "asks for its PIN" in check.en and "\n" not in check.en
    assert "sim_pin" in check.fix_en and check.details["state"] == "sim_locked"
    assert modem_led(check.details) == "sim_locked"  # the kiosk's modem LED blinks the same news


def test_a_healthy_gateway_modem_is_ok(monkeypatch, tmp_path):
    with Emulator() as emulator:
        config, gateway = _doctor_with_gateway_running(monkeypatch, tmp_path, emulator)
        try:
            check = wait_until(lambda: (c := doctor.check_modem(config)).status == doctor.OK and c,
                               what="doctor sees the modem")
        finally:
            gateway.stop(10)
    assert "SIMCOM_SIM7600E-H" in check.en and "home on Viettel" in check.en
