"""GPIO devices on gpiozero's MockFactory: a stateful fake pin with a history of its states."""
from __future__ import annotations

import threading

import pytest
from gpiozero.pins.mock import MockFactory

from hardware import leds as status
from hardware.gpio import (Beeper, GpioError, HelpButton, PowerKey, StatusLeds, parse_pulse_overrides)
from tests.support.waiting import wait_until as wait_for


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def press(pin):
    pin.drive_low()   # button to ground, pull-up: pressed is low
    pin.drive_high()


def test_bouncing_press_calls_back_once_and_a_later_press_again(factory):
    calls = []
    clock = FakeClock()
    with HelpButton(17, lambda: calls.append(clock.now), debounce_s=0.3, clock=clock) as button:
        pin = factory.pin(17)
        for _ in range(5):            # contact bounce: five edges within a few ms
            press(pin)
            clock.now += 0.002
        assert calls == [100.0]
        clock.now += 0.31
        press(pin)
        assert len(calls) == 2
        assert button.presses == 2


def test_button_survives_a_failing_callback(factory):
    clock = FakeClock()
    seen = []

    def handler():
        seen.append(1)
        raise RuntimeError("database locked")

    button = HelpButton(17, handler, clock=clock)
    press(factory.pin(17))
    clock.now += 1
    press(factory.pin(17))
    assert len(seen) == 2
    button.close()
    button.close()  # idempotent


def test_explicit_pin_factory_is_used_without_the_global_one(factory):
    other = MockFactory()
    calls = []
    button = HelpButton(22, lambda: calls.append(1), pin_factory=other)
    press(other.pin(22))
    assert calls == [1]
    button.close()
    other.reset()


def pulses(pin):
    """(on durations, off durations) from a mock pin's history, ignoring the first entry."""
    history = pin.states[1:]
    ons, offs = [], []
    for i, entry in enumerate(history[:-1]):
        (ons if entry.state else offs).append(history[i + 1].timestamp)
    return ons, offs


def test_fault_code_blinks_n_times_then_pauses(factory):
    tick = 0.03
    leds = StatusLeds({"modem": 13}, tick=tick)
    pin = factory.pin(13)
    leds.show("modem", "no_sim")                      # code 2: two blinks, a pause
    pattern = status.pattern_for("modem", "no_sim")
    wait_for(lambda: len(pin.states) >= 12)
    leds.close()
    ons, offs = pulses(pin)
    pause = 15 * tick
    groups, current = [], 0
    for i, on in enumerate(ons):
        current += 1
        if i < len(offs) and offs[i] > pause * 0.8:
            groups.append(current)
            current = 0
    assert groups[:2] == [2, 2], (ons, offs)
    assert pattern.count("11000") == 2
    assert all(tick <= on <= 10 * tick for on in ons), ons


def test_steady_and_off_states_and_unknown_state(factory):
    with StatusLeds({"ready": 5, "printer": 19, "internet": 0}) as leds:
        leds.show("ready", "ready")
        leds.show("printer", "pdf_mode")
        assert factory.pin(5).state
        assert not factory.pin(19).state
        assert leds.fitted == ("ready", "printer")
        leds.show("internet", "no_network")          # not fitted: remembered, nothing driven
        assert leds.state("internet") == "no_network"
        with pytest.raises(ValueError, match="known: .*registered"):
            leds.show("modem", "on fire")


def test_health_facts_drive_the_leds(factory):
    leds = StatusLeds({"ready": 5, "internet": 6, "modem": 13, "printer": 19}, tick=0.01)
    states = leds.apply(status.Health(hub_configured=True, network_up=True, hub_reachable=True,
                                      modem="no_modem", printer="ready"))
    assert states == {"ready": "ready", "internet": "online", "modem": "no_modem", "printer": "ready"}
    assert factory.pin(6).state and factory.pin(19).state
    wait_for(lambda: len(factory.pin(13).states) >= 3)   # the modem LED blinks its code
    leds.close()
    leds.close()


def test_unknown_led_and_pin_clash_are_clear_errors(factory):
    with pytest.raises(GpioError, match="unknown status LED"):
        StatusLeds({"disco": 7})
    button = HelpButton(17, lambda: None)
    with pytest.raises(GpioError, match="pin 17"):
        StatusLeds({"ready": 17})
    button.close()


def test_power_cycle_pulse_lengths_per_model(factory):
    key = PowerKey(4, overrides=parse_pulse_overrides(["TESTMOD=120/300"]))
    pin = factory.pin(4)
    assert key.pulses_for("SIMCOM_SIM7600E-H") == (0.5, 2.5)
    assert key.pulses_for("SIM800L") == (1.2, 1.5)
    assert key.pulses_for("mystery") == (0.5, 2.5)
    used = key.power_cycle("TESTMOD-X", settle_s=0.2)
    assert used == (0.12, 0.3)
    states = [s.state for s in pin.states]
    assert states == [False, True, False, True, False]
    off_pulse, settle, on_pulse = (pin.states[i].timestamp for i in (2, 3, 4))
    assert off_pulse == pytest.approx(0.3, abs=0.08)
    assert settle == pytest.approx(0.2, abs=0.08)
    assert on_pulse == pytest.approx(0.12, abs=0.08)
    key.close()
    key.close()


def test_sim7600_off_pulse_is_long_enough(factory):
    key = PowerKey(4)
    pin = factory.pin(4)
    key.power_cycle("SIM7600G", settle_s=0.05)
    assert pin.states[2].timestamp >= 2.5
    assert pin.states[4].timestamp >= 0.5
    key.close()


def test_close_interrupts_a_power_cycle(factory):
    key = PowerKey(4)
    pin = factory.pin(4)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (key.power_cycle("SIM800", settle_s=30), done.set()))
    thread.start()
    wait_for(lambda: len(pin.states) >= 2)
    key.close()
    assert done.wait(2), "close() did not cut the power cycle short"
    assert not pin.state


def test_bad_overrides_are_rejected():
    with pytest.raises(GpioError, match="MODEL=ON_MS/OFF_MS"):
        parse_pulse_overrides(["SIM800:1000"])
    with pytest.raises(GpioError, match="10-10000"):
        parse_pulse_overrides(["SIM800=5/99999"])


def test_buzzer_beeps(factory):
    with Beeper(26) as beeper:
        beeper.beep(times=2, on_s=0.01, off_s=0.01)
        pin = factory.pin(26)
        wait_for(lambda: len(pin.states) >= 5)
        assert [s.state for s in pin.states[:5]] == [False, True, False, True, False]


def test_blink_table_documents_every_code():
    table = status.blink_table()
    for entry in status.BLINK_CODES:
        assert entry.meaning_en in table
    assert "2 short blinks, pause" in table


def test_readme_table_matches_the_code():
    from tests.conftest import ROOT
    assert status.blink_table() in (ROOT / "docs" / "appliance.md").read_text(encoding="utf-8")
