"""A modem session over the AT channel: initialise, send PDUs, read/delete SIM storage, events.

`Modem` turns the channel's unsolicited lines into event dataclasses for `on_event` (called on
the channel's dispatcher thread, so a handler may call Modem methods) and re-initialises the
modem by itself when it reboots (RDY or an unsolicited +CPIN: READY).
"""
from __future__ import annotations

import csv
import logging
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Iterator

from sms.at import (ESC, AtChannel, AtError, AtTimeout, PortGone, Rebooted, SimPinRequired, Urc, cms_error)

log = logging.getLogger(__name__)


@dataclass
class ModemInfo:
    """What initialise/health learnt. signal_dbm is None when unknown (CSQ 99)."""

    model: str = ""
    manufacturer: str = ""
    imei: str = ""
    operator: str = ""
    signal_csq: int = 99
    signal_dbm: int | None = None
    registered: bool = False
    registration: str = "unknown"  # home, roaming, searching, denied, unregistered, unknown
    sim: str = ""
    cnmi: str = ""
    storage: str = ""


@dataclass
class StoredMessage:
    """One message in modem storage: index, 27.005 status (0 unread … 3 sent), PDU hex."""

    index: int
    status: int
    pdu: str


@dataclass
class IncomingStored:
    """+CMTI: a new message was stored at `index` of `storage`; read then delete it."""

    storage: str
    index: int


@dataclass
class IncomingPdu:
    """+CMT: a new message delivered directly (not stored); ack with ack_new_message()."""

    pdu: str


@dataclass
class StatusReportPdu:
    """+CDS: a status report delivered directly."""

    pdu: str


@dataclass
class StatusReportStored:
    """+CDSI: a status report stored at `index` of `storage`."""

    storage: str
    index: int


@dataclass
class ModemRebooted:
    """The modem restarted on its own (RDY or an unsolicited +CPIN: READY); settings were lost."""


@dataclass
class ConnectionLost:
    """The port vanished; every later command raises PortGone. Reopen with a new Modem."""

    error: PortGone


@dataclass
class RegistrationChanged:
    """+CREG/+CEREG: the network registration changed; `registered` is home or roaming."""

    state: str

    @property
    def registered(self) -> bool:
        return self.state in ("home", "roaming")


@dataclass
class StorageFull:
    """The modem says its message storage is full (+CIEV "SMSFULL", ^SMMEMFULL)."""


@dataclass
class Unsolicited:
    """Any other unsolicited line (RING, +CREG: n, noise), for logging."""

    line: str


# 4 is "unknown (e.g. out of coverage)" in 27.007; "unknown" here means the modem did not say.
_REGISTRATION = {0: "unregistered", 1: "home", 2: "searching", 3: "denied", 4: "no_coverage",
                 5: "roaming", 6: "home", 7: "roaming", 9: "home", 10: "roaming"}
_CNMI_PREFERENCES = ((2, 1, 3, 0), (1, 2, 3, 0), (0, 2, 1, 3), (1, 2, 0), (0, 1))
_LOCATION = re.compile(r'^\+C\w+:\s*"(\w+)"\s*,\s*(\d+)')
# With AT+CREG=1 the URC is "+CREG: <stat>"; with =2 location fields follow (quoted hex).
_REGISTRATION_EVENT = re.compile(r'^\+C(?:E|G)?REG:\s*(\d+)\s*(?:,\s*"|$)')
_STORAGE_FULL = re.compile(r'SMSFULL|MEMFULL|\+CMS ERROR:\s*322', re.IGNORECASE)
# States that mean "cannot send now"; "unknown" (a modem without CREG) does not hold sends.
UNREGISTERED = frozenset({"unregistered", "searching", "denied", "no_coverage"})


def parse_numbers(line: str) -> list[str]:
    """Fields after "+XXX:" split on commas outside quotes, quotes removed, blanks kept."""
    body = line.split(":", 1)[1] if ":" in line else line
    if not body.strip():
        return []
    return [f.strip() for f in next(csv.reader([body.strip()], skipinitialspace=True))]


