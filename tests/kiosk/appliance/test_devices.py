"""The appliance wiring on gpiozero's MockFactory: button → callback, facts → LEDs, power key."""
from __future__ import annotations

import time

import pytest

from hardware.leds import Health
from kiosk.appliance import config as config_module
from kiosk.appliance.devices import Appliance, LedUpdater
from kiosk.appliance.status import modem_led


def gpio(**overrides):
    return config_module.from_dict({"gpio": {"enabled": True, "buzzer": 26, **overrides}}).gpio


def test_press_calls_help_beeps_and_flags_the_ready_led(factory):
    clock = [0.0]
    calls = []
    with Appliance.from_config(gpio(), on_help=lambda: calls.append(clock[0]), clock=lambda: clock[0]) as appliance:
        assert appliance.leds.state("ready") == "starting"
        button = factory.pin(17)
        button.drive_low()
        button.drive_high()
        button.drive_low()                       # a bounce
        assert calls == [0.0]
        assert appliance.leds.state("ready") == "help_called"
        deadline = time.monotonic() + 5
        while len(factory.pin(26).states) < 2:     # the buzzer sounds on its own thread
            assert time.monotonic() < deadline, "the buzzer never sounded"
            time.sleep(0.005)
        clock[0] = 61.0
        appliance.show(Health())
        assert appliance.leds.state("ready") == "ready"


def test_disabled_gpio_is_a_quiet_no_op():
    appliance = Appliance.from_config(config_module.Config().gpio, on_help=lambda: None)
    assert appliance.show(Health()) == {}
    assert appliance.power_cycle() is False
    appliance.close()


def test_led_updater_shows_facts_and_survives_a_failing_probe(factory):
    appliance = Appliance.from_config(gpio(buzzer=0), on_help=lambda: None)
    facts = iter([Health(modem=modem_led({"state": "ok", "registration": "home", "last_error": None})),
                  ValueError("probe broke")])

    def next_facts():
        item = next(facts)
        if isinstance(item, Exception):
            raise item
        return item

    updater = LedUpdater(appliance, next_facts, interval=60)
    assert updater.update_once()["modem"] == "registered"
    assert updater.update_once()["ready"] == "fault"
    appliance.close()


def test_modem_led_states_for_gateway_health_rows():
    def row(state="ok", registration="home", error=None):
        return {"state": state, "registration": registration, "last_error": error}
    assert modem_led(row(state="error", error="+CME ERROR: 10 SIM not inserted")) == "no_sim"
    assert modem_led(row(state="error", error="SIM PIN required")) == "sim_locked"
    assert modem_led(row(state="dead")) == "no_modem"
    assert modem_led(None) == "no_modem"
    assert modem_led(row(registration="searching")) == "searching"
    assert modem_led(row(registration="denied")) == "denied"
    assert modem_led(row(registration="roaming")) == "registered"


def test_power_cycle_uses_configured_model_pulses(factory):
    appliance = Appliance.from_config(gpio(power_key_models=["TESTMOD=50/150"]), on_help=lambda: None)
    started = time.monotonic()
    assert appliance.power_cycle("TESTMOD", settle_s=0.05)
    assert appliance.leds.state("modem") == "power_cycling"
    states = factory.pin(4).states
    assert [s.state for s in states] == [False, True, False, True, False]
    assert states[2].timestamp == pytest.approx(0.15, abs=0.05)
    assert states[4].timestamp == pytest.approx(0.05, abs=0.05)
    assert time.monotonic() - started < 1
    appliance.close()


def test_kiosk_and_gateway_claim_separate_pins(factory):
    kiosk = Appliance.from_config(gpio(), on_help=lambda: None, parts=("button", "leds", "buzzer"))
    gateway = Appliance.from_config(gpio(power_key_models=["TESTMOD=20/20"]), parts=("power_key",))
    # constructing both did not raise GPIOPinInUse: no pin is claimed twice
    assert kiosk.power_key is None and gateway.button is None and gateway.leds is None
    assert gateway.power_cycle("TESTMOD", settle_s=0) is True
    kiosk.close()
    gateway.close()
