"""One modem's worker thread for the gateway: sends the parts it claims from the outbox, reads what
the modem reports, and rides out or recovers the modem when it fails.

The worker knows its gateway only through `GatewayLink` (a few named calls, in the style of
pyserial's `threaded.Protocol`) and the frozen `GatewaySettings`. A reboot, a deaf spell or a
vanished USB port is ridden out first (seconds); lost registration holds sending without spending
attempts; only then comes the escalating recovery, re-initialise → AT+CFUN=1,1 → power cycle →
"dead". Each fault and what it costs: docs/sms-gateway.md, "Faults".
"""
from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
import time
from typing import Callable, Protocol

from . import at, health, inbox, outbox
from .errors import SmsError
from .modem import UNREGISTERED
from .settings import GatewaySettings
from .storage import Database

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 0.005
# Consecutive transient send errors after which the modem itself is suspected.
SUSPECT_AFTER_ERRORS = 3
# How long a modem may take to boot after AT+CFUN=1,1 or a power cycle, in seconds.
RESTART_SECONDS = 60.0
# How often a vanished port path is looked for, and a deaf modem probed, in seconds.
PORT_POLL_SECONDS = 0.1
PROBE_SECONDS = 1.0
# An unchanged health row is rewritten this often (seconds): each write is SD-card wear.
HEALTH_HEARTBEAT_SECONDS = 600.0
# Codes after which the modem has no network: hold sending, do not spend the part's attempts.
NO_NETWORK = (at.NoNetworkService, at.NetworkTimeout)
# Between RDY and SMS DONE a SIM answers "busy" (+CMS 314, +CME 14) for a few seconds.
SIM_BUSY_PAUSE_SECONDS = 0.5


def _sim_busy(exc: Exception) -> bool:
    return isinstance(exc, at.SimFailure) and getattr(exc, "code", None) in (314, 14)

PowerCycle = Callable[[str], None]


class GatewayLink(Protocol):
    """What a worker may ask of the gateway that runs it."""

    stop_event: threading.Event
    once: bool  # run_once: return when nothing is due

    def connect(self) -> Database:
        """A store connection for the worker's thread."""

    def release(self, db: Database) -> None:
        """Give back a connection from connect()."""

    def report_status(self, port: str, pdu_hex: str) -> None:
        """A status report PDU, to be matched to its part off the send path."""

    def inbox_ready(self) -> None:
        """New inbox messages were stored: run the handlers soon."""

    def quiet_moment(self) -> None:
        """The worker is idle: a good moment for deferred store work."""

    def work_added(self) -> None:
        """Work was queued in this process: wake every worker."""


class _ModemFailed(Exception):
    """Internal: the modem (not one message) is at fault; start recovery."""


class _ModemBusy(Exception):
    """Internal: the modem rebooted or went deaf; ride it out before recovery."""


