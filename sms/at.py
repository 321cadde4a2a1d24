"""AT command channel over pyserial: one reader thread, per-command deadlines, URCs apart.

The channel speaks plain AT (3GPP 27.007/27.005) to a modem on any pyserial URL: a device path,
a pseudo-terminal (the emulator) or `loop://`. A reader thread splits the byte stream into lines
and sorts them: lines that answer the pending command go to its caller, unsolicited result codes
(+CMTI, +CMT, +CDS, RING, RDY…) go to `on_urc`, which runs on a dispatcher thread of its own so a
handler may issue commands. Every command has ONE deadline on the monotonic clock.
"""
from __future__ import annotations

import logging
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import serial

from sms.errors import SmsError

log = logging.getLogger(__name__)

CTRL_Z = "\x1a"
ESC = "\x1b"


class AtError(SmsError):
    """A command failed: plain ERROR, a +CMS/+CME code, a timeout or a lost port."""

    def __init__(self, message: str, *, command: str = "", partial: list[str] | None = None):
        super().__init__(message)
        self.command = command
        self.partial = list(partial or [])


class AtTimeout(AtError, TimeoutError):
    """No final result code before the command's deadline; `.partial` holds the lines seen."""


class PortGone(AtError, ConnectionError):
    """The serial port vanished (USB unplugged, pty closed); the channel is unusable."""


class PromptTimeout(AtTimeout):
    """AT+CMGS's "> " prompt never came; ESC was sent, so nothing of the message went out."""


class Rebooted(AtError):
    """The modem printed its boot banner (RDY, +CPIN: READY) while the command waited: it
    rebooted, the command is lost and every setting is back at its factory default."""


class CodedError(AtError):
    """An error the modem numbered (+CMS ERROR / +CME ERROR)."""

    kind = ""
    descriptions: dict[int, str] = {}
    permanent_codes: frozenset[int] = frozenset()

    def __init__(self, code: int, *, command: str = "", partial: list[str] | None = None):
        self.code = code
        self.description = self.descriptions.get(code, "unknown error")
        self.permanent = code in self.permanent_codes
        super().__init__(f"+{self.kind} ERROR {code}: {self.description} ({command or 'AT'})",
                         command=command, partial=partial)

    @property
    def name(self) -> str:
        return type(self).__name__


class CmsError(CodedError):
    """+CMS ERROR: n (message service). `.permanent` means resending the same message is futile."""

    kind = "CMS"
    descriptions = {
        1: "unassigned (unallocated) number", 8: "operator determined barring", 10: "call barred",
        21: "short message transfer rejected", 22: "memory capacity exceeded",
        27: "destination out of service", 28: "unidentified subscriber", 29: "facility rejected",
        30: "unknown subscriber", 38: "network out of order", 41: "temporary failure",
        42: "congestion", 47: "resources unavailable", 50: "requested facility not subscribed",
        69: "requested facility not implemented", 81: "invalid short message reference",
        95: "invalid message", 96: "invalid mandatory information", 111: "protocol error",
        127: "interworking error", 300: "ME failure", 301: "SMS service of ME reserved",
        302: "operation not allowed", 303: "operation not supported",
        304: "invalid PDU mode parameter", 305: "invalid text mode parameter",
        310: "SIM not inserted", 311: "SIM PIN required", 313: "SIM failure", 314: "SIM busy",
        316: "SIM PUK required", 320: "memory failure", 321: "invalid memory index",
        322: "memory full", 330: "SMSC address unknown", 331: "no network service",
        332: "network timeout", 340: "no +CNMA acknowledgement expected", 500: "unknown error",
        512: "MM establishment failure (SIMCom: no radio link yet)",
    }
    # The message or its recipient is at fault: a retry would fail the same way.
    permanent_codes = frozenset({1, 8, 10, 21, 28, 29, 30, 50, 69, 95, 96, 304, 305})


class CmeError(CodedError):
    """+CME ERROR: n (equipment: SIM, memory, network)."""

    kind = "CME"
    descriptions = {
        0: "phone failure", 3: "operation not allowed", 4: "operation not supported",
        10: "SIM not inserted", 11: "SIM PIN required", 12: "SIM PUK required", 13: "SIM failure",
        14: "SIM busy", 15: "SIM wrong", 16: "incorrect password", 20: "memory full",
        21: "invalid index", 22: "not found", 30: "no network service", 31: "network timeout",
        32: "network not allowed, emergency calls only", 100: "unknown",
    }
    permanent_codes = frozenset({10, 12, 15})


