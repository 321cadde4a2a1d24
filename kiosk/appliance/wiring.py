"""The one place each long-running process is put together from config.

`tdp gateway`, `tdp kiosk`, `tdp demo` and the tests all build their processes here, so a setting
is read in one place: the SMS gateway with its modem ports, power key and inbox handlers, and the
kiosk's GPIO devices (help button, buzzer, status LEDs).
"""
from __future__ import annotations

import logging
from contextlib import ExitStack

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


def power_key(config, stack: ExitStack):
    """The HAT's PWRKEY as a callable taking the modem's model (so per-model pulses apply), or None
    when GPIO is off or no power key is wired."""
    if not config.gpio.enabled or not config.gpio.modem_power_key:
        return None
    from kiosk.appliance.devices import Appliance
    appliance = stack.enter_context(Appliance.from_config(config.gpio, parts=("power_key",)))
    return lambda model="": appliance.power_cycle(model)


def build_gateway(config, store_path: str, ports: list[str] | None, stack: ExitStack, **overrides):
    """A Gateway from config, closed with `stack`.

    Incoming SMS go to the relay's handler (kiosk.relay) and any registered with sms.inbox."""
    resolved, names = modem_ports(config, ports, stack)
    sms = config.sms
    cycle = power_key(config, stack)
    options = dict(baudrate=config.modem.baudrate, rtscts=config.modem.rtscts, sim_pin=config.modem.sim_pin,
                   max_attempts=sms.max_attempts, quiet_start=sms.quiet_start, quiet_end=sms.quiet_end,
                   timezone_name=config.site.timezone, parts_per_minute=sms.parts_per_minute,
                   validity_hours=sms.validity_hours, backoff_base=sms.retry_seconds,
                   send_timeout=sms.send_timeout_seconds, inbox_timeout_seconds=sms.incomplete_after_minutes * 60,
                   recovery_delays=tuple(sms.recovery_seconds * k for k in (1, 5, 15)),
                   dead_retry_seconds=sms.recovery_seconds * 150,
                   power_cycle={names[0]: cycle} if cycle else None)
    options.update(overrides)
    if "handlers" not in options:
        from kiosk.relay.residents import make_handler  # residents' keywords and officials' commands
        options["handlers"] = [make_handler(config), *inbox.registered_handlers()]
    return sms_gateway.Gateway(store_path, resolved, names=names, **options)


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