def parse_cnmi_support(lines: list[str]) -> list[set[int]]:
    """Parse the reply to AT+CNMI=? into one set of allowed values per parameter.

    Accepts "+CNMI: (2),(0-1,3),(0,2)", "+CNMI:(0-3),…" and the unbracketed "+CNMI: 0-2,0-3".
    """
    line = next((l for l in lines if l.upper().startswith("+CNMI")), "")
    body = line.split(":", 1)[1] if ":" in line else ""
    groups = re.findall(r"\(([^)]*)\)", body) or [g for g in body.split(",") if g.strip()]
    support: list[set[int]] = []
    for group in groups:
        values: set[int] = set()
        for item in re.split(r"[,\s]+", group.strip()):
            if m := re.fullmatch(r"(\d+)-(\d+)", item):
                values.update(range(int(m.group(1)), int(m.group(2)) + 1))
            elif item.isdigit():
                values.add(int(item))
        support.append(values)
    return support


def choose_cnmi(support: list[set[int]]) -> str:
    """The CNMI line to set: mode 2, +CMTI (mt 1, else +CMT 2), no broadcasts, +CDS (ds 1, else
    +CDSI 2), flush buffered indications (bfr 0); only as many parameters as advertised."""
    chosen = []
    for values, preference in zip(support, _CNMI_PREFERENCES):
        pick = next((v for v in preference if v in values), min(values) if values else None)
        if pick is None:
            break
        chosen.append(str(pick))
    return ",".join(chosen)


def parse_registration(lines: list[str]) -> str | None:
    """Registration state from an AT+CREG?/AT+CEREG? read reply ("+CREG: n,stat[,lac,ci[,act]]")."""
    for line in lines:
        fields = parse_numbers(line)
        if re.match(r"^\+C(E|G)?REG:", line) and len(fields) >= 2 and fields[1].isdigit():
            return _REGISTRATION.get(int(fields[1]), "unknown")
    return None


def parse_model(lines: list[str]) -> tuple[str, str]:
    """(manufacturer, model) from AT+CGMM or ATI output; either may be ""."""
    manufacturer = model = ""
    for line in lines:
        key, _, value = line.partition(":")
        value = re.sub(r"^I:\s*", "", value.strip())
        if key.strip().lower() == "model":
            model = value
        elif key.strip().lower() == "manufacturer":
            manufacturer = value
    if not model:
        plain = [l.strip() for l in lines if l.strip() and not l.startswith(("+GCAP", "Revision", "IMEI"))]
        model = re.sub(r"^\+CGMM:\s*", "", plain[0]) if plain else ""
    return manufacturer, model[:64].strip()


def parse_storages(lines: list[str]) -> list[str]:
    """Storages usable for reading (first list) from the AT+CPMS=? reply, e.g. ["SM", "ME"]."""
    line = next((l for l in lines if l.upper().startswith("+CPMS")), "")
    first = re.search(r"\(([^)]*)\)", line)
    return re.findall(r'"([^"]+)"', first.group(1)) if first else []


def choose_storage(available: list[str]) -> str:
    """SIM storage when offered (it survives a modem swap and is what +CMTI names), else ME."""
    for name in ("SM", "ME", "MT"):
        if name in available:
            return name
    return available[0] if available else ""


