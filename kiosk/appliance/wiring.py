"""The one place each long-running process is put together from config.

`tdp gateway`, `tdp kiosk`, `tdp demo` and the tests all build their processes here, so a setting
is read in one place: the SMS gateway with its modem ports, power key and inbox handlers, and the
kiosk's GPIO devices (help button, buzzer, status LEDs).
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import ExitStack
from typing import Callable

from sms import gateway as sms_gateway, inbox

log = logging.getLogger(__name__)

EMULATOR = "emulator"


def modem_ports(config, ports: list[str] | None, stack: ExitStack) -> tuple[list[str], list[str]]:
    """(serial URLs, display names) for the wanted ports; "emulator" starts an in-process emulator
    on a real pty, stopped by `stack`."""
    wanted = ports or [config.modem.port, *config.modem.extra_ports]
    resolved, names = [], []
    for n, port in enumerate(wanted):
        if port == EMULATOR:
            from sms.emulator import Emulator
            emulator = Emulator()
            resolved.append(emulator.start())
            stack.callback(emulator.stop)
            names.append(EMULATOR if n == 0 else f"{EMULATOR}-{n + 1}")
        else:
            resolved.append(port)
            names.append(port)
    return resolved, names


def power_key(config, stack: ExitStack, settle_s: float = 10.0):
    """The HAT's PWRKEY as a callable `power_cycle(model)`, built once per process, so the pulses
    of the modem's model apply (hardware.gpio.MODEL_PULSES, `[gpio] power_key_models`); None when
    GPIO is off or no power key is wired. `settle_s`: seconds between the off and on pulses."""
    if not config.gpio.enabled or not config.gpio.modem_power_key:
        return None
    from kiosk.appliance.devices import Appliance
    appliance = stack.enter_context(Appliance.from_config(config.gpio, parts=("power_key",)))

    def power_cycle(model: str) -> None:
        appliance.power_cycle(model, settle_s=settle_s)
    return power_cycle


def gateway_settings(config, ports: list[str], names: list[str], **overrides) -> sms_gateway.GatewaySettings:
    """The gateway's settings from the kiosk's config ([modem], [sms], [site]); `overrides` are
    GatewaySettings fields (tests shorten delays this way)."""
    sms = config.sms
    fields = dict(
        ports=tuple(ports), names=tuple(names), baudrate=config.modem.baudrate, rtscts=config.modem.rtscts,
        sim_pin=config.modem.sim_pin, max_attempts=sms.max_attempts, quiet_start=sms.quiet_start,
        quiet_end=sms.quiet_end, timezone=config.site.timezone, parts_per_minute=sms.parts_per_minute,
        validity_hours=sms.validity_hours, backoff_base=sms.retry_seconds, send_timeout=sms.send_timeout_seconds,
        inbox_timeout_seconds=sms.incomplete_after_minutes * 60,
        recovery_delays=tuple(sms.recovery_seconds * k for k in (1, 5, 15)),
        dead_retry_seconds=sms.recovery_seconds * 150,
        retention=sms_gateway.Retention(outbox_days=sms.retention_days, inbox_days=sms.retention_days))
    fields.update(overrides)
    return sms_gateway.GatewaySettings(**fields)


def kiosk_housekeeping(config) -> list:
    """The kiosk's own purges, run by the gateway with its retention purge: the relay's audit
    log and reply-budget charges past their retention."""
    from kiosk.relay import router

    def relay_retention(db) -> int:
        return sum(router.purge(db, config).values())
    return [relay_retention]


def build_gateway(config, store_path: str, ports: list[str] | None, stack: ExitStack, *, handlers=None,
                  on_tick=None, housekeeping=None, power_settle_s: float = 10.0, now=None,
                  reminder_every: float = 60.0, **overrides):
    """A Gateway from config, closed with `stack`. `overrides` are GatewaySettings fields.

    Incoming SMS go to the relay's handler (kiosk.relay) and any registered with sms.inbox.
    The power key goes to the first (HAT) modem only: extra ports are USB dongles. Its
    housekeeping thread also runs the kiosk's periodic jobs (KioskTicker, at `now()` when given,
    a UTC datetime for tests), then `on_tick`."""
    resolved, names = modem_ports(config, ports, stack)
    ticker = KioskTicker(store_path, kiosk_jobs(config, reminder_every), now=now, then=on_tick)
    stack.callback(ticker.close)
    cycle = power_key(config, stack, settle_s=power_settle_s)
    if handlers is None:
        from kiosk.relay.router import make_handler  # residents' keywords and officials' commands
        handlers = [make_handler(config), *inbox.registered_handlers()]
    return sms_gateway.Gateway(store_path, gateway_settings(config, resolved, names, **overrides),
                               handlers=handlers, power_cycle={names[0]: cycle} if cycle else None,
                               on_tick=ticker,
                               housekeeping=kiosk_housekeeping(config) if housekeeping is None else housekeeping)


class KioskTicker:
    """The kiosk's periodic jobs, called from the gateway's housekeeping thread (about once a
    second, `on_tick`): each job is fn(db, now) -> anything, run at most every `every` seconds of
    its own. One store connection for all, opened on first use on that thread, closed with the
    gateway. Every job claims its work in the store, so a restart or a second gateway never
    repeats it; a failing job is logged and the others still run."""

    def __init__(self, store_path: str, jobs: list[tuple[Callable, float]], *, now=None, then=None):
        self.store_path, self.jobs, self.now, self.then = store_path, jobs, now, then
        self._db = None
        self._next = [0.0] * len(jobs)
        self._lock = threading.Lock()

    def __call__(self) -> None:
        try:
            if self._lock.acquire(blocking=False):
                try:
                    self._run_due()
                finally:
                    self._lock.release()
        finally:
            if self.then is not None:
                self.then()

    def _run_due(self) -> None:
        from kiosk.appliance.store import open_store
        moment = time.monotonic()
        for index, (job, every) in enumerate(self.jobs):
            if moment < self._next[index]:
                continue
            self._next[index] = moment + every
            try:
                if self._db is None:
                    self._db = open_store(self.store_path)
                job(self._db, self.now() if self.now else None)
            except Exception:  # one broken job must not stop the others or the gateway
                log.exception("kiosk job %s failed", getattr(job, "__name__", job))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def kiosk_jobs(config, reminder_every: float = 60.0, notices_every: float = 1.0) -> list[tuple[Callable, float]]:
    """(job, seconds between runs) for the kiosk ticker: scheduled notices, questions to close and
    the leader's digest (kiosk.notices.housekeeping), and the evening reminders before official
    appointments."""
    from kiosk.dossiers import lifecycle, tracking
    from kiosk.notices import housekeeping as notices_housekeeping

    def notices(db, now) -> None:
        notices_housekeeping.tick(db, config, now)

    def appointment_reminders(db, now) -> None:
        sent = lifecycle.send_reminders(db, prefix=tracking.prefix(config), timezone=config.site.timezone,
                                        evening_hour=config.requests.reminder_hour, now=now)
        if sent:
            log.info("appointment reminders queued: %s", ", ".join(sent))
    return [(notices, notices_every), (appointment_reminders, reminder_every)]


def start_kiosk_devices(config, stack: ExitStack) -> None:
    """The help button (a press opens a help ticket and texts the volunteers on duty), the buzzer
    and the status LEDs, refreshed from the store every few seconds. No-op when GPIO is off."""
    if not config.gpio.enabled:
        return
    from kiosk.appliance.devices import Appliance, LedUpdater
    from kiosk.appliance.status import gather, led_health
    from kiosk.appliance.store import open_store
    from kiosk.volunteers import help_tickets

    def pressed() -> None:  # runs on gpiozero's thread: its own store connection
        with open_store(config.storage.path) as db:
            ticket = help_tickets.create(db, config, "kiosk", note="nút gọi tình nguyện viên")
        log.info("help button: ticket %s", ticket["display_number"])

    appliance = stack.enter_context(Appliance.from_config(config.gpio, on_help=pressed,
                                                          parts=("button", "leds", "buzzer")))
    led_store = stack.enter_context(open_store(config.storage.path))
    updater = LedUpdater(appliance, lambda: led_health(gather(led_store, config), config)).start()
    stack.callback(updater.stop)
