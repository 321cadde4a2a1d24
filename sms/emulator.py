"""A simulated SIM7600-class modem on a real pseudo-terminal, with the device's faults on demand.

`Emulator().start()` returns a port path (a symlink in a temp dir to the pty slave) that any
pyserial client opens like a real modem. It keeps real state: echo, PDU/text mode, CNMI, SIM
storage, message references; it decodes every PDU sent through it with the real codec and
records it in `sent`. Its faults (sms/emulator_faults.py) are the device's: +CMS errors and bare
ERROR, commands never answered, deaf spells, reboots (at once, or deaf first, or right after an
acknowledgement), storage full, lost registration, unsolicited noise between response lines,
undecodable bytes, and the port vanishing and returning (`unplug()`/`replug()`/`vanish()`: the
symlink is re-pointed, so the port comes back at the same path).
"""
from __future__ import annotations

import itertools
import logging
import os
import re
import select
import shutil
import tempfile
import threading
import time
import tty
from dataclasses import dataclass
from datetime import datetime, timezone

from sms.emulator_faults import ModemFaults
from sms.pdu import PduError, decode_submit, encode_deliver, encode_status_report
from sms.segments import segment

log = logging.getLogger(__name__)

SMSC = "+84980200030"
CNMI_SUPPORT = ((0, 1, 2), (0, 1, 2, 3), (0, 2), (0, 1, 2), (0, 1))
_STATUS_NAMES = {0: "REC UNREAD", 1: "REC READ", 2: "STO UNSENT", 3: "STO SENT", 4: "ALL"}
_PLAIN_QUERIES = frozenset({"+CGMM", "+CGMI", "+CGSN", "+CGMR", "+CSQ"})
_NOISE = ("RING", "+CREG: 1", "+CSQ: 18,99", "+CEREG: 1")


@dataclass
class SentMessage:
    """One SMS part the emulator sent: `time` is time.monotonic() when +CMGS was answered."""

    number: str
    text: str
    concat: tuple[int, int, int] | None
    message_ref: int
    time: float
    pdu: str = ""
    encoding: str = "text"
    status_report_requested: bool = False


@dataclass
class _Stored:
    status: int
    pdu: str
    sender: str = ""
    text: str = ""


class _Link:
    """One plugged-in pty: its fds and the thread reading what the driver writes."""

    def __init__(self, emulator: "Emulator"):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.slave_path = os.ttyname(self.slave)
        self.wake_r, self.wake_w = os.pipe()
        self.closed = threading.Event()
        self.thread = threading.Thread(target=emulator._serve, args=(self,), name="modem-emulator", daemon=True)

    def close(self) -> None:
        self.closed.set()
        os.write(self.wake_w, b"x")
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout=2)
        for fd in (self.master, self.slave, self.wake_r, self.wake_w):
            try:
                os.close(fd)
            except OSError:
                pass


