"""Wires the Pi's GPIO devices to the domain through plain callables.

`Appliance.from_config(config.gpio, on_help=...)` builds the help button, status LEDs, buzzer
and modem power key from `[gpio]`; with `enabled = false` every method is a harmless no-op, so
callers never branch on the hardware. The caller supplies `on_help` (creating a help ticket)
and a `facts()` callable for the LED updater; nothing here touches the store or the modem.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Callable

from hardware.gpio import Beeper, HelpButton, PowerKey, StatusLeds, parse_pulse_overrides
from hardware.leds import Health

log = logging.getLogger(__name__)

PARTS = ("button", "leds", "buzzer", "power_key")
HELP_SHOWN_SECONDS = 60.0    # the ready LED flickers this long after a press: "someone is coming"


class Appliance:
    """The GPIO side of the kiosk. Context manager; close() is idempotent."""

    def __init__(self, *, button: HelpButton | None = None, leds: StatusLeds | None = None,
                 beeper: Beeper | None = None, power_key: PowerKey | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.button, self.leds, self.beeper, self.power_key = button, leds, beeper, power_key
        self._clock = clock
        self._help_until = 0.0
        self._last_health = Health(starting=True)

    @classmethod
    def from_config(cls, gpio, on_help: Callable[[], None] = lambda: None, *, parts=PARTS, pin_factory=None,
                    tick: float | None = None, clock: Callable[[], float] = time.monotonic) -> "Appliance":
        """Devices from a kiosk.appliance.config.Gpio section; none at all when `gpio.enabled` is false.

        `parts` picks which devices this process claims: a GPIO line has one owner, so the kiosk
        takes ("button", "leds", "buzzer") and the gateway ("power_key",).
        """
        appliance = cls(clock=clock)
        if not gpio.enabled:
            return appliance
        try:
            pins = {"ready": gpio.led_ready, "internet": gpio.led_internet, "modem": gpio.led_modem,
                    "printer": gpio.led_printer}
            if "leds" in parts:
                appliance.leds = StatusLeds(pins, pin_factory=pin_factory, **({"tick": tick} if tick else {}))
            if gpio.buzzer and "buzzer" in parts:
                appliance.beeper = Beeper(gpio.buzzer, pin_factory=pin_factory)
            if gpio.modem_power_key and "power_key" in parts:
                appliance.power_key = PowerKey(
                    gpio.modem_power_key, default=(gpio.power_key_on_ms / 1000, gpio.power_key_off_ms / 1000),
                    overrides=parse_pulse_overrides(gpio.power_key_models),
                    active_high=gpio.power_key_active_high, pin_factory=pin_factory)
            if "button" in parts:
                appliance.button = HelpButton(gpio.help_button, appliance._helped(on_help),
                                              debounce_s=gpio.debounce_ms / 1000, pin_factory=pin_factory,
                                              clock=clock)
        except Exception:
            appliance.close()
            raise
        appliance.show(appliance._last_health)
        return appliance

    def _helped(self, on_help: Callable[[], None]) -> Callable[[], None]:
        def pressed() -> None:
            self._help_until = self._clock() + HELP_SHOWN_SECONDS
            if self.beeper:
                self.beeper.beep(times=2)
            self.show(self._last_health)
            on_help()
        return pressed

    def show(self, health: Health) -> dict[str, str]:
        """Show these facts on the LEDs (plus "help called" for a minute after a press)."""
        self._last_health = health
        if self._clock() < self._help_until:
            health = replace(health, help_called=True)
        return self.leds.apply(health) if self.leds else {}

    def power_cycle(self, model: str = "", settle_s: float = 10.0) -> bool:
        """Pulse the HAT's PWRKEY off then on; False when no power key is wired. For the gateway."""
        if self.power_key is None:
            return False
        if self.leds:
            self.leds.show("modem", "power_cycling")
        self.power_key.power_cycle(model, settle_s=settle_s)
        return True

    def close(self) -> None:
        for device in (self.button, self.leds, self.beeper, self.power_key):
            if device is not None:
                device.close()

    def __enter__(self) -> "Appliance":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class LedUpdater:
    """Every `interval` seconds, asks `facts()` for a Health and shows it; stop() ends it.

    `facts` runs on this thread, never on the UI's; an exception in it shows the ready LED's
    fault code rather than stopping the updates.
    """

    def __init__(self, appliance: Appliance, facts: Callable[[], Health], interval: float = 5.0):
        self.appliance, self.facts, self.interval = appliance, facts, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.updates = 0

    def update_once(self) -> dict[str, str]:
        try:
            health = self.facts()
        except Exception:  # noqa: BLE001 - a broken probe shows as a fault, it must not stop the LEDs
            log.exception("health facts failed")
            health = replace(self.appliance._last_health, fault=True)
        states = self.appliance.show(health)
        self.updates += 1
        return states

    def _run(self) -> None:
        while not self._stop.is_set():
            self.update_once()
            self._stop.wait(self.interval)

    def start(self) -> "LedUpdater":
        self._thread = threading.Thread(target=self._run, name="tdp-leds", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
