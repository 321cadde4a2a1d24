"""The SMS gateway daemon: one worker thread per modem port (sms/modem_worker.py), all draining
the one outbox.

Each worker owns one modem: it claims parts (urgent first), sends them inside an AT+CMMS=2
batch, records each `+CMGS` reference in the transaction that claims the next part, and in the
gaps reads what the modem reports (+CMTI/+CMT messages, +CDS/+CDSI status reports) plus a periodic
AT+CMGL sweep. When the queue is empty it watches the store (PRAGMA data_version, a few µs) every
few milliseconds, so new work starts at once without a busy transaction loop.

A second thread joins multipart messages that timed out and hands new messages to the handlers.

Recovery of a failing modem is bounded and escalating, with a pause before every step:
re-initialise → AT+CFUN=1,1 → the power_cycle callable → "dead" (its unsent messages are released
to other modems, and it is retried slowly, or as soon as its port path reappears).
"""
from __future__ import annotations

import importlib
import logging
import queue
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from . import inbox, outbox
from .errors import SmsError
from .modem_worker import ModemWorker
from .storage import Database, Migration

log = logging.getLogger(__name__)

MIGRATIONS = [
    Migration("0001_gateway_health", """
        CREATE TABLE gateway_health (
            port TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            model TEXT NOT NULL DEFAULT '',
            operator TEXT NOT NULL DEFAULT '',
            signal INTEGER,
            registration TEXT NOT NULL DEFAULT '',
            queue_depth INTEGER NOT NULL DEFAULT 0,
            sent INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            pid INTEGER,
            updated_at TEXT NOT NULL
        );
    """),
]

SMS_MODULES = ("sms.outbox", "sms.inbox", "sms.gateway")
REPORT_RETRY_SECONDS = 60.0


class GatewayError(SmsError):
    """The gateway cannot start (no ports, bad settings)."""


def migrate(database: Database) -> None:
    """Create or update the sms tables (same migration names as kiosk.appliance.store, so either works)."""
    migrations = []
    for name in SMS_MODULES:
        module = importlib.import_module(name)
        migrations.extend(Migration(f"{name}:{m.name}", m.apply) for m in module.MIGRATIONS)
    database.migrate(migrations)


def open_database(path: str | Path) -> Database:
    """Open the store at `path` with the sms tables."""
    database = Database(path)
    migrate(database)
    return database


def health(db: Database) -> list[dict]:
    """One row per modem port: state (ok/recovering/dead/stopped), model, operator, signal…"""
    return db.query("SELECT * FROM gateway_health ORDER BY port")