# Categories shared by +CMS and +CME codes, so callers catch "SIM not inserted" whichever way the
# modem reported it.
class SimNotInserted(AtError):
    """No SIM card in the modem."""


class SimPinRequired(AtError):
    """The SIM asks for a PIN (or PUK) that was not given or was refused."""


class SimFailure(AtError):
    """The SIM is broken, busy or wrong."""


class NetworkTimeout(AtError):
    """The network did not answer in time."""


class NoNetworkService(AtError):
    """The modem is not registered on a network."""


class MemoryFull(AtError):
    """Message storage is full."""


class InvalidIndex(AtError):
    """No message at that storage index."""


class OperationNotAllowed(AtError):
    """The modem refuses this command in its current state, or does not support it."""


class UnassignedNumber(CmsError):
    """The recipient number does not exist (permanent)."""


class MessageRejected(CmsError):
    """The network or the recipient rejected the message (permanent)."""


class NetworkOutOfOrder(CmsError):
    """Network out of order (transient)."""


class NetworkCongestion(CmsError):
    """Network congestion (transient)."""


class TemporaryFailure(CmsError):
    """Temporary network failure or resources unavailable (transient)."""


class InvalidPdu(CmsError):
    """The modem rejected the PDU or its length (permanent: fix the encoder)."""


class UnknownModemError(CmsError):
    """+CMS ERROR: 500, the modem's catch-all (transient)."""


def _leaf(base: type, category: type) -> type:
    return type(f"{base.kind.title()}{category.__name__}", (base, category), {"__doc__": category.__doc__})


_CMS_CLASSES: dict[int, type] = {1: UnassignedNumber, 38: NetworkOutOfOrder, 42: NetworkCongestion,
                                 500: UnknownModemError, 304: InvalidPdu, 305: InvalidPdu}
_CMS_CLASSES.update(dict.fromkeys((8, 10, 21, 28, 29, 30, 50, 95, 96), MessageRejected))
_CMS_CLASSES.update(dict.fromkeys((41, 47, 27, 111, 127, 512), TemporaryFailure))
_CME_CLASSES: dict[int, type] = {}
for _category, _cms, _cme in (
        (SimNotInserted, (310,), (10,)), (SimPinRequired, (311, 316), (11, 12, 16)),
        (SimFailure, (313, 314), (13, 14, 15)), (NetworkTimeout, (332,), (31,)),
        (NoNetworkService, (331,), (30, 32)), (MemoryFull, (322,), (20,)),
        (InvalidIndex, (321,), (21, 22)), (OperationNotAllowed, (302, 303), (3, 4))):
    _cms_leaf, _cme_leaf = _leaf(CmsError, _category), _leaf(CmeError, _category)
    globals()[_cms_leaf.__name__], globals()[_cme_leaf.__name__] = _cms_leaf, _cme_leaf
    _CMS_CLASSES.update(dict.fromkeys(_cms, _cms_leaf))
    _CME_CLASSES.update(dict.fromkeys(_cme, _cme_leaf))


def cms_error(code: int, *, command: str = "", partial: list[str] | None = None) -> CmsError:
    """The named exception for `+CMS ERROR: code`."""
    return _CMS_CLASSES.get(code, CmsError)(code, command=command, partial=partial)


def cme_error(code: int, *, command: str = "", partial: list[str] | None = None) -> CmeError:
    """The named exception for `+CME ERROR: code`."""
    return _CME_CLASSES.get(code, CmeError)(code, command=command, partial=partial)


_FINAL_OK = {"OK"}
_FINAL_ERROR = {"ERROR", "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE"}
_CODED = re.compile(r"^\+(CMS|CME) ERROR:\s*(.*)$")
# Lines that are unsolicited whatever command is pending.
_ALWAYS_URC = re.compile(r"^(\+CMTI:|\+CDSI:|\+CMT:|\+CDS:|\+CBM:|\+CLIP:|\+CRING:|RING$|RDY$|"
                         r"SMS DONE$|PB DONE$|SMS Ready$|Call Ready$|\*ATREADY)")