class Emulator(ModemFaults):
    """A SIM7600-class modem. Thread-safe; usable as a context manager.

    latency_per_part: seconds from a PDU's arrival to its +CMGS reply (the network's time).
    report_delay: seconds after +CMGS before the status report (when one was requested).
    """

    def __init__(self, latency_per_part: float = 0.0, *, model: str = "SIMCOM_SIM7600E-H",
                 operator: str = "Viettel", imei: str = "862636051234567", csq: int = 20,
                 registration: int = 1, sim_inserted: bool = True, sim_pin: str = "",
                 storage_size: int = 30, report_delay: float = 0.0, report_status: int = 0, first_ref: int = 1):
        self.latency_per_part = latency_per_part
        self.model, self.operator, self.imei = model, operator, imei
        self.csq, self.registration = csq, registration
        self.sim_inserted, self.sim_pin = sim_inserted, sim_pin
        self.storage_size = storage_size
        self.report_delay, self.report_status = report_delay, report_status
        self.noise = False
        self.sent: list[SentMessage] = []
        self.commands: list[str] = []
        self.dropped: list[str] = []
        self._next_ref = first_ref % 256
        self._concat_refs = itertools.count(1)
        self._noise = itertools.cycle(_NOISE)
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._sent_cond = threading.Condition(self._lock)
        self._plug_lock = threading.Lock()
        self._storage: dict[int, _Stored] = {}
        self._init_faults()
        self._link: _Link | None = None
        self._dir: str | None = None
        self._power_on()

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> str:
        """Plug the modem in; returns the port path to give pyserial."""
        self._dir = tempfile.mkdtemp(prefix="tdp-modem-")
        self.replug()
        return self.port

    @property
    def port(self) -> str:
        """Stable port path (a symlink re-pointed on replug)."""
        if self._dir is None:
            raise RuntimeError("emulator not started")
        return os.path.join(self._dir, "ttyEMU0")

    def stop(self) -> None:
        """Unplug and remove the port; idempotent."""
        self.unplug()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "Emulator":
        if self._dir is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def unplug(self) -> None:
        """The port vanishes like an unplugged USB modem: the driver's reads and writes fail."""
        link, self._link = self._link, None
        if link is not None:
            link.close()
        if self._dir is not None and os.path.lexists(self.port):
            os.unlink(self.port)

    def replug(self) -> None:
        """A fresh pty appears at the same path and the modem boots (settings lost, SIM kept)."""
        with self._plug_lock:
            if self._dir is None:
                raise RuntimeError("emulator not started")
            self.unplug()
            with self._lock:
                self._power_on()
            link = _Link(self)
            tmp = self.port + ".new"
            os.symlink(link.slave_path, tmp)
            os.replace(tmp, self.port)
            self._link = link
            link.thread.start()
            self.replugs.append(time.monotonic())

    def _power_on(self) -> None:
        self.echo = True
        self.text_mode = True
        self.cmee = 0
        self.cnmi = [0, 0, 0, 0, 0]
        self.cmms = 0
        self.creg_n = self.cereg_n = 0
        self.pin_ok = not self.sim_pin
        self._rx = b""
        self._prompt: str | None = None  # the CMGS command awaiting its PDU/text

    # --- what the network does -----------------------------------------------------------------
    def inject_incoming(self, sender: str, text: str, *, timestamp: datetime | None = None) -> list[int]:
        """A phone sends `text`: store each part (+CMTI) or deliver it directly (+CMT) per CNMI.

        Returns the storage indexes used (empty when delivered directly)."""
        moment = timestamp or datetime.now(timezone.utc).replace(microsecond=0)
        parts = segment(text)
        ref = next(self._concat_refs) % 256
        indexes = []
        for seq, part in enumerate(parts.parts, 1):
            concat = (ref, parts.count, seq) if parts.count > 1 else None
            pdu = encode_deliver(sender, part, timestamp=moment, encoding=parts.encoding, concat=concat, smsc=SMSC)
            index = self._deliver(pdu, sender, part)
            if index is not None:
                indexes.append(index)
        return indexes

    def _deliver(self, pdu: str, sender: str, text: str) -> int | None:
        with self._lock:
            mode, mt = self.cnmi[0], self.cnmi[1]
            if mode and mt == 2:
                if self.text_mode:
                    self._urc(f'+CMT: "{sender}","",""', text)
                else:
                    self._urc(f"+CMT: ,{_tpdu_length(pdu)}", pdu)
                return None
            index = self._store(_Stored(0, pdu, sender, text))
            if index is not None and mode and mt in (1, 3):
                self._urc(f'+CMTI: "SM",{index}')
            return index

    @staticmethod
    def _unread(sender: str, text: str, moment: datetime) -> _Stored:
        """A received single-part message as the SIM keeps it (status 0, unread)."""
        pdu = encode_deliver(sender, text, timestamp=moment, encoding=segment(text).encoding, smsc=SMSC)
        return _Stored(0, pdu, sender, text)

    def _store(self, item: _Stored) -> int | None:
        free = next((i for i in range(self.storage_size) if i not in self._storage), None)
        if free is None:
            self.dropped.append(item.pdu)
            log.warning("emulated SIM storage full: message dropped")
        else:
            self._storage[free] = item
        return free

    def _report_pdu(self, sent: SentMessage) -> str:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        return encode_status_report(sent.message_ref, sent.number, status=self.report_status,
                                    service_timestamp=now, discharge_timestamp=now, smsc=SMSC)

    def _status_report(self, pdu: str) -> None:
        with self._lock:
            ds = self.cnmi[3] if self.cnmi[0] else 0
            if ds == 1:
                self._urc(f"+CDS: {_tpdu_length(pdu)}", pdu)
            elif ds == 2 and (index := self._store(_Stored(0, pdu))) is not None:
                self._urc(f'+CDSI: "SM",{index}')

    # --- records -------------------------------------------------------------------------------
    def wait_for_sent(self, n: int, timeout: float = 5.0) -> list[SentMessage]:
        """Block until at least `n` parts were sent; raises TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._sent_cond:
            while len(self.sent) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"emulator saw {len(self.sent)} of {n} parts in {timeout:g} s")
                self._sent_cond.wait(remaining)
            return list(self.sent)

    def sent_texts(self, number: str | None = None) -> list[str]:
        """Whole messages sent (parts joined once all arrived), oldest first, to `number` if given."""
        with self._lock:
            texts, groups = [], {}
            for part in self.sent:
                if number is not None and part.number != number:
                    continue
                if part.concat is None:
                    texts.append(part.text)
                    continue
                ref, total, seq = part.concat
                group = groups.setdefault((part.number, ref, total), {})
                group[seq] = part.text
                if len(group) == total:
                    texts.append("".join(group[i] for i in sorted(group)))
                    del groups[(part.number, ref, total)]
            return texts

    def clear_records(self) -> None:
        """Forget the parts sent and commands seen so far (long runs keep memory flat)."""
        with self._lock:
            self.sent.clear()
            self.commands.clear()

    def stored(self) -> dict[int, int]:
        """Storage index -> status of every message in the emulated SIM."""
        with self._lock:
            return {i: m.status for i, m in self._storage.items()}

    # --- the serial side -----------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        link = self._link
        if link is None or link.closed.is_set():
            return
        with self._write_lock:
            view = memoryview(data)
            while view:
                try:
                    written = os.write(link.master, view)
                except OSError:
                    return  # unplugged while writing
                view = view[written:]

    def _urc(self, line: str, body: str | None = None) -> None:
        self._write(f"\r\n{line}\r\n".encode() + (f"{body}\r\n".encode() if body is not None else b""))

    def _reply(self, lines: list[str], final: str = "OK") -> None:
        with self._lock:
            garbage = self._garbage > 0
            self._garbage -= garbage
            noise = [next(self._noise) for _ in range(len(lines) + 1)] if self.noise else []
        out = b"\r\n\xff\xfe\x80\x81garbage\r\n" if garbage else b""
        for i, line in enumerate(lines):
            out += f"\r\n{line}\r\n".encode("utf-8")
            if noise and i < len(lines) - 1 and not lines[i + 1].startswith("+") and line.startswith("+"):
                continue  # keep a +CMGL/+CMGR header next to its PDU line
            if noise:
                out += f"\r\n{noise.pop()}\r\n".encode()
        if noise and not lines:
            out += f"\r\n{noise.pop()}\r\n".encode()
        self._write(out + f"\r\n{final}\r\n".encode())

    def _serve(self, link: _Link) -> None:
        while not link.closed.is_set():
            ready, _, _ = select.select([link.master, link.wake_r], [], [])
            if link.closed.is_set():
                return
            try:
                data = os.read(link.master, 4096)
            except OSError:
                return
            try:
                self._feed(data)
            except Exception:
                log.exception("emulator failed on input")

    def _feed(self, data: bytes) -> None:
        while data:
            if self._prompt is not None:
                # Text entry after "> ": everything up to Ctrl-Z (send) or ESC (cancel).
                end = min((i for i in (data.find(b"\x1a"), data.find(b"\x1b")) if i >= 0), default=-1)
                if end < 0:
                    self._rx += data
                    return
                payload, self._rx = (self._rx + data[:end]).decode("latin-1"), b""
                command, self._prompt = self._prompt, None
                if data[end] == 0x1A:
                    self._submit(command, payload, time.monotonic())
                else:
                    self._reply([])
                data = data[end + 1:]
                continue
            cut = re.search(rb"[\r\n]", data)
            if cut is None:
                self._rx += data
                return
            # Ctrl-Z/ESC outside a prompt: the driver aborting a send the modem never took.
            line = (self._rx + data[:cut.start()]).replace(b"\x1a", b"").replace(b"\x1b", b"")
            self._rx, data = b"", data[cut.end():]
            if line.strip():
                self._command(line.decode("latin-1").strip())

    def _command(self, line: str) -> None:
        with self._lock:
            self.commands.append(line)
            if self._deaf():
                return
            script = self._scripts.get(line.upper())
            echo = self.echo
        if echo:
            self._write(line.encode("latin-1") + b"\r")
        if script is not None:
            self._write(script)
            return
        upper = line.upper()
        if not upper.startswith("AT"):
            return self._reply([], "ERROR")
        try:
            with self._lock:
                result = self._handle(upper[2:], line[2:])
        except _ModemError as exc:
            return self._reply([], self._error_text(exc))
        if result is not None:
            self._reply(result)

    def _error_text(self, exc: "_ModemError") -> str:
        if exc.kind == "CMS":
            return f"+CMS ERROR: {exc.code}"
        return f"+CME ERROR: {exc.code}" if self.cmee else "ERROR"

    def _handle(self, cmd: str, raw: str) -> list[str] | None:
        """Answer one command (without "AT"); returns the response lines, None if it answers itself."""
        if cmd in ("", "Z"):
            return []
        if m := re.fullmatch(r"E([01])", cmd):
            self.echo = m.group(1) == "1"
            return []
        if cmd == "I":
            return ["Manufacturer: SIMCOM INCORPORATED", f"Model: {self.model}",
                    "Revision: LE20B04SIM7600M22", f"IMEI: {self.imei}", "+GCAP: +CGSM"]
        if cmd == "+CPIN?":
            self._need_sim(pin=False)
            if self._sim_busy():
                raise _ModemError("CME", 14)
            return ["+CPIN: READY" if self.pin_ok else "+CPIN: SIM PIN"]
        if cmd.endswith("?") or cmd in _PLAIN_QUERIES:
            if (answer := self._queries().get(cmd)) is not None:
                return answer
        return self._setting(cmd, raw)

    def _queries(self) -> dict[str, list[str]]:
        return {"+CGMM": [self.model], "+CGMI": ["SIMCOM INCORPORATED"], "+CGSN": [self.imei],
                "+CGMR": ["+CGMR: LE20B04SIM7600M22"], "+CSQ": [f"+CSQ: {self.csq},99"],
                "+CFUN?": ["+CFUN: 1"], "+CSCA?": [f'+CSCA: "{SMSC}",145'], "+CSMS?": ["+CSMS: 0,1,1,1"],
                "+CMGF?": [f"+CMGF: {int(self.text_mode)}"], "+CMEE?": [f"+CMEE: {self.cmee}"],
                "+CMMS?": [f"+CMMS: {self.cmms}"], "+CSMP?": ["+CSMP: 17,167,0,0"],
                "+CNMI?": ["+CNMI: " + ",".join(map(str, self.cnmi))],
                "+CNMI=?": ["+CNMI: " + ",".join(_ranges(v) for v in CNMI_SUPPORT)],
                "+CSCS?": ['+CSCS: "IRA"'], "+CSCS=?": ['+CSCS: ("IRA","GSM","UCS2")'],
                "+CREG?": [f"+CREG: {self.creg_n},{self.registration}"],
                "+CEREG?": [f"+CEREG: {self.cereg_n},{self.registration}"],
                "+COPS?": [f'+COPS: 0,0,"{self.operator}",7' if self.registration in (1, 5) else "+COPS: 0"]}

    def _setting(self, cmd: str, raw: str) -> list[str] | None:
        if m := re.fullmatch(r'\+CPIN="?(\d+)"?', cmd):
            self._need_sim(pin=False)
            if m.group(1) != self.sim_pin:
                raise _ModemError("CME", 16)
            self.pin_ok = True
            self._reply([])
            self._urc("+CPIN: READY")
            return None
        if m := re.fullmatch(r"\+(CMEE|CMGF|CMMS|CREG|CEREG)=(\d)", cmd):
            value = int(m.group(2))
            setattr(self, {"CMEE": "cmee", "CMGF": "text_mode", "CMMS": "cmms", "CREG": "creg_n",
                           "CEREG": "cereg_n"}[m.group(1)], bool(value) if m.group(1) == "CMGF" else value)
            return []
        if re.fullmatch(r'\+(CSMP=[\d,]+|CSCS="\w+"|COPS=3,\d|CFUN=[01])', cmd):
            return []
        if cmd == "+CFUN=1,1":
            self._reply([])
            self.reboot()
            return None
        if m := re.fullmatch(r"\+CNMI=([\d,]+)", cmd):
            values = [int(v) for v in m.group(1).split(",")]
            if len(values) > 5 or any(v not in allowed for v, allowed in zip(values, CNMI_SUPPORT)):
                raise _ModemError("CMS", 303)
            self.cnmi = values + [0] * (5 - len(values))
            return []
        if cmd == "+CNMA":
            raise _ModemError("CMS", 340)  # phase 2 service (CSMS=0): nothing awaits an ack
        if cmd.startswith(("+CMGS", "+CMGL", "+CMGR", "+CMGD", "+CPMS")):
            self._need_sim(pin=True)
            if self._sms_busy():
                raise _ModemError("CMS", 314)  # SIM busy: SMS DONE has not come yet
        if cmd.startswith("+CPMS"):
            return self._cpms(cmd)
        if cmd.startswith(("+CMGS", "+CMGL", "+CMGR", "+CMGD")):
            return self._messages(cmd, raw)
        raise _ModemError("CME", 4)

    def _need_sim(self, pin: bool) -> None:
        if not self.sim_inserted:
            raise _ModemError("CME", 10)
        if self._sim_busy():
            raise _ModemError("CME", 14)
        if pin and not self.pin_ok:
            raise _ModemError("CMS", 311)

    def _cpms(self, cmd: str) -> list[str]:
        if cmd == "+CPMS?":
            return ['+CPMS: "SM",{0},{1},"SM",{0},{1},"SM",{0},{1}'.format(*self._usage())]
        if cmd == "+CPMS=?":
            return ['+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")']
        if not re.fullmatch(r'\+CPMS=("\w+",?){1,3}', cmd) or any(
                name not in ("SM", "ME") for name in re.findall(r'"(\w+)"', cmd)):
            raise _ModemError("CMS", 302)
        return ["+CPMS: {0},{1},{0},{1},{0},{1}".format(*self._usage())]

    def _usage(self) -> tuple[int, int]:
        return len(self._storage), self.storage_size

    def _messages(self, cmd: str, raw: str) -> list[str] | None:
        if m := re.fullmatch(r'\+CMGS=(\d+)' if not self.text_mode else r'\+CMGS="([^"]+)"(,\d+)?', cmd):
            if not self.text_mode and not 7 <= int(m.group(1)) <= 164:
                raise _ModemError("CMS", 304)
            if self._send_hangs():
                return None
            self._prompt = raw
            self._write(b"\r\n> ")
            return None
        if m := re.fullmatch(r'\+CMGL(?:=(\d|"[A-Z ]+"))?', cmd):
            wanted = m.group(1) or ("4" if not self.text_mode else '"ALL"')
            status = int(wanted) if wanted.isdigit() else next(
                (k for k, v in _STATUS_NAMES.items() if f'"{v}"' == wanted), None)
            if status is None or wanted.isdigit() == self.text_mode:
                raise _ModemError("CMS", 302)
            lines = []
            for index, item in sorted(self._storage.items()):
                if status == 4 or item.status == status:
                    lines += self._listing("+CMGL", index, item)
            return lines
        if m := re.fullmatch(r"\+CMGR=(\d+)", cmd):
            item = self._storage.get(int(m.group(1)))
            if item is None:
                raise _ModemError("CMS", 321)
            return self._listing("+CMGR", None, item)
        if m := re.fullmatch(r"\+CMGD=(\d+)(?:,(\d))?", cmd):
            if m.group(2) == "4":
                self._storage.clear()
            else:
                self._storage.pop(int(m.group(1)), None)
            return []
        raise _ModemError("CMS", 302)

    def _listing(self, head: str, index: int | None, item: _Stored) -> list[str]:
        where = f"{index}," if index is not None else ""
        status = item.status
        if item.status == 0:
            item.status = 1  # reading marks it read, as on a SIM
        if self.text_mode:
            return [f'{head}: {where}"{_STATUS_NAMES[status]}","{item.sender}","",""', item.text]
        return [f"{head}: {where}{status},,{_tpdu_length(item.pdu)}", item.pdu]

    def _submit(self, command: str, payload: str, arrival: float) -> None:
        """The PDU (or text) after the prompt arrived: answer after the network latency."""
        with self._lock:
            echo = self.echo
            text_mode = self.text_mode
            fail = self._refusal()
        if echo:
            self._write(payload.encode("latin-1"))
        try:
            sent = self._parse_submit(command, payload, text_mode)
        except _ModemError as exc:
            return self._reply([], self._error_text(exc))
        report = None
        if fail is None:
            with self._lock:
                sent.message_ref, self._next_ref = self._next_ref, (self._next_ref + 1) % 256
            if sent.status_report_requested:
                report = self._report_pdu(sent)  # built while the part is "on the air"
        link = self._link
        answer_at = arrival + self.latency_per_part
        while link is not None and (remaining := answer_at - time.monotonic()) > 0:
            if link.closed.wait(remaining):
                return  # unplugged while "on the air"
        if link is None:
            return
        if fail is not None:
            return self._reply([], fail)
        with self._lock:
            sent.time = time.monotonic()
            self.sent.append(sent)
            self._sent_cond.notify_all()
        self._reply([f"+CMGS: {sent.message_ref}"])
        self._acknowledged()
        if report is not None:
            if self.report_delay > 0:
                threading.Timer(self.report_delay, self._status_report, (report,)).start()
            else:
                self._status_report(report)

    def _parse_submit(self, command: str, payload: str, text_mode: bool) -> SentMessage:
        if text_mode:
            number = re.search(r'"([^"]+)"', command).group(1)
            return SentMessage(number, payload, None, 0, 0.0)
        declared = int(command.split("=", 1)[1])
        pdu = payload.strip()
        try:
            if _tpdu_length(pdu) != declared:
                raise PduError(f"AT+CMGS={declared} but the TPDU has {_tpdu_length(pdu)} octets")
            submit = decode_submit(pdu)
        except (PduError, ValueError) as exc:
            log.warning("emulator rejects PDU %s: %s", pdu, exc)
            raise _ModemError("CMS", 304) from exc
        return SentMessage(submit.number, submit.text, submit.concat, 0, 0.0, pdu, submit.encoding,
                           submit.status_report_requested)


class _ModemError(Exception):
    def __init__(self, kind: str, code: int):
        super().__init__(f"+{kind} ERROR: {code}")
        self.kind, self.code = kind, code


def _tpdu_length(pdu: str) -> int:
    """Octets after the SMSC information, as AT+CMGS=<len> and +CMGL report them."""
    return len(pdu) // 2 - 1 - int(pdu[:2], 16)


def _ranges(values: tuple[int, ...]) -> str:
    if list(values) == list(range(values[0], values[-1] + 1)) and len(values) > 2:
        return f"({values[0]}-{values[-1]})"
    return "(" + ",".join(map(str, values)) + ")"