class Modem:
    """One modem session. Methods are thread-safe; commands go one at a time on the channel."""

    def __init__(self, port: str, *, baudrate: int = 115200, rtscts: bool = False, sim_pin: str = "",
                 on_event: Callable[[object], None] | None = None, command_timeout: float = 10.0,
                 prompt_timeout: float = 3.0, send_timeout: float = 60.0):
        self.port = port
        self.baudrate = baudrate
        self.rtscts = rtscts
        self.sim_pin = sim_pin
        self.on_event = on_event
        self.command_timeout = command_timeout
        self.prompt_timeout = prompt_timeout
        self.send_timeout = send_timeout
        self.info = ModemInfo()
        self.ack_required = False
        self.last_error: AtError | None = None
        self._channel: AtChannel | None = None
        self._init_lock = threading.Lock()
        self._init_cond = threading.Condition()
        self._init_generation = 0
        self._last_init_started = 0.0
        self._last_init_finished = 0.0
        self._reinit_needed = False
        self._init_thread: int | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    def open(self) -> ModemInfo:
        """Open the port and initialise the modem. Raises PortGone or another AtError."""
        if self._channel is None or not self._channel.is_open:
            self._channel = AtChannel(self.port, baudrate=self.baudrate, rtscts=self.rtscts,
                                      on_urc=self._on_urc, on_connection_lost=self._on_lost,
                                      on_boot=self._boot_seen)
            try:
                # A gateway killed mid-send may have left the modem waiting for a PDU after "> ":
                # ESC ends that, and the quiet wait lets its answer pass before our first command.
                self._channel.write_raw(ESC.encode())
            except OSError as exc:
                self.close()
                raise PortGone(f"modem port {self.port} failed on write: {exc}") from exc
            self._channel.wait_quiet(0.15, 0.6)
        try:
            return self.initialise()
        except AtError:
            self.close()
            raise

    def close(self) -> None:
        """Close the port; idempotent."""
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()

    def __enter__(self) -> "Modem":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._channel is not None and self._channel.is_open

    def command(self, cmd: str, timeout: float | None = None, data: str | None = None,
                prompt_timeout: float | None = None) -> list[str]:
        """Run one AT command on this modem (see AtChannel.command). After a reboot, commands from
        other threads wait (at most `timeout`) for the re-initialisation, then raise Rebooted."""
        channel = self._channel
        if channel is None:
            raise PortGone(f"modem on {self.port} is not open", command=cmd)
        timeout = timeout or self.command_timeout
        if self._reinit_needed and self._init_thread != threading.get_ident() and not self.wait_ready(timeout):
            raise Rebooted(f"{cmd}: modem on {self.port} rebooted and is not initialised yet", command=cmd)
        return channel.command(cmd, timeout=timeout, data=data, prompt_timeout=prompt_timeout)

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to `timeout` s for a pending re-initialisation; True when none is pending."""
        deadline = time.monotonic() + timeout
        with self._init_cond:
            while self._reinit_needed:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.is_open:
                    return False
                self._init_cond.wait(min(remaining, 0.5))
            return True

    @property
    def generation(self) -> int:
        """How many initialisations completed on this session (a reboot adds one)."""
        return self._init_generation

    @property
    def booting(self) -> bool:
        """True from a boot banner until the re-initialisation after it succeeded."""
        return self._reinit_needed

    def _try(self, cmd: str) -> list[str] | None:
        """Run an optional command: None when the modem refuses it (port loss still raises)."""
        try:
            return self.command(cmd)
        except PortGone:
            raise
        except AtError as exc:
            log.info("%s not supported here: %s", cmd, exc)
            return None

    # --- initialisation ------------------------------------------------------------------------
    def initialise(self) -> ModemInfo:
        """Bring the modem to a known state and return what it reported (see docs/sms-modem.md)."""
        with self._init_lock:
            self._last_init_finished = float("inf")
            self._last_init_started = time.monotonic()
            self._reinit_needed = True
            self._init_thread = threading.get_ident()
            try:
                info = self._initialise()
            finally:
                self._last_init_finished = time.monotonic()
                self._init_thread = None
                with self._init_cond:
                    self._init_cond.notify_all()
            self.info = info
            self._reinit_needed = False
            self.last_error = None
            with self._init_cond:
                self._init_generation += 1
                self._init_cond.notify_all()
            log.info("modem %s ready on %s: %s", info.model, self.port, info)
            return replace(info)

    def _initialise(self) -> ModemInfo:
        info = ModemInfo()
        self._sync()
        self._try("AT+CMEE=1")
        self._identify(info)
        self._check_sim(info)
        self._refresh(info)
        self.command("AT+CMGF=0")
        self._choose_storage(info)
        self._choose_indications(info)
        # Registration URCs, so a lost network holds sends at once (polled too: URCs get lost).
        self._try("AT+CREG=1")
        self._try("AT+CEREG=1")
        # First octet 49 = SUBMIT + relative validity + status report request; only text mode
        # uses it (PDUs carry their own), but an operator may switch to text mode by hand.
        self._try("AT+CSMP=49,167,0,0")
        return info

    def _sync(self) -> None:
        # After a reboot echo is on and the first command may meet a half-read line: retry once.
        try:
            self.command("AT")
        except PortGone:
            raise
        except AtError:
            self.command("AT")
        self.command("ATE0")

    def _identify(self, info: ModemInfo) -> None:
        lines = self._try("AT+CGMM")
        info.manufacturer, info.model = parse_model(lines or [])
        if not info.model:
            info.manufacturer, info.model = parse_model(self._try("ATI") or [])
        if not info.manufacturer:
            info.manufacturer = " ".join(self._try("AT+CGMI") or []).strip()
        imei = " ".join(self._try("AT+CGSN") or [])
        info.imei = "".join(re.findall(r"\d", imei))[:17]

    def _check_sim(self, info: ModemInfo) -> None:
        state = self._cpin()
        if state.upper() in ("NOT READY", "NOT INSERTED"):
            raise cms_error(310, command="AT+CPIN?")  # SimNotInserted: what SIMCom says without a SIM
        if state in ("SIM PIN", "SIM PUK"):
            if not self.sim_pin or state == "SIM PUK":
                raise SimPinRequired(f"the SIM asks for its {state.split()[1]}; set modem.sim_pin in the config")
            self.command(f'AT+CPIN="{self.sim_pin}"')
            state = self._cpin()
        info.sim = state

    def _cpin(self) -> str:
        lines = self.command("AT+CPIN?")
        line = next((l for l in lines if l.upper().startswith("+CPIN")), "")
        return line.split(":", 1)[1].strip() if ":" in line else "UNKNOWN"

    def _refresh(self, info: ModemInfo) -> None:
        states = [parse_registration(self._try(cmd) or []) for cmd in ("AT+CREG?", "AT+CEREG?")]
        states = [s for s in states if s]
        best = next((s for s in ("home", "roaming") if s in states), states[0] if states else "unknown")
        info.registration = best
        info.registered = best in ("home", "roaming")
        csq = next((parse_numbers(l) for l in self._try("AT+CSQ") or [] if l.startswith("+CSQ")), [])
        info.signal_csq = int(csq[0]) if csq and csq[0].isdigit() else 99
        info.signal_dbm = -113 + 2 * info.signal_csq if info.signal_csq <= 31 else None
        self._try("AT+COPS=3,0")  # long alphanumeric operator names
        cops = next((parse_numbers(l) for l in self._try("AT+COPS?") or [] if l.startswith("+COPS")), [])
        info.operator = cops[2] if len(cops) >= 3 else ""

    def _choose_storage(self, info: ModemInfo) -> None:
        storage = choose_storage(parse_storages(self._try("AT+CPMS=?") or []))
        if storage and self._try(f'AT+CPMS="{storage}","{storage}","{storage}"') is not None:
            info.storage = storage

    def _choose_indications(self, info: ModemInfo) -> None:
        support = parse_cnmi_support(self._try("AT+CNMI=?") or [])
        line = choose_cnmi(support) if support else "2,1,0,1,0"
        if self._try(f"AT+CNMI={line}") is None:
            line = "2,1,0,0,0"
            if self._try(f"AT+CNMI={line}") is None:
                line = ""  # no notifications: the gateway's AT+CMGL sweep still finds messages
        info.cnmi = line
        csms = next((parse_numbers(l) for l in self._try("AT+CSMS?") or [] if l.startswith("+CSMS")), [])
        fields = line.split(",")
        direct = (len(fields) > 1 and fields[1] == "2") or (len(fields) > 3 and fields[3] == "1")
        self.ack_required = bool(csms) and csms[0] == "1" and direct

    def health(self) -> ModemInfo:
        """Refresh signal, registration and operator; returns the updated ModemInfo."""
        info = replace(self.info)
        self._refresh(info)
        self.info = info
        return replace(info)

    # --- messages ------------------------------------------------------------------------------
    def send_pdu(self, pdu_hex: str, tpdu_length: int) -> int:
        """Send one SMS-SUBMIT PDU (with its SMSC prefix) by AT+CMGS; returns the message reference.

        Waits prompt_timeout s for the "> " prompt (PromptTimeout: nothing went out), then
        send_timeout s for the network's answer."""
        lines = self.command(f"AT+CMGS={tpdu_length}", timeout=self.send_timeout, data=pdu_hex,
                             prompt_timeout=self.prompt_timeout)
        for line in lines:
            if line.startswith("+CMGS:"):
                ref = parse_numbers(line)
                if ref and ref[0].isdigit():
                    return int(ref[0])
        raise AtError(f"AT+CMGS: no message reference in the reply {lines!r}", command="AT+CMGS",
                      partial=lines)

    @contextmanager
    def batch(self) -> Iterator["Modem"]:
        """Keep the radio link open between sends (AT+CMMS=2) for the block; harmless if unsupported."""
        self._try("AT+CMMS=2")
        try:
            yield self
        finally:
            try:
                self._try("AT+CMMS=0")
            except PortGone:
                pass

    def registration(self) -> str:
        """The best of AT+CREG? and AT+CEREG? now (home, roaming, searching, denied…)."""
        info = replace(self.info)
        states = [parse_registration(self._try(cmd) or []) for cmd in ("AT+CREG?", "AT+CEREG?")]
        states = [s for s in states if s]
        best = next((s for s in ("home", "roaming") if s in states), states[0] if states else "unknown")
        info.registration, info.registered = best, best in ("home", "roaming")
        self.info = info
        return best

    def storage_usage(self) -> tuple[int, int] | None:
        """(used, total) of the message storage read by AT+CMGL, or None when not reported."""
        fields = next((parse_numbers(l) for l in self._try("AT+CPMS?") or [] if l.startswith("+CPMS")), [])
        if len(fields) >= 3 and fields[1].isdigit() and fields[2].isdigit():
            return int(fields[1]), int(fields[2])
        return None

    def list_messages(self, status: int = 4) -> list[StoredMessage]:
        """Every stored message with this status (4 = all) by AT+CMGL."""
        lines = self.command(f"AT+CMGL={status}", timeout=max(self.command_timeout, 30.0))
        messages = []
        for header, body in zip(lines, lines[1:] + [""]):
            if header.startswith("+CMGL:"):
                fields = parse_numbers(header)
                messages.append(StoredMessage(int(fields[0]), int(fields[1]), body.strip()))
        return messages

    def read_message(self, index: int) -> StoredMessage:
        """The message at `index` by AT+CMGR; raises InvalidIndex if the slot is empty."""
        cmd = f"AT+CMGR={index}"
        lines = self.command(cmd)
        for header, body in zip(lines, lines[1:]):
            if header.startswith("+CMGR:"):
                return StoredMessage(index, int(parse_numbers(header)[0]), body.strip())
        raise cms_error(321, command=cmd, partial=lines)

    def delete_message(self, index: int) -> None:
        """Delete the message at `index` (AT+CMGD)."""
        self.command(f"AT+CMGD={index}")

    def ack_new_message(self) -> None:
        """Acknowledge a +CMT/+CDS (AT+CNMA) when the modem's service level needs it; else nothing."""
        if self.ack_required:
            self._try("AT+CNMA")

    def soft_reset(self, timeout: float = 60.0) -> None:
        """AT+CFUN=1,1 and wait (at most `timeout` s) until the modem rebooted and is initialised."""
        with self._init_cond:
            generation = self._init_generation
        self.command("AT+CFUN=1,1")
        deadline = time.monotonic() + timeout
        with self._init_cond:
            while self._init_generation == generation:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AtTimeout(f"modem on {self.port} did not come back within {timeout:g} s",
                                    command="AT+CFUN=1,1")
                self._init_cond.wait(remaining)

    # --- events --------------------------------------------------------------------------------
    def _on_urc(self, urc: Urc) -> None:
        line = urc.line
        if line.startswith("+CMTI:") and (m := _LOCATION.match(line)):
            self._emit(IncomingStored(m.group(1), int(m.group(2))))
        elif line.startswith("+CDSI:") and (m := _LOCATION.match(line)):
            self._emit(StatusReportStored(m.group(1), int(m.group(2))))
        elif line.startswith("+CMT:"):
            self._emit(IncomingPdu(urc.body or ""))
        elif line.startswith("+CDS:"):
            self._emit(StatusReportPdu(urc.body or ""))
        elif urc.boot:
            self._rebooted(urc)
        elif line in ("SMS DONE", "SMS Ready") and self._reinit_needed:
            self._reinitialise()  # a re-init right after RDY failed: SMS is ready now, try again
        elif m := _REGISTRATION_EVENT.match(line):
            self._emit(RegistrationChanged(_REGISTRATION.get(int(m.group(1)), "unknown")))
        elif _STORAGE_FULL.search(line):
            self._emit(StorageFull())
        else:
            self._emit(Unsolicited(line))

    def _boot_seen(self, line: str) -> None:
        """On the reader thread, the instant a boot banner arrives: hold other commands until
        the re-initialisation the dispatcher runs next."""
        with self._init_cond:
            self._reinit_needed = True

    def _rebooted(self, urc: Urc) -> None:
        if urc.received < self._last_init_started and not self._reinit_needed:
            return  # an initialisation started after this line already covers it
        self._emit(ModemRebooted())
        self._reinitialise()

    def _reinitialise(self) -> None:
        try:
            self.initialise()
        except AtError as exc:
            self.last_error = exc
            log.warning("re-initialising the modem on %s failed: %s", self.port, exc)

    def _on_lost(self, error: PortGone) -> None:
        self.last_error = error
        self._emit(ConnectionLost(error))

    def _emit(self, event: object) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:
            log.exception("modem event handler failed on %r", event)