_TWO_LINE_URC = re.compile(r"^\+(CMT|CDS|CBM):")
_PREFIX = re.compile(r"^AT([+^$#%*][A-Z0-9]+)", re.IGNORECASE)
_REGISTRATION_URC = re.compile(r"^\+C(E|G)?REG:\s*\d+\s*$")
# Lines a modem prints only when it boots; "+CPIN: READY" also follows a PIN entry (see _boot_line).
_BOOT_BANNER = re.compile(r"^(RDY|\*ATREADY(:.*)?)$")
_CPIN_READY = re.compile(r"^\+CPIN:\s*READY$")
# After AT+CPIN="…" the modem reports +CPIN: READY by itself; that is not a reboot.
PIN_READY_SECONDS = 15.0


@dataclass
class Urc:
    """An unsolicited result code: its first line, the line after it for +CMT/+CDS, when seen."""

    line: str
    body: str | None = None
    received: float = field(default_factory=time.monotonic)
    boot: bool = False  # a boot banner: the modem rebooted (see AtChannel._boot_line)


class _Pending:
    """The command in flight: what answers it and how it ended."""

    def __init__(self, command: str, data: str | None):
        self.command = command
        self.prefix = (m.group(1).upper() + ":") if (m := _PREFIX.match(command)) else None
        self.data = data
        self.lines: list[str] = []
        self.prompted = False
        self.done = False
        self.error: AtError | None = None