class ModemWorker:
    """One modem: connects, sends, reads, recovers. Runs on its own thread (`run`)."""

    STEPS = ("reinitialise", "soft_reset", "power_cycle")

    def __init__(self, url: str, name: str, settings: GatewaySettings, link: GatewayLink,
                 power_cycle: PowerCycle | None = None):
        self.url = url
        self.port = name  # the modem's stable identity in the store (worker id, health row)
        self.settings = settings
        self.link = link
        self.power_cycle = power_cycle
        self.modem = None
        self.events: queue.Queue = queue.Queue()
        self.wake = threading.Event()
        self.level = 0  # index into STEPS of the next recovery step; len(STEPS) means dead
        self.state = "starting"
        self.info = None
        self.last_error: str | None = None
        self.sent = 0
        self.transient_errors = 0
        self.registered = True
        self.next_sweep = 0.0
        self.next_health = 0.0
        self.next_registration = 0.0
        self.db: Database | None = None
        self._health_written: tuple = ()
        self._health_at = float("-inf")

    # --- main loop ------------------------------------------------------------------------------
    def run(self) -> None:
        link = self.link
        db = self.db = link.connect()
        try:
            outbox.recover(db, self.port)
            first = True
            while not link.stop_event.is_set():
                if self.modem is None:
                    connected, first = self._connect(db, first), False
                    if not connected:
                        if link.once:
                            return
                        continue
                try:
                    self._handle_events(db)
                    self._periodic(db)
                    if not self.registered:
                        if link.once:
                            return
                        self._idle(db, hold=True)
                        continue
                    sent = self._send_due(db)
                    if link.once and not sent and self.events.empty():
                        return
                    if not sent:
                        self._idle(db)
                except _ModemBusy as exc:
                    self._ride_out(db, str(exc))
                except _ModemFailed as exc:
                    self._failed(db, str(exc.__cause__ or exc))
                except at.Rebooted as exc:
                    self._ride_out(db, str(exc))
                except at.PortGone as exc:
                    self._port_lost(db, str(exc))
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
            link.release(db)

    def _on_event(self, event, modem) -> None:
        """Called on the modem's dispatcher thread. A PDU delivered directly (+CMT, +CDS) needs no
        modem command, so it is stored right here, off the send path; the rest go to the worker."""
        from .modem import IncomingPdu, StatusReportPdu
        if isinstance(event, StatusReportPdu):
            self.link.report_status(self.port, event.pdu)
            modem.ack_new_message()
            return
        if isinstance(event, IncomingPdu) and self.db is not None:
            self._take_pdu(self.db, event.pdu)
            modem.ack_new_message()
            return
        self.events.put(event)
        self.wake.set()

    # --- riding out a reboot, a deaf spell, a vanished port ---------------------------------------
    def _hand_over(self, db: Database) -> None:
        """This modem cannot send for now: other modems may take its messages not yet started."""
        released = outbox.unassign(db, self.port)
        if released:
            log.info("modem on %s: %d queued parts handed to other modems", self.port, released)
            self.link.work_added()

    def _ride_out(self, db: Database, reason: str) -> None:
        """The modem rebooted or stopped answering. Keep the port open and wait up to
        `boot_seconds` for the modem session's own re-initialisation (after RDY) or for AT to
        answer again; only then start recovery."""
        modem, settings = self.modem, self.settings
        log.warning("modem on %s: %s; waiting for it to come back", self.port, reason)
        self.state, self.last_error = "rebooting", reason
        self._write_health(db)
        self._hand_over(db)
        deadline = time.monotonic() + settings.boot_seconds
        generation = modem.generation
        while not self.link.stop_event.is_set() and time.monotonic() < deadline:
            if not modem.is_open:
                return self._port_lost(db, reason)
            if modem.booting:  # RDY seen: the session re-initialises on its own thread
                if modem.wait_ready(min(PROBE_SECONDS, max(0.0, deadline - time.monotonic()))):
                    return self._back(db)
                continue
            if modem.generation != generation:
                return self._back(db)
            try:
                modem.command("AT", timeout=PROBE_SECONDS)
                if any("1" in line for line in modem.command("AT+CMGF?") if line.startswith("+CMGF")):
                    modem.initialise()  # text mode again: it rebooted and its RDY was lost
                return self._back(db)
            except at.PortGone:
                return self._port_lost(db, reason)
            except at.AtError:
                continue  # still deaf, or booting (the next loop sees RDY)
        self._failed(db, f"{reason}; not back within {settings.boot_seconds:g} s")

    def _back(self, db: Database) -> None:
        self.state = "ok"
        self.info = self.modem.info
        self.registered = self.info.registration not in UNREGISTERED
        self.next_sweep = 0.0  # messages may have arrived while it was away
        log.info("modem on %s is back", self.port)
        self._write_health(db)

    def _port_lost(self, db: Database, reason: str) -> None:
        """The port vanished (a USB modem re-enumerating): wait for its path, reopen at once."""
        self._close()
        self.state, self.last_error = "rebooting", f"port lost: {reason}"
        self._write_health(db)
        self._hand_over(db)
        if not self.url.startswith("/"):
            return self._failed(db, reason)
        deadline = time.monotonic() + self.settings.port_return_seconds
        while not os.path.exists(self.url):
            if time.monotonic() >= deadline:
                return self._failed(db, f"port {self.url} gone for {self.settings.port_return_seconds:g} s")
            if self.link.stop_event.wait(PORT_POLL_SECONDS):
                return
        modem = self._new_modem()
        try:
            self.info = self._open(modem, restarted=True)
        except SmsError as exc:
            modem.close()
            return self._failed(db, f"port back but modem silent: {exc}")
        self.modem = modem
        self._back(db)

    # --- connecting and recovery ----------------------------------------------------------------
    def _connect(self, db: Database, first: bool) -> bool:
        """One recovery step (after its pause); True when the modem is open and initialised."""
        settings, link = self.settings, self.link
        step = self.STEPS[self.level] if self.level < len(self.STEPS) else "dead"
        if step == "power_cycle" and self.power_cycle is None:
            self.level += 1
            return False
        delay = 0.0 if first else (settings.recovery_delays[min(self.level, len(settings.recovery_delays) - 1)]
                                   if step != "dead" else settings.dead_retry_seconds)
        if step == "dead":
            if self.state not in ("dead", "sim_locked", "no_sim"):
                self.state = "dead"
                log.error("modem on %s is dead (%s)", self.port, self.last_error)
                self._write_health(db)
            self._hand_over(db)
            if self._wait_for_port(delay):
                return False
        elif delay and link.stop_event.wait(delay):
            return False
        modem = self._new_modem()
        try:
            if step == "soft_reset":
                self._soft_reset(modem)
            elif step == "power_cycle":
                self.power_cycle(getattr(self.info, "model", "") or "")
            self.info = self._open(modem, restarted=step in ("soft_reset", "power_cycle"))
        except (at.SimPinRequired, at.SimNotInserted) as exc:
            modem.close()
            self._sim_problem(db, exc)
            return False
        except (SmsError, OSError) as exc:
            modem.close()
            self.last_error = f"{step}: {exc}"
            log.warning("modem on %s: %s failed: %s", self.port, step, exc)
            self.level = min(self.level + 1, len(self.STEPS))
            if self.state not in ("dead", "sim_locked", "no_sim"):
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
        self.registered = self.info.registration not in UNREGISTERED
        self.next_sweep = 0.0
        self.next_health = time.monotonic() + settings.health_seconds
        log.info("modem on %s ready: %s, %s", self.port, self.info.model, self.info.operator)
        self._write_health(db)
        return True

    def _sim_problem(self, db: Database, exc: at.AtError) -> None:
        """A SIM that is missing or locked will not fix itself by resets: say so and retry slowly."""
        locked = isinstance(exc, at.SimPinRequired)
        self.state = "sim_locked" if locked else "no_sim"
        # The words "SIM PIN" / "SIM not inserted" are what the kiosk's LED probe looks for.
        self.last_error = (f"SIM PIN required: set modem.sim_pin in the config ({exc})" if locked
                           else f"SIM not inserted or not answering: seat the SIM ({exc})")
        self.level = len(self.STEPS)  # straight to the slow retry; power cycles cannot help
        log.error("modem on %s: %s", self.port, self.last_error)
        self._write_health(db)

    def _new_modem(self):
        from .modem import Modem
        modem = Modem(self.url, **self.settings.modem_options)
        modem.on_event = lambda event: self._on_event(event, modem)
        return modem

    def _soft_reset(self, modem) -> None:
        # The modem answers badly, so no full initialisation before the reset: just AT+CFUN=1,1.
        channel = at.AtChannel(self.url, baudrate=modem.baudrate, rtscts=modem.rtscts)
        try:
            channel.command("AT+CFUN=1,1", timeout=15.0)
        finally:
            channel.close()

    def _open(self, modem, restarted: bool):
        """Open and initialise; after a reset, power cycle or port return keep trying for
        RESTART_SECONDS while the modem boots (a SIM7600 takes about 15-20 s)."""
        deadline = time.monotonic() + (RESTART_SECONDS if restarted else 0.0)
        while True:
            try:
                return modem.open()
            except at.SimPinRequired:
                raise
            except at.AtError:  # a SIM "not ready" while booting included
                if time.monotonic() >= deadline or self.link.stop_event.wait(0.5):
                    raise

    def _wait_for_port(self, delay: float) -> bool:
        """Wait up to `delay` s, returning early when a vanished port path comes back; True if stopping."""
        stop = self.link.stop_event
        is_path = self.url.startswith("/")
        was_there = os.path.exists(self.url) if is_path else True
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            if stop.wait(min(PORT_POLL_SECONDS if is_path else 1.0, deadline - time.monotonic())):
                return True
            if is_path:
                there = os.path.exists(self.url)
                if there and not was_there:
                    return False
                was_there = there
        return stop.is_set()

    def _failed(self, db: Database, error: str) -> None:
        self.last_error = error
        self.state = "recovering"
        log.warning("modem on %s failed: %s; recovering", self.port, error)
        self._close()
        self._write_health(db)
        self._hand_over(db)

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
        policy = self.settings.policy
        part = outbox.claim_next(db, self.port, policy=policy)
        if part is None:
            return 0
        sent = 0
        try:
            with self.modem.batch():
                while part is not None:
                    if self.link.stop_event.is_set():
                        outbox.release(db, part.id, "gateway stopped")
                        part = None
                        break
                    reference = self._send(db, part)
                    keep_going = self.registered and time.monotonic() < min(self.next_sweep, self.next_health)
                    if reference is None:
                        part = outbox.claim_next(db, self.port, policy=policy) if keep_going else None
                    else:
                        sent += 1
                        self.sent += 1
                        part = outbox.mark_sent(db, part.id, reference, self.port, claim_next=keep_going,
                                                policy=policy)
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
        """Send one part; return its message reference, or None after recording the failure.
        Raises _ModemBusy / _ModemFailed / PortGone when the modem, not the part, is at fault."""
        from . import pdu
        policy = self.settings.policy
        try:
            pdu_hex, length = pdu.encode_submit(part.recipient, part.text, encoding=part.encoding,
                                                concat=part.concat, ref16=part.ref16, status_report=True,
                                                validity_minutes=self.settings.validity_minutes)
        except ValueError as exc:
            outbox.mark_failed(db, part.id, f"cannot encode: {exc}", permanent=True, policy=policy)
            return None
        try:
            reference = self.modem.send_pdu(pdu_hex, length)
        except (at.Rebooted, at.PromptTimeout) as exc:
            # No +CMGS reference: the part goes back unsent, its attempt not counted.
            outbox.release(db, part.id, str(exc))
            raise _ModemBusy(str(exc)) from exc
        except at.PortGone:
            outbox.release(db, part.id, "modem port lost")
            raise
        except at.MemoryFull as exc:
            outbox.release(db, part.id, str(exc))
            self._empty_storage(db)
            return None
        except at.SimFailure as exc:
            if not _sim_busy(exc):
                self._transient(db, part, exc, permanent=False)
                return None
            outbox.release(db, part.id, str(exc))
            self.link.stop_event.wait(SIM_BUSY_PAUSE_SECONDS)
            return None
        except NO_NETWORK as exc:
            outbox.release(db, part.id, str(exc))
            self._registration_lost(db, str(exc))
            return None
        except at.CmsError as exc:
            self._transient(db, part, exc, permanent=exc.permanent)
            return None
        except at.AtTimeout as exc:
            # The PDU went out and the network never answered: counted, the modem is suspect.
            outbox.mark_failed(db, part.id, str(exc), permanent=False, policy=policy)
            raise _ModemBusy(str(exc)) from exc
        except at.AtError as exc:
            # A bare ERROR (no code): modems say it for a busy radio as often as for a bad PDU.
            self._transient(db, part, exc, permanent=False)
            return None
        self.transient_errors = 0
        self.level = 0
        return reference

    def _transient(self, db: Database, part: outbox.Part, exc: at.AtError, *, permanent: bool) -> None:
        outbox.mark_failed(db, part.id, str(exc), permanent=permanent, policy=self.settings.policy)
        self.last_error = str(exc)
        if not permanent:
            self.transient_errors += 1
            if self.transient_errors >= SUSPECT_AFTER_ERRORS:
                self.transient_errors = 0
                raise _ModemBusy(f"{SUSPECT_AFTER_ERRORS} send errors in a row") from exc

    def _registration_lost(self, db: Database, reason: str) -> None:
        if self.registered:
            log.warning("modem on %s lost the network (%s); holding sends", self.port, reason)
        self.registered = False
        self.state, self.last_error = "unregistered", reason
        self.next_registration = time.monotonic() + self.settings.registration_poll_seconds
        self._write_health(db)
        self._hand_over(db)

    def _registration_changed(self, db: Database, state: str) -> None:
        if state in UNREGISTERED:
            self._registration_lost(db, f"network registration: {state}")
        elif not self.registered and state in ("home", "roaming"):
            log.info("modem on %s registered again (%s); sending", self.port, state)
            self.registered, self.state = True, "ok"
            if self.info is not None:
                self.info.registration, self.info.registered = state, True
            self._write_health(db)

    def _idle(self, db: Database, hold: bool = False) -> None:
        """Sleep until new work, a modem event, a retry falling due or the next periodic job."""
        link = self.link
        link.quiet_moment()
        due = None if hold else outbox.next_due(db, self.port, policy=self.settings.policy)
        until = min(self.next_sweep, self.next_health,
                    self.next_registration if hold else float("inf"),
                    time.monotonic() + (due if due is not None else 3600.0))
        version = db.scalar("PRAGMA data_version")
        while not link.stop_event.is_set() and time.monotonic() < until:
            if self.wake.wait(IDLE_POLL_SECONDS):
                self.wake.clear()
                return
            if outbox.work_added.is_set():
                outbox.work_added.clear()  # every worker checks the store when woken, so one clear is enough
                link.work_added()
                return
            if not hold and db.scalar("PRAGMA data_version") != version:
                return

    # --- reading --------------------------------------------------------------------------------
    def _handle_events(self, db: Database) -> None:
        from . import modem as modem_events
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return
            if isinstance(event, (modem_events.IncomingStored, modem_events.StatusReportStored)):
                self._take_stored(db, event.index)
            elif isinstance(event, modem_events.IncomingPdu):
                self._take_pdu(db, event.pdu)
            elif isinstance(event, modem_events.ModemRebooted):
                log.warning("modem on %s rebooted by itself; it re-initialises", self.port)
                self.next_sweep = 0.0  # messages may have arrived while it was away
            elif isinstance(event, modem_events.RegistrationChanged):
                self._registration_changed(db, event.state)
            elif isinstance(event, modem_events.StorageFull):
                self._empty_storage(db)
            elif isinstance(event, modem_events.ConnectionLost):
                raise at.PortGone(f"port lost: {event.error}")

    def _take_stored(self, db: Database, index: int) -> None:
        try:
            stored = self.modem.read_message(index)
        except at.InvalidIndex:
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
            self.link.report_status(self.port, pdu_hex)
        elif isinstance(decoded, pdu.Deliver) and inbox.store(db, decoded, pdu_hex, port=self.port) is not None:
            self.link.inbox_ready()

    def _sweep(self, db: Database, everything: bool = False) -> int:
        """AT+CMGL backs up +CMTI, which many modems forget to send. With `everything`, our own
        stored drafts (status 2/3) are deleted too. Returns how many slots were freed."""
        freed = 0
        for stored in self.modem.list_messages(4):
            if stored.status in (0, 1):  # received unread/read
                self._take_pdu(db, stored.pdu)
            elif not everything:
                continue
            self.modem.delete_message(stored.index)  # only once it is safely in the store
            freed += 1
        return freed

    def _empty_storage(self, db: Database) -> None:
        """Storage full (+CMS ERROR: 322): store everything there, delete it, carry on."""
        freed = self._sweep(db, everything=True)
        log.warning("modem on %s: message storage full; %d messages stored and deleted", self.port, freed)
        self.next_sweep = time.monotonic() + self.settings.sweep_seconds

    def _periodic(self, db: Database) -> None:
        now = time.monotonic()
        settings = self.settings
        if now >= self.next_sweep:
            try:
                self._sweep(db)
                self.next_sweep = now + settings.sweep_seconds
            except at.SimFailure as exc:
                if not _sim_busy(exc):
                    raise
                self.next_sweep = now + SIM_BUSY_PAUSE_SECONDS  # just booted: SMS DONE is near
        if not self.registered and now >= self.next_registration:
            self._registration_changed(db, self.modem.registration())
            self.next_registration = now + settings.registration_poll_seconds
        if now >= self.next_health:
            self.info = self.modem.health()
            usage = self.modem.storage_usage()
            if usage and usage[1] and usage[0] >= usage[1]:
                self._empty_storage(db)
            self.level = 0
            self._registration_changed(db, self.info.registration)
            self._write_health(db)
            self.next_health = now + settings.health_seconds

    def _write_health(self, db: Database, state: str | None = None) -> None:
        info = self.info
        try:
            row = (state or self.state, getattr(info, "model", ""), getattr(info, "operator", ""),
                   getattr(info, "signal_csq", None), getattr(info, "registration", ""),
                   outbox.queue_depth(db), self.sent, self.last_error)
            if row == self._health_written and time.monotonic() - self._health_at < HEALTH_HEARTBEAT_SECONDS:
                return
            health.write(db, self.port, row[0], info, queue_depth=row[5], sent=self.sent,
                         last_error=self.last_error)
            self._health_written, self._health_at = row, time.monotonic()
        except (SmsError, sqlite3.Error):
            log.exception("cannot write gateway health for %s", self.port)