class Gateway:
    """Runs the outbox through modems on `ports` and the inbox through `handlers`.

    `db` is a path (each thread opens its own connection) or an open Database (shared).
    `names` (default: the ports) identify the modems in the store; keep them stable across restarts,
    since a restarting worker requeues the unconfirmed parts recorded under its name.
    Times are in seconds. `power_cycle` switches the modem off and on (hardware/ provides it); a
    dict {port: callable} gives it to some ports only.
    `on_tick` is called about once a second from the housekeeping thread.
    """

    def __init__(self, db: str | Path | Database, ports: list[str], *, names: list[str] | None = None,
                 baudrate: int = 115200, rtscts: bool = False, sim_pin: str = "", max_attempts: int = 5,
                 quiet_start: str = "21:00", quiet_end: str = "06:00", timezone_name: str = "Asia/Ho_Chi_Minh",
                 parts_per_minute: int = 0, validity_hours: float = 24, backoff_base: float = 15.0,
                 backoff_max: float = 900.0, handlers: Iterable[inbox.Handler] | None = None,
                 power_cycle: Callable[[], None] | dict[str, Callable[[], None]] | None = None,
                 on_tick: Callable[[], None] | None = None, sweep_seconds: float = 60.0, health_seconds: float = 30.0, inbox_timeout_seconds: float = 600.0,
                 recovery_delays: tuple[float, ...] = (2.0, 10.0, 30.0), dead_retry_seconds: float = 300.0,
                 command_timeout: float = 10.0, send_timeout: float = 60.0):
        if not ports:
            raise GatewayError("no modem port configured (modem.port)")
        if len(set(ports)) != len(ports):
            raise GatewayError(f"the same modem port is listed twice: {ports}")
        if isinstance(db, Database):
            migrate(db)
        else:
            open_database(db).close()  # migrate once here, not in every thread at once
        self._db_source = db
        self.ports = list(ports)
        self.modem_options = dict(baudrate=baudrate, rtscts=rtscts, sim_pin=sim_pin,
                                  command_timeout=command_timeout, send_timeout=send_timeout)
        self.policy = outbox.Policy(max_attempts=max_attempts, quiet_start=quiet_start, quiet_end=quiet_end,
                                    timezone=timezone_name, parts_per_minute=parts_per_minute,
                                    validity_hours=validity_hours, backoff_base=backoff_base,
                                    backoff_max=backoff_max)
        self.policy.in_quiet_hours(datetime.now(timezone.utc))  # a bad HH:MM or zone fails here, not later
        self.validity_minutes = int(validity_hours * 60)
        self.handlers = list(handlers) if handlers is not None else inbox.registered_handlers()
        self.power_cycle = power_cycle
        self.on_tick = on_tick
        self.sweep_seconds = sweep_seconds
        self.health_seconds = health_seconds
        self.inbox_timeout_seconds = inbox_timeout_seconds
        self.recovery_delays = tuple(recovery_delays) or (1.0,)
        self.dead_retry_seconds = dead_retry_seconds
        self.stop_event = threading.Event()
        self.inbox_event = threading.Event()
        self.reports: queue.Queue = queue.Queue()
        self.names = list(names) if names else list(self.ports)
        if len(self.names) != len(self.ports) or len(set(self.names)) != len(self.names):
            raise GatewayError(f"each modem port needs its own name: {self.names}")
        self.workers = [ModemWorker(self, url, name) for url, name in zip(self.ports, self.names)]
        self._threads: list[threading.Thread] = []
        self._once = False

    def connect(self) -> Database:
        """A store connection for one thread (the shared one if a Database was given)."""
        if isinstance(self._db_source, Database):
            return self._db_source
        return open_database(self._db_source)

    def _release(self, db: Database) -> None:
        if db is not self._db_source:
            db.close()

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start one thread per port and the housekeeping thread; returns at once."""
        self.stop_event.clear()
        self._threads = [threading.Thread(target=w.run, name=f"sms-{w.port}", daemon=True) for w in self.workers]
        self._threads.append(threading.Thread(target=self._housekeeping, name="sms-inbox", daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 90.0) -> None:
        """Ask every thread to finish its current part, then wait (at most `timeout` s) for them."""
        self.stop_event.set()
        self.inbox_event.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Run until `stop_event` (or self.stop_event) is set."""
        self.start()
        try:
            (stop_event or self.stop_event).wait()
        finally:
            self.stop()

    def run_once(self, timeout: float = 600.0) -> None:
        """Send every part due now, read the modem's messages once, run handlers, then return."""
        self._once = True
        self.start()
        deadline = time.monotonic() + timeout
        for thread in self._threads[:-1]:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.stop(max(0.0, deadline - time.monotonic()))

    def wake(self) -> None:
        """Tell idle workers to look at the queue now (an enqueue in this process does it anyway)."""
        for worker in self.workers:
            worker.wake.set()

    # --- inbox side -----------------------------------------------------------------------------
    def _housekeeping(self) -> None:
        db = self.connect()
        unmatched: list[tuple[str, str, float]] = []
        try:
            while True:
                try:
                    unmatched = self._apply_reports(db, unmatched)
                    inbox.flush_incomplete(db, self.inbox_timeout_seconds)
                    inbox.dispatch(db, self.handlers)
                except Exception:  # the inbox must keep running whatever a handler or the store does
                    log.exception("inbox housekeeping failed")
                if self.on_tick:
                    try:
                        self.on_tick()
                    except Exception:
                        log.exception("gateway on_tick failed")
                if self.stop_event.is_set():
                    return
                self.inbox_event.wait(1.0)
                self.inbox_event.clear()
        finally:
            self._release(db)

    def _apply_reports(self, db: Database, unmatched: list) -> list:
        """Match queued status reports to sent parts; return those to retry (a report can overtake
        the commit of its part's reference). Unmatched ones are dropped after REPORT_RETRY_SECONDS."""
        from . import pdu
        pending = list(unmatched)
        while True:
            try:
                pending.append(self.reports.get_nowait())
            except queue.Empty:
                break
        retry = []
        for port, pdu_hex, received in pending:
            try:
                report = pdu.decode(pdu_hex)
            except ValueError as exc:
                log.warning("undecodable status report from %s (%s): %s", port, exc, pdu_hex)
                continue
            if outbox.apply_status_report(db, report.message_ref, report.recipient, delivered=report.delivered,
                                          final=report.final, status=report.status, worker_id=port) is not None:
                continue
            if time.monotonic() - received < REPORT_RETRY_SECONDS:
                retry.append((port, pdu_hex, received))
            else:
                log.info("status report from %s matches no part sent recently: %s", port, pdu_hex)
        return retry