class AtChannel:
    """An open AT channel. `command()` is thread-safe; URCs and connection loss go to callbacks.

    `on_urc(Urc)` and `on_connection_lost(PortGone)` run on the channel's dispatcher thread, never
    on the reader, so they may send commands themselves.
    """

    def __init__(self, url: str, *, baudrate: int = 115200, rtscts: bool = False,
                 on_urc: Callable[[Urc], None] | None = None,
                 on_connection_lost: Callable[[PortGone], None] | None = None,
                 on_boot: Callable[[str], None] | None = None):
        self.url = url
        self.on_urc = on_urc
        self.on_connection_lost = on_connection_lost
        # Called on the reader thread, at once, with the banner line: keep it short (set a flag).
        self.on_boot = on_boot
        self.boots = 0
        self.garbled_lines = 0
        self._pin_entered = float("-inf")
        self._last_rx = time.monotonic()
        try:
            self._serial = serial.serial_for_url(url, baudrate=baudrate, rtscts=rtscts, timeout=None,
                                                 write_timeout=10)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise PortGone(f"cannot open modem port {url}: {exc}") from exc
        self._cond = threading.Condition()
        self._command_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending: _Pending | None = None
        self._gone: PortGone | None = None
        self._closing = False
        self._buffer = b""
        self._urc_header: str | None = None
        self._events: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read_loop, name=f"at-reader {url}", daemon=True)
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name=f"at-urc {url}", daemon=True)
        self._reader.start()
        self._dispatcher.start()

    @property
    def is_open(self) -> bool:
        """True until the channel is closed or the port vanished."""
        return self._gone is None and not self._closing

    def command(self, cmd: str, timeout: float = 10.0, expect_prompt: bool = False,
                data: str | None = None, prompt_timeout: float | None = None) -> list[str]:
        """Send `cmd` and return the response lines before OK, all within `timeout` seconds.

        With `data` (implies `expect_prompt`), wait at most `prompt_timeout` s (default: all of
        `timeout`) for the "> " prompt, then send `data` + Ctrl-Z and wait up to `timeout` s more
        for the network's final result (AT+CMGS). A prompt that never comes is cancelled with ESC
        before anything else goes out (PromptTimeout). Raises AtTimeout (with `.partial`),
        CmsError/CmeError leaves, AtError for ERROR, Rebooted when the modem's boot banner
        arrives meanwhile, PortGone if the port vanished.
        """
        if expect_prompt and data is None:
            raise ValueError("expect_prompt needs the data to send after the prompt")
        started = time.monotonic()
        wait_lock = timeout if prompt_timeout is None else prompt_timeout
        if not self._command_lock.acquire(timeout=max(0.0, wait_lock)):
            raise AtTimeout(f"{cmd}: channel busy for {wait_lock:g} s", command=cmd)
        try:
            return self._run(cmd, data, started, timeout, prompt_timeout)
        finally:
            self._command_lock.release()

    def _run(self, cmd: str, data: str | None, started: float, timeout: float,
             prompt_timeout: float | None) -> list[str]:
        pending = _Pending(cmd, data)
        with self._cond:
            self._raise_if_gone(cmd)
            self._pending = pending
        if cmd.upper().startswith("AT+CPIN="):
            self._pin_entered = time.monotonic()
        try:
            self._write(cmd + "\r", cmd)
            deadline = started + timeout
            if data is not None:
                prompt_by = started + (timeout if prompt_timeout is None else prompt_timeout)
                if not self._wait(pending, prompt_by, lambda: pending.prompted or pending.done):
                    self._write(ESC, cmd)  # a late prompt must not swallow the next command
                    raise PromptTimeout(f"{cmd}: no > prompt within {prompt_by - started:g} s",
                                        command=cmd, partial=pending.lines)
                if pending.prompted and not pending.done:
                    self._write(data + CTRL_Z, cmd)
                    deadline = time.monotonic() + timeout  # the network's own time starts now
            if not self._wait(pending, deadline, lambda: pending.done):
                raise AtTimeout(f"{cmd}: no reply within {timeout:g} s", command=cmd, partial=pending.lines)
            if pending.error is not None:
                raise pending.error
            return pending.lines
        finally:
            with self._cond:
                self._pending = None

    def _wait(self, pending: _Pending, deadline: float, ready: Callable[[], bool]) -> bool:
        with self._cond:
            while not ready():
                if self._gone is not None or self._closing:
                    reason = str(self._gone) if self._gone else f"modem port {self.url} was closed"
                    raise PortGone(reason, command=pending.command, partial=pending.lines)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def _raise_if_gone(self, cmd: str) -> None:
        if self._gone is not None:
            raise PortGone(str(self._gone), command=cmd)
        if self._closing:
            raise PortGone(f"modem port {self.url} is closed", command=cmd)

    def _write(self, text: str, cmd: str) -> None:
        with self._write_lock:
            try:
                self._serial.write(text.encode("ascii", "replace"))
            except (serial.SerialException, OSError) as exc:
                gone = PortGone(f"modem port {self.url} failed on write: {exc}", command=cmd)
                self._lost(gone)
                raise gone from exc

    def wait_quiet(self, quiet: float = 0.2, limit: float = 1.0) -> None:
        """Return once the modem has sent nothing for `quiet` s (at most `limit` s): lets the late
        answer of an exchange cut short (a cancelled prompt) arrive before the next command."""
        deadline = time.monotonic() + limit
        with self._cond:
            while not self._closing and self._gone is None:
                now = time.monotonic()
                calm_at = self._last_rx + quiet
                if now >= calm_at or now >= deadline:
                    return
                self._cond.wait(min(calm_at, deadline) - now)

    def write_raw(self, data: bytes) -> None:
        """Write bytes outside any command (tests, escape sequences)."""
        with self._write_lock:
            self._serial.write(data)

    # --- reader thread -------------------------------------------------------------------------
    def _read_loop(self) -> None:
        try:
            while not self._closing:
                chunk = self._serial.read(self._serial.in_waiting or 1)
                if chunk:
                    self._feed(chunk)
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            # TypeError/AttributeError: pyserial's posix read after a concurrent close().
            if not self._closing:
                self._lost(PortGone(f"modem port {self.url} vanished: {exc}"))
        except Exception as exc:  # a bug here must still fail the waiters, not hang them
            log.exception("AT reader crashed")
            self._lost(PortGone(f"modem reader stopped: {exc}"))

    def _feed(self, chunk: bytes) -> None:
        self._last_rx = time.monotonic()
        self._buffer += chunk
        while True:
            match = re.search(rb"[\r\n]", self._buffer)
            if match is None:
                break
            raw, self._buffer = self._buffer[:match.start()], self._buffer[match.end():]
            self._line(self._decode(raw))
        # The prompt "> " carries no line end: recognise it in the unfinished tail.
        if self._buffer.lstrip().startswith(b">"):
            with self._cond:
                if self._pending is not None and self._pending.data is not None:
                    self._buffer = b""
                    self._pending.prompted = True
                    self._cond.notify_all()

    def _decode(self, raw: bytes) -> str:
        try:
            return raw.decode("ascii").strip()
        except UnicodeDecodeError:
            # A baud-rate mismatch or line noise. Keep the readable tail: garbage glued to the
            # front of "OK" must not hide the OK.
            self.garbled_lines += 1
            log.warning("undecodable bytes from modem: %r", raw[:80])
            text = raw.decode("ascii", "replace")
            tail = re.search(r"(\+[A-Z]+:.*|OK|ERROR|RDY|>.*)$", text)
            return tail.group(1).strip() if tail else ""

    def _boot_line(self, line: str) -> bool:
        if _BOOT_BANNER.match(line):
            return True
        if not _CPIN_READY.match(line):
            return False
        pending = self._pending
        if pending is not None and pending.prefix == "+CPIN:" and not pending.done:
            return False  # the answer to AT+CPIN?
        return time.monotonic() - self._pin_entered > PIN_READY_SECONDS

    def _line(self, line: str) -> None:
        line = line.replace(CTRL_Z, "").strip()
        if not line:
            return
        if self._urc_header is not None:
            header, self._urc_header = self._urc_header, None
            self._events.put(Urc(header, line))
            return
        with self._cond:
            if self._boot_line(line):
                self._booted(line)
                self._events.put(Urc(line, boot=True))
                return
            pending = self._pending
            if pending is not None and self._answers(pending, line):
                self._take(pending, line)
                return
        if _TWO_LINE_URC.match(line):
            self._urc_header = line
        else:
            self._events.put(Urc(line))

    @staticmethod
    def _answers(pending: _Pending, line: str) -> bool:
        if pending.done or _ALWAYS_URC.match(line):
            return False
        if pending.data is not None and not pending.prompted and (line == "OK" or line.startswith("+CMGS:")):
            return False  # before our prompt: the late reply of an earlier send that timed out
        if line in (pending.command, pending.data):  # echo of the command or of the PDU
            return True
        if line.startswith("+") and not _CODED.match(line):
            head = line.split(":", 1)[0] + ":"
            if head != pending.prefix:
                return False
            return not _REGISTRATION_URC.match(line)  # "+CREG: 1" is the URC, reads have n,stat
        return True

    def _take(self, pending: _Pending, line: str) -> None:
        if line in (pending.command, pending.data):
            return
        if line.startswith(">") and pending.data is not None and not pending.prompted:
            pending.prompted = True
        elif line in _FINAL_OK:
            pending.done = True
        elif line in _FINAL_ERROR:
            pending.done = True
            pending.error = AtError(f"{pending.command}: modem answered {line}",
                                    command=pending.command, partial=pending.lines)
        elif coded := _CODED.match(line):
            pending.done = True
            pending.error = self._coded(coded.group(1), coded.group(2), pending)
        else:
            pending.lines.append(line)
        self._cond.notify_all()

    @staticmethod
    def _coded(kind: str, value: str, pending: _Pending) -> AtError:
        if not value.strip().isdigit():  # CMEE=2 verbose text instead of a number
            return AtError(f"{pending.command}: +{kind} ERROR: {value}", command=pending.command,
                           partial=pending.lines)
        make = cms_error if kind == "CMS" else cme_error
        return make(int(value), command=pending.command, partial=pending.lines)

    def _booted(self, line: str) -> None:
        """Under self._cond: the modem rebooted; the pending command can never be answered."""
        self.boots += 1
        pending = self._pending
        if pending is not None and not pending.done:
            pending.done = True
            pending.error = Rebooted(f"{pending.command}: modem rebooted ({line})", command=pending.command,
                                     partial=pending.lines)
            self._cond.notify_all()
        if self.on_boot is not None:
            try:
                self.on_boot(line)
            except Exception:
                log.exception("on_boot handler failed")

    def _lost(self, gone: PortGone) -> None:
        with self._cond:
            if self._gone is not None:
                return
            self._gone = gone
            self._cond.notify_all()
        log.warning("%s", gone)
        self._events.put(gone)

    # --- dispatcher thread ---------------------------------------------------------------------
    def _dispatch_loop(self) -> None:
        while True:
            item = self._events.get()
            if item is None:
                return
            try:
                if isinstance(item, PortGone):
                    if self.on_connection_lost is not None:
                        self.on_connection_lost(item)
                elif self.on_urc is not None:
                    self.on_urc(item)
                else:
                    log.info("unsolicited: %s", item.line)
            except Exception:
                log.exception("URC handler failed on %r", item)

    def close(self) -> None:
        """Stop the threads and close the port; idempotent. Pending commands get PortGone."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._cond.notify_all()
        try:
            self._serial.cancel_read()
        except (serial.SerialException, OSError, AttributeError):
            pass
        self._reader.join(timeout=2)
        try:
            self._serial.close()
        except (serial.SerialException, OSError):
            pass
        self._events.put(None)
        if threading.current_thread() is not self._dispatcher:
            self._dispatcher.join(timeout=2)

    def __enter__(self) -> "AtChannel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
