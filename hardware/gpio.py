"""GPIO devices of the appliance, on gpiozero: help button, status LEDs, buzzer, modem power key.

Every class takes `pin_factory=`; None means gpiozero's default, chosen by $GPIOZERO_PIN_FACTORY
(tests use gpiozero's MockFactory, the Pi uses lgpio). Devices are context managers and their
`close()` may be called any number of times. Pins are BCM numbers.
"""
from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from typing import Callable

from gpiozero import LED, Button, Buzzer, DigitalOutputDevice
from gpiozero.exc import GPIOZeroError

from .errors import HardwareError
from .leds import LEDS, TICK_SECONDS, Health, pattern_for, states_for

log = logging.getLogger(__name__)


class GpioError(HardwareError):
    """A GPIO device could not be set up or driven; the message names the pin and what to fix."""


class GpioUnavailable(GpioError, RuntimeError):
    """No usable GPIO on this machine (not a Pi, or no pin library installed)."""


def _device(factory_call, what: str, pin: int):
    """Build a gpiozero device, turning its exceptions into one actionable GpioError."""
    try:
        return factory_call()
    except GPIOZeroError as exc:
        name = type(exc).__name__
        if name in ("BadPinFactory", "PinFactoryFallback"):
            raise GpioUnavailable(f"no GPIO on this machine for {what} (pin {pin}): {exc}; "
                                  "set [gpio] enabled = false off the Pi") from None
        raise GpioError(f"{what} on BCM pin {pin}: {exc}") from None


class _Closing:
    """Context manager + idempotent close() for the classes below."""

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class HelpButton(_Closing):
    """The "call a volunteer" push button (to ground, internal pull-up).

    `callback()` runs once per press; presses less than `debounce_s` seconds after the last
    accepted one are contact bounce or impatient double-presses and are ignored. The debounce
    is done here rather than by the pin library because mock and lgpio pins differ in it.
    A callback that raises is logged, never kills the GPIO thread.
    """

    def __init__(self, pin: int, callback: Callable[[], None], *, debounce_s: float = 0.3,
                 pin_factory=None, clock: Callable[[], float] = time.monotonic):
        self.callback = callback
        self.debounce_s = debounce_s
        self.presses = 0
        self._clock = clock
        self._last: float | None = None
        self._lock = threading.Lock()
        self._button = _device(lambda: Button(pin, pull_up=True, pin_factory=pin_factory), "help button", pin)
        self._button.when_pressed = self._pressed

    def _pressed(self) -> None:
        now = self._clock()
        with self._lock:
            if self._last is not None and now - self._last < self.debounce_s:
                return
            self._last = now
            self.presses += 1
        try:
            self.callback()
        except Exception:  # the button must keep working whatever the handler does
            log.exception("help button callback failed")

    @property
    def is_pressed(self) -> bool:
        return bool(self._button.is_pressed)

    def close(self) -> None:
        self._button.close()


class StatusLeds(_Closing):
    """The four status LEDs (ready, internet, modem, printer), each playing a blink pattern.

    `pins` maps LED names to BCM pins; a pin of 0 means that LED is not fitted. Patterns are
    hardware.leds tick strings played by gpiozero's `source` thread at `tick` seconds per tick.
    """

    def __init__(self, pins: dict[str, int], *, tick: float = TICK_SECONDS, pin_factory=None):
        unknown = set(pins) - set(LEDS)
        if unknown:
            raise GpioError(f"unknown status LED(s): {', '.join(sorted(unknown))} (known: {', '.join(LEDS)})")
        self.tick = tick
        self._leds: dict[str, LED] = {}
        self._patterns: dict[str, str] = {}
        self._states: dict[str, str] = {}
        try:
            for name, pin in pins.items():
                if pin:
                    self._leds[name] = _device(lambda p=pin: LED(p, pin_factory=pin_factory), f"{name} LED", pin)
        except GpioError:
            self.close()
            raise

    @property
    def fitted(self) -> tuple[str, ...]:
        return tuple(self._leds)

    def state(self, led: str) -> str | None:
        """The state name last shown on `led` (None before the first show)."""
        return self._states.get(led)

    def show(self, led: str, state: str) -> None:
        """Show `state` (a name from hardware.leds.BLINK_CODES) on `led`; unchanged states keep playing."""
        pattern = pattern_for(led, state)
        self._states[led] = state
        device = self._leds.get(led)
        if device is None or self._patterns.get(led) == pattern:
            return
        self._patterns[led] = pattern
        device.source = None  # stops the previous pattern's thread before the next starts
        if set(pattern) == {"1"}:
            device.on()
        elif set(pattern) == {"0"}:
            device.off()
        else:
            device.source_delay = self.tick
            device.source = itertools.cycle(int(t) for t in pattern)

    def apply(self, health: Health) -> dict[str, str]:
        """Show what these health facts mean on every LED; returns LED -> state name."""
        states = states_for(health)
        for led, state in states.items():
            self.show(led, state)
        return states

    def close(self) -> None:
        for device in self._leds.values():
            device.source = None
            device.close()
        self._patterns.clear()


