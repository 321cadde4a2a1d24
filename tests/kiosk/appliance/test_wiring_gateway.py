"""The gateway as kiosk/appliance/wiring.py builds it: settings from config, and the power key built
once, with the model the modem reported, so each model's PWRKEY pulses reach the GPIO."""
from __future__ import annotations

from contextlib import ExitStack

import pytest

from kiosk.appliance import config as config_module
from kiosk.appliance.wiring import build_gateway, gateway_settings
from sms import health as modem_health
from sms.emulator import Emulator
from sms.gateway import open_database
from tests.support.waiting import wait_until


def test_settings_come_from_config():
    config = config_module.from_dict({"sms": {"quiet_start": "22:00", "retry_seconds": 7.5, "retention_days": 9,
                                              "send_timeout_seconds": 45},
                                      "modem": {"baudrate": 9600, "sim_pin": "1234"},
                                      "site": {"timezone": "Asia/Bangkok"}})
    settings = gateway_settings(config, ["/dev/ttyUSB2"], ["hat"])
    assert (settings.ports, settings.names, settings.baudrate, settings.sim_pin) == (
        ("/dev/ttyUSB2",), ("hat",), 9600, "1234")
    assert (settings.policy.quiet_start, settings.policy.backoff_base, settings.policy.timezone) == (
        "22:00", 7.5, "Asia/Bangkok")
    assert settings.send_timeout == 45 and settings.retention.outbox_days == settings.retention.inbox_days == 9


@pytest.mark.parametrize("model, pulses", [("SIMCOM_SIM7600E-H", (2.5, 0.5)), ("A7670E-LASE", (2.5, 0.1))])
def test_the_power_key_pulses_of_the_identified_model_reach_the_gpio(factory, tmp_path, model, pulses):
    store = tmp_path / "tdp.sqlite3"
    config = config_module.from_dict({"storage": {"path": str(store)},
                                      "gpio": {"enabled": True, "modem_power_key": 4}})
    with Emulator(model=model) as emulator, ExitStack() as stack:
        gateway = build_gateway(config, str(store), [emulator.port], stack, handlers=[], power_settle_s=0.05,
                                recovery_delays=(0.05,), port_return_seconds=0.2, command_timeout=0.5,
                                prompt_timeout=0.5)
        gateway.start()
        stack.callback(gateway.stop, 10)
        db = stack.enter_context(open_database(store))
        wait_until(lambda: [r["state"] for r in modem_health.rows(db)] == ["ok"], what="modem ready")
        emulator.unplug()  # the modem is gone for good: recovery ends in the power key
        pin = factory.pin(4)
        wait_until(lambda: len(pin.states) >= 5, timeout=20, what="off and on pulses")
        states = pin.states[:5]
        assert [s.state for s in states] == [False, True, False, True, False]
        assert (states[2].timestamp, states[4].timestamp) == (pytest.approx(pulses[0], abs=0.1),
                                                              pytest.approx(pulses[1], abs=0.1))
