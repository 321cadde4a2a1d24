"""The gateway's settings as one frozen object: what `Gateway` and each `ModemWorker` read.

Every time is in seconds unless the name says otherwise. The defaults are what real SIM7600/A7670
modems need (see docs/sms-modem.md, "Deadlines"); kiosk/appliance/wiring.py builds the object from
the kiosk's config, tests build it directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from datetime import datetime, timezone

from .errors import SmsError
from .policy import DEFAULT_POLICY, Policy


class GatewayError(SmsError):
    """The gateway cannot start (no ports, bad settings)."""


@dataclass(frozen=True)
class Retention:
    """How long traffic is kept, in days; 0 keeps forever. Only finished rows are purged: a part
    still queued or in flight, or a message not yet handled, is never deleted."""

    outbox_days: float = 40.0  # at least a month: the kiosk's monthly SMS budget counts the outbox
    inbox_days: float = 40.0
    health_days: float = 7.0  # health rows of modem ports no longer seen


@dataclass(frozen=True)
class GatewaySettings:
    """Everything the gateway needs besides its store, handlers and hardware callables."""

    ports: tuple[str, ...]
    # Stable identities in the store (default: the ports); a restarting worker requeues the
    # unconfirmed parts recorded under its name.
    names: tuple[str, ...] = ()
    baudrate: int = 115200
    rtscts: bool = False
    sim_pin: str = ""
    # --- outbox policy: flat here so config maps onto it key by key; defaults from sms.policy ---
    max_attempts: int = DEFAULT_POLICY.max_attempts
    quiet_start: str = DEFAULT_POLICY.quiet_start
    quiet_end: str = DEFAULT_POLICY.quiet_end
    timezone: str = DEFAULT_POLICY.timezone
    parts_per_minute: int = DEFAULT_POLICY.parts_per_minute
    validity_hours: float = DEFAULT_POLICY.validity_hours
    backoff_base: float = DEFAULT_POLICY.backoff_base
    backoff_max: float = DEFAULT_POLICY.backoff_max
    # --- deadlines of one modem exchange ---
    command_timeout: float = 10.0  # a plain command: real modems answer in < 0.5 s
    prompt_timeout: float = 3.0  # AT+CMGS's "> " prompt: well under 1 s on every modem
    send_timeout: float = 60.0  # the network's +CMGS after the PDU: up to a minute on a busy cell
    boot_seconds: float = 30.0  # a modem gone deaf is waited for this long (RDY, or AT answers again)
    port_return_seconds: float = 60.0  # a vanished USB port is waited for this long before escalating
    # --- periodic jobs ---
    sweep_seconds: float = 60.0
    health_seconds: float = 30.0
    registration_poll_seconds: float = 5.0  # while unregistered (URCs are unreliable)
    inbox_timeout_seconds: float = 600.0
    housekeeping_seconds: float = 3600.0
    retention: Retention = field(default_factory=Retention)
    # --- recovery ---
    recovery_delays: tuple[float, ...] = (2.0, 10.0, 30.0)
    dead_retry_seconds: float = 300.0

    def __post_init__(self):
        object.__setattr__(self, "ports", tuple(self.ports))
        object.__setattr__(self, "names", tuple(self.names) if self.names else tuple(self.ports))
        object.__setattr__(self, "recovery_delays", tuple(self.recovery_delays) or (1.0,))
        if not self.ports:
            raise GatewayError("no modem port configured (modem.port)")
        if len(set(self.ports)) != len(self.ports):
            raise GatewayError(f"the same modem port is listed twice: {list(self.ports)}")
        if len(self.names) != len(self.ports) or len(set(self.names)) != len(self.names):
            raise GatewayError(f"each modem port needs its own name: {list(self.names)}")
        for name in ("command_timeout", "prompt_timeout", "send_timeout"):
            if getattr(self, name) <= 0:
                raise GatewayError(f"{name} must be positive, got {getattr(self, name)!r}")
        self.policy.in_quiet_hours(datetime.now(timezone.utc))  # a bad HH:MM or zone fails here

    @cached_property
    def policy(self) -> Policy:
        return Policy(**{f.name: getattr(self, f.name) for f in fields(Policy)})

    @property
    def modem_options(self) -> dict:
        """Keyword arguments for sms.modem.Modem."""
        return dict(baudrate=self.baudrate, rtscts=self.rtscts, sim_pin=self.sim_pin,
                    command_timeout=self.command_timeout, prompt_timeout=self.prompt_timeout,
                    send_timeout=self.send_timeout)

    @property
    def validity_minutes(self) -> int:
        return int(self.validity_hours * 60)
