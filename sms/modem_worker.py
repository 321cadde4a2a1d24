"""One modem's worker thread for the gateway (sms/gateway.py): sends the parts it claims from the
outbox, reads what the modem reports, and recovers the modem step by step when it fails."""
from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from datetime import datetime, timezone

from typing import TYPE_CHECKING

from . import inbox, outbox
from .errors import SmsError
from .storage import Database

if TYPE_CHECKING:
    from .gateway import Gateway

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 0.005
# Consecutive transient send errors after which the modem itself is suspected and re-initialised.
SUSPECT_AFTER_ERRORS = 3
# How long a modem may take to boot after AT+CFUN=1,1 or a power cycle, in seconds.
RESTART_SECONDS = 60.0


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class _ModemFailed(Exception):
    """Internal: the modem (not one message) is at fault; start recovery."""


class ModemWorker:
    """One modem: connects, sends, reads, recovers. Runs on its own thread."""

    STEPS = ("reinitialise", "soft_reset", "power_cycle")

    def __init__(self, gateway: Gateway, url: str, name: str):
        self.gateway = gateway
        self.url = url
        self.port = name  # the modem's stable identity in the store (worker id, health row)
        self.modem = None
        self.events: queue.Queue = queue.Queue()
        self.wake = threading.Event()
        self.level = 0  # index into STEPS of the next recovery step; len(STEPS) means dead
        self.state = "starting"
        self.info = None
        self.last_error: str | None = None
        self.sent = 0
        self.transient_errors = 0
        self.next_sweep = 0.0
        self.next_health = 0.0
        self.db: Database | None = None

    # --- main loop ------------------------------------------------------------------------------
    def run(self) -> None:
        gw = self.gateway
        db = self.db = gw.connect()
        try:
            outbox.recover(db, self.port)
            first = True
            while not gw.stop_event.is_set():
                if self.modem is None:
                    connected, first = self._connect(db, first), False
                    if not connected:
                        if gw._once:
                            return
                        continue
                try:
                    self._handle_events(db)
                    self._periodic(db)
                    sent = self._send_due(db)
                    if gw._once and not sent and self.events.empty():
                        return
                    if not sent:
                        self._idle(db)
                except _ModemFailed as exc:
                    self._failed(db, str(exc.__cause__ or exc))
                except SmsError as exc:  # a modem error outside a send: the modem is suspect
                    self._failed(db, str(exc))
                except (sqlite3.Error, OSError) as exc:  # the store or the port; recovery pauses first
                    log.exception("gateway worker for %s failed", self.port)
                    self._failed(db, f"{type(exc).__name__}: {exc}")
        except Exception:
            log.exception("gateway worker for %s crashed", self.port)
            raise
        finally:
            self._close()
            self._write_health(db, state="stopped")
            self.db = None
            gw._release(db)

    def _on_event(self, event, modem) -> None:
        """Called on the modem's dispatcher thread. A PDU delivered directly (+CMT, +CDS) needs no
        modem command, so it is stored right here, off the send path; the rest go to the worker."""
        from .modem import IncomingPdu, StatusReportPdu
        if isinstance(event, StatusReportPdu):
            # Not urgent, and it arrives just as the next part should go out: the housekeeping
            # thread applies it on its own connection.
            self.gateway.reports.put((self.port, event.pdu, time.monotonic()))
            modem.ack_new_message()
            return
        if isinstance(event, IncomingPdu) and self.db is not None:
            self._take_pdu(self.db, event.pdu)
            modem.ack_new_message()
            return
        self.events.put(event)
        self.wake.set()

    # --- connecting and recovery ----------------------------------------------------------------
    def _connect(self, db: Database, first: bool) -> bool:
        """One recovery step (after its pause); True when the modem is open and initialised."""
        gw = self.gateway
        step = self.STEPS[self.level] if self.level < len(self.STEPS) else "dead"
        power_cycle = gw.power_cycle.get(self.port) if isinstance(gw.power_cycle, dict) else gw.power_cycle
        if step == "power_cycle" and power_cycle is None:
            self.level += 1
            return False
        delay = 0.0 if first else (gw.recovery_delays[min(self.level, len(gw.recovery_delays) - 1)]
                                   if step != "dead" else gw.dead_retry_seconds)
        if step == "dead":
            if self.state != "dead":
                self.state = "dead"
                released = outbox.unassign(db, self.port)
                log.error("modem on %s is dead (%s); %d queued parts released to other modems",
                          self.port, self.last_error, released)
                self._write_health(db)
            if self._wait_for_port(delay):
                return False
        elif delay and gw.stop_event.wait(delay):
            return False
        modem = self._new_modem()
        try:
            if step == "soft_reset":
                self._soft_reset(modem)
            elif step == "power_cycle":
                power_cycle()
            self.info = self._open(modem, restarted=step in ("soft_reset", "power_cycle"))
        except (SmsError, OSError) as exc:
            modem.close()
            self.last_error = f"{step}: {exc}"
            log.warning("modem on %s: %s failed: %s", self.port, step, exc)
            self.level = min(self.level + 1, len(self.STEPS))
            if self.state != "dead":
                self.state = "recovering"
            self._write_health(db)
            return False
        except Exception as exc:  # power_cycle comes from outside the package; keep the daemon up
            modem.close()
            self.last_error = f"{step}: {type(exc).__name__}: {exc}"
            log.exception("modem on %s: %s failed", self.port, step)
            self.level = min(self.level + 1, len(self.STEPS))
            self._write_health(db)
            return False
        # The step counts as used: if the modem fails again before proving itself (a part sent,
        # a health check answered), the next recovery goes one step further.
        self.level = min(self.level + 1, len(self.STEPS))
        self.modem, self.state = modem, "ok"
        self.transient_errors = 0
        self.next_sweep = 0.0
        self.next_health = time.monotonic() + gw.health_seconds
        log.info("modem on %s ready: %s, %s", self.port, self.info.model, self.info.operator)
        self._write_health(db)
        return True

    def _new_modem(self):
        from .modem import Modem
        modem = Modem(self.url, **self.gateway.modem_options)
        modem.on_event = lambda event: self._on_event(event, modem)
        return modem

    def _soft_reset(self, modem) -> None:
        # The modem answers badly, so no full initialisation before the reset: just AT+CFUN=1,1.
        from .at import AtChannel
        channel = AtChannel(self.url, baudrate=modem.baudrate, rtscts=modem.rtscts)
        try:
            channel.command("AT+CFUN=1,1", timeout=15.0)
        finally:
            channel.close()

    def _open(self, modem, restarted: bool):
        """Open and initialise; after a reset or power cycle keep trying for RESTART_SECONDS while
        the modem boots (a SIM7600 takes about 15-20 s)."""
        from .at import AtError
        deadline = time.monotonic() + (RESTART_SECONDS if restarted else 0.0)
        while True:
            try:
                return modem.open()
            except AtError:
                if time.monotonic() >= deadline or self.gateway.stop_event.wait(1.0):
                    raise

    def _wait_for_port(self, delay: float) -> bool:
        """Wait up to `delay` s, returning early when a vanished port path comes back; True if stopping."""
        gw = self.gateway
        is_path = self.url.startswith("/")
        was_there = os.path.exists(self.url) if is_path else True
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            if gw.stop_event.wait(min(1.0, deadline - time.monotonic())):
                return True
            if is_path:
                there = os.path.exists(self.url)
                if there and not was_there:
                    return False
                was_there = there
        return gw.stop_event.is_set()

    def _failed(self, db: Database, error: str) -> None:
        self.last_error = error
        self.state = "recovering"
        log.warning("modem on %s failed: %s; recovering", self.port, error)
        self._close()
        self._write_health(db)

    def _close(self) -> None:
        modem, self.modem = self.modem, None
        if modem is not None:
            try:
                modem.close()
            except Exception:
                log.exception("closing the modem on %s failed", self.port)

    # --- sending ----------------------------------------------------------------------------------
    def _send_due(self, db: Database) -> int:
        """Send parts while any are due; 0 when nothing was due, else a positive count (failures
        included, so the caller does not go idle while retries may be ready)."""
        gw = self.gateway
        part = outbox.claim_next(db, self.port, policy=gw.policy)
        if part is None:
            return 0
        sent = 0
        try:
            with self.modem.batch():
                while part is not None:
                    if gw.stop_event.is_set():
                        outbox.release(db, part.id, "gateway stopped")
                        part = None
                        break
                    reference = self._send(db, part)
                    keep_going = time.monotonic() < min(self.next_sweep, self.next_health)
                    if reference is None:
                        part = outbox.claim_next(db, self.port, policy=gw.policy) if keep_going else None
                    else:
                        sent += 1
                        self.sent += 1
                        part = outbox.mark_sent(db, part.id, reference, self.port, claim_next=keep_going,
                                                policy=gw.policy)
                    # Status reports and new messages are taken between parts, inside the batch.
                    self._handle_events(db)
                    if part is None and not keep_going:
                        break
        except BaseException:
            if part is not None:
                outbox.release(db, part.id, "gateway interrupted")
            raise
        self._write_health(db)
        return max(sent, 1)

    def _send(self, db: Database, part: outbox.Part) -> int | None:
        """Send one part; return its message reference, or None after recording the failure."""
        from . import at, pdu
        gw = self.gateway
        try:
            pdu_hex, length = pdu.encode_submit(part.recipient, part.text, encoding=part.encoding,
                                                concat=part.concat, ref16=part.ref16, status_report=True,
                                                validity_minutes=gw.validity_minutes)
        except ValueError as exc:
            outbox.mark_failed(db, part.id, f"cannot encode: {exc}", permanent=True, policy=gw.policy)
            return None
        try:
            reference = self.modem.send_pdu(pdu_hex, length)
        except at.CmsError as exc:
            outbox.mark_failed(db, part.id, str(exc), permanent=exc.permanent, policy=gw.policy)
            self.last_error = str(exc)
            if not exc.permanent:
                self.transient_errors += 1
                if self.transient_errors >= SUSPECT_AFTER_ERRORS:
                    raise _ModemFailed(f"{self.transient_errors} send errors in a row") from exc
            return None
        except at.AtError as exc:
            # Timeout, lost port or plain ERROR: the part goes back (counted) and the modem is suspect.
            outbox.mark_failed(db, part.id, str(exc), permanent=False, policy=gw.policy)
            raise _ModemFailed(str(exc)) from exc
        self.transient_errors = 0
        self.level = 0
        return reference

    def _idle(self, db: Database) -> None:
        """Sleep until new work, a modem event, a retry falling due or the next periodic job."""
        gw = self.gateway
        if not gw.reports.empty():
            gw.inbox_event.set()  # status reports wait for a quiet moment; this is one
        due = outbox.next_due(db, self.port, policy=gw.policy)
        until = min(self.next_sweep, self.next_health,
                    time.monotonic() + (due if due is not None else 3600.0))
        version = db.scalar("PRAGMA data_version")
        while not gw.stop_event.is_set() and time.monotonic() < until:
            if self.wake.wait(IDLE_POLL_SECONDS):
                self.wake.clear()
                return
            if outbox.work_added.is_set():
                outbox.work_added.clear()  # every worker checks the store when woken, so one clear is enough
                for worker in gw.workers:
                    worker.wake.set()
                return
            if db.scalar("PRAGMA data_version") != version:
                return

    # --- reading --------------------------------------------------------------------------------
    def _handle_events(self, db: Database) -> None:
        from . import modem as modem_events
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return
            if isinstance(event, modem_events.IncomingStored):
                self._take_stored(db, event.index)
            elif isinstance(event, modem_events.StatusReportStored):
                self._take_stored(db, event.index)
            elif isinstance(event, modem_events.IncomingPdu):
                self._take_pdu(db, event.pdu)
            elif isinstance(event, modem_events.ModemRebooted):
                log.warning("modem on %s rebooted by itself; it re-initialises", self.port)
                self.next_sweep = 0.0  # messages may have arrived while it was away
            elif isinstance(event, modem_events.ConnectionLost):
                raise _ModemFailed(f"port lost: {event.error}")

    def _take_stored(self, db: Database, index: int) -> None:
        from .at import InvalidIndex
        try:
            stored = self.modem.read_message(index)
        except InvalidIndex:
            return  # already taken by a sweep
        self._take_pdu(db, stored.pdu)
        self.modem.delete_message(index)  # only once it is safely in the store

    def _take_pdu(self, db: Database, pdu_hex: str) -> None:
        """Store a received PDU: a message goes to the inbox, a status report to the report queue."""
        from . import pdu
        try:
            decoded = pdu.decode(pdu_hex)
        except ValueError as exc:
            log.warning("modem on %s gave an undecodable PDU (%s): %s", self.port, exc, pdu_hex)
            return
        if isinstance(decoded, pdu.StatusReport):
            self.gateway.reports.put((self.port, pdu_hex, time.monotonic()))
        elif isinstance(decoded, pdu.Deliver) and inbox.store(db, decoded, pdu_hex, port=self.port) is not None:
            self.gateway.inbox_event.set()

    def _sweep(self, db: Database) -> None:
        """AT+CMGL backs up +CMTI, which many modems forget to send."""
        for stored in self.modem.list_messages(4):
            if stored.status in (0, 1):  # received unread/read; 2/3 are our own stored drafts
                self._take_pdu(db, stored.pdu)
                self.modem.delete_message(stored.index)

    def _periodic(self, db: Database) -> None:
        now = time.monotonic()
        if now >= self.next_sweep:
            self._sweep(db)
            self.next_sweep = now + self.gateway.sweep_seconds
        if now >= self.next_health:
            self.info = self.modem.health()
            self.level = 0
            self._write_health(db)
            self.next_health = now + self.gateway.health_seconds

    def _write_health(self, db: Database, state: str | None = None) -> None:
        info = self.info
        try:
            with db.transaction() as conn:
                conn.execute(
                    "INSERT INTO gateway_health (port, state, model, operator, signal, registration, queue_depth,"
                    " sent, last_error, pid, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(port) DO UPDATE"
                    " SET state=excluded.state, model=excluded.model, operator=excluded.operator,"
                    " signal=excluded.signal, registration=excluded.registration,"
                    " queue_depth=excluded.queue_depth, sent=excluded.sent, last_error=excluded.last_error,"
                    " pid=excluded.pid, updated_at=excluded.updated_at",
                    (self.port, state or self.state, getattr(info, "model", "") or "",
                     getattr(info, "operator", "") or "", getattr(info, "signal_csq", None),
                     getattr(info, "registration", "") or "",
                     conn.execute("SELECT COUNT(*) FROM outbox_parts WHERE state IN ('queued','sending')").fetchone()[0],
                     self.sent, self.last_error, os.getpid(), _now_iso()))
        except (SmsError, sqlite3.Error):
            log.exception("cannot write gateway health for %s", self.port)