class Beeper(_Closing):
    """The optional buzzer: short beeps as feedback (help button pressed, fault)."""

    def __init__(self, pin: int, *, pin_factory=None):
        self._buzzer = _device(lambda: Buzzer(pin, pin_factory=pin_factory), "buzzer", pin)

    def beep(self, times: int = 1, on_s: float = 0.1, off_s: float = 0.1) -> None:
        """Beep `times` times in the background (on/off in seconds)."""
        self._buzzer.beep(on_time=on_s, off_time=off_s, n=times, background=True)

    def close(self) -> None:
        self._buzzer.close()


# PWRKEY pulse lengths in seconds (on, off), from the modules' hardware design manuals.
# Matched by prefix against the model the modem reports (AT+CGMM), case-insensitive.
MODEL_PULSES: dict[str, tuple[float, float]] = {
    "SIM7600": (0.5, 2.5),
    "SIMCOM_SIM7600": (0.5, 2.5),
    "A76": (0.1, 2.5),
    "SIM7000": (1.0, 1.3),
    "SIM7070": (1.0, 1.3),
    "SIM800": (1.2, 1.5),
    "EC25": (0.5, 0.8),
}

_OVERRIDE = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_pulse_overrides(items: list[str]) -> dict[str, tuple[float, float]]:
    """Parse config entries "MODEL=ON_MS/OFF_MS" into {MODEL: (on_s, off_s)}; a bad one raises GpioError."""
    table = {}
    for item in items:
        match = _OVERRIDE.match(item)
        if not match:
            raise GpioError(f'[gpio] power_key_models: {item!r} is not "MODEL=ON_MS/OFF_MS", e.g. "SIM800=1200/1500"')
        on_ms, off_ms = int(match[2]), int(match[3])
        if not (10 <= on_ms <= 10000 and 10 <= off_ms <= 10000):
            raise GpioError(f"[gpio] power_key_models: {item!r}: pulses must be 10-10000 ms")
        table[match[1].upper()] = (on_ms / 1000, off_ms / 1000)
    return table


class PowerKey(_Closing):
    """The modem HAT's PWRKEY line: pulse it to switch the module on or off.

    `default` is the (on, off) pulse pair in seconds for models not in the table; `overrides`
    (from config) win over the built-in MODEL_PULSES. Most HATs drive PWRKEY through a
    transistor, so the GPIO is active-high; set `active_high=False` for a direct connection.
    """

    def __init__(self, pin: int, *, default: tuple[float, float] = (0.5, 2.5),
                 overrides: dict[str, tuple[float, float]] | None = None,
                 active_high: bool = True, pin_factory=None):
        self.default = default
        self.table = {**MODEL_PULSES, **{k.upper(): v for k, v in (overrides or {}).items()}}
        self._stop = threading.Event()
        self._busy = threading.RLock()
        self._key = _device(lambda: DigitalOutputDevice(pin, active_high=active_high, initial_value=False,
                                                        pin_factory=pin_factory), "modem power key", pin)

    def pulses_for(self, model: str) -> tuple[float, float]:
        """(on, off) pulse lengths in seconds for `model`, the longest matching prefix winning."""
        wanted = (model or "").strip().upper()
        matches = [prefix for prefix in self.table if wanted.startswith(prefix)]
        return self.table[max(matches, key=len)] if matches else self.default

    def pulse(self, seconds: float) -> None:
        """Hold the key for `seconds`, then release it. Blocks; close() cuts it short."""
        with self._busy:
            if self._stop.is_set():
                raise GpioError("modem power key is closed")
            self._key.on()
            try:
                self._stop.wait(seconds)
            finally:
                self._key.off()

    def power_cycle(self, model: str = "", settle_s: float = 10.0) -> tuple[float, float]:
        """Switch the module off (long pulse), wait `settle_s` seconds for it to power down, then
        on (short pulse). Returns the (on, off) pulse lengths used. This is the gateway's last
        recovery step before it reports the modem dead."""
        on_s, off_s = self.pulses_for(model)
        with self._busy:
            log.info("power-cycling modem %r: off pulse %.2fs, on pulse %.2fs", model, off_s, on_s)
            self.pulse(off_s)
            if self._stop.wait(settle_s):
                return on_s, off_s
            self.pulse(on_s)
        return on_s, off_s

    def close(self) -> None:
        self._stop.set()  # a running pulse or settle wait returns at once and releases the key
        with self._busy:
            self._key.close()
