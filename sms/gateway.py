"""The SMS gateway daemon: one worker thread per modem port (sms/modem_worker.py), all draining
the one outbox, and a housekeeping thread for the inbox, status reports and retention.

Each worker owns one modem: it claims parts (urgent first; broadcasts wait out quiet hours, direct
replies do not), sends them inside an AT+CMMS=2 batch, records each `+CMGS` reference in the
transaction that claims the next part, and in the gaps reads what the modem reports (+CMTI/+CMT
messages, +CDS/+CDSI status reports) plus a periodic AT+CMGL sweep. When the queue is empty it
watches the store (PRAGMA data_version, a few µs) every few milliseconds, so new work starts at once.

The housekeeping thread joins multipart messages that timed out, hands new messages to the
handlers, matches status reports, and every `housekeeping_seconds` purges what retention allows
(sms tables) and runs the kiosk's own housekeeping jobs.

Settings are one frozen GatewaySettings (sms/settings.py); workers see the gateway only through
the GatewayLink it implements.
"""
from __future__ import annotations

import importlib
import logging
import queue
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from . import health as modem_health, inbox, outbox
from .modem_worker import GatewayLink, ModemWorker, PowerCycle
from .settings import GatewayError, GatewaySettings, Retention
from .storage import Database, Migration

log = logging.getLogger(__name__)

# The health table lives in sms.health; its migration keeps the name it was first applied under.
MIGRATIONS = modem_health.MIGRATIONS
SMS_MODULES = ("sms.outbox", "sms.inbox", "sms.gateway")
REPORT_RETRY_SECONDS = 60.0

__all__ = ["Gateway", "GatewayError", "GatewaySettings", "Retention", "health", "migrate", "open_database"]

# A housekeeping job: fn(db) -> rows purged (or None); run every settings.housekeeping_seconds.
Housekeeper = Callable[[Database], "int | None"]


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
    """One row per modem port: state (see sms.health.STATES), model, operator, signal…"""
    return modem_health.rows(db)


class Gateway(GatewayLink):
    """Runs the outbox through the modems of `settings.ports` and the inbox through `handlers`.

    `db` is a path (each thread opens its own connection) or an open Database (shared).
    `power_cycle(model)` switches a modem off and on (kiosk wiring hands in the HAT's power key);
    a dict {name: callable} gives it to some modems only. `on_tick` is called about once a second
    from the housekeeping thread; each of `housekeeping` (fn(db)) runs with the retention purge,
    every `settings.housekeeping_seconds`, so the kiosk can purge its own tables on the same beat.
    """

    def __init__(self, db: str | Path | Database, settings: GatewaySettings, *,
                 handlers: Iterable[inbox.Handler] | None = None,
                 power_cycle: PowerCycle | dict[str, PowerCycle] | None = None,
                 on_tick: Callable[[], None] | None = None, housekeeping: Iterable[Housekeeper] = ()):
        if not isinstance(settings, GatewaySettings):
            raise GatewayError("Gateway(db, settings): settings must be a GatewaySettings")
        if isinstance(db, Database):
            migrate(db)
        else:
            open_database(db).close()  # migrate once here, not in every thread at once
        self._db_source = db
        self.settings = settings
        self.ports = list(settings.ports)
        self.names = list(settings.names)
        self.handlers = list(handlers) if handlers is not None else inbox.registered_handlers()
        self.on_tick = on_tick
        self.housekeeping = list(housekeeping)
        self.stop_event = threading.Event()
        self.inbox_event = threading.Event()
        self.reports: queue.Queue = queue.Queue()
        self.once = False
        self.workers = [ModemWorker(url, name, settings, self,
                                    power_cycle.get(name) if isinstance(power_cycle, dict) else power_cycle)
                        for url, name in zip(self.ports, self.names)]
        self._threads: list[threading.Thread] = []
        self._next_purge = 0.0

    # --- the link the workers see ---------------------------------------------------------------
    def connect(self) -> Database:
        """A store connection for one thread (the shared one if a Database was given)."""
        if isinstance(self._db_source, Database):
            return self._db_source
        return open_database(self._db_source)

    def release(self, db: Database) -> None:
        if db is not self._db_source:
            db.close()

    def report_status(self, port: str, pdu_hex: str) -> None:
        # Not urgent, and it arrives just as the next part should go out: the housekeeping
        # thread applies it on its own connection.
        self.reports.put((port, pdu_hex, time.monotonic()))

    def inbox_ready(self) -> None:
        self.inbox_event.set()

    def quiet_moment(self) -> None:
        if not self.reports.empty():
            self.inbox_event.set()  # status reports wait for a quiet moment; this is one

    def work_added(self) -> None:
        self.wake()

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
        self.once = True
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
                    inbox.flush_incomplete(db, self.settings.inbox_timeout_seconds)
                    inbox.dispatch(db, self.handlers)
                except Exception:  # the inbox must keep running whatever a handler or the store does
                    log.exception("inbox housekeeping failed")
                if time.monotonic() >= self._next_purge:
                    self._next_purge = time.monotonic() + self.settings.housekeeping_seconds
                    self.purge(db)
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
            self.release(db)

    def purge(self, db: Database) -> dict:
        """The retention purge of the sms tables, then each housekeeping job; {name: rows}."""
        keep = self.settings.retention
        purged = {}
        for name, purge, days in (("outbox", outbox.purge, keep.outbox_days), ("inbox", inbox.purge, keep.inbox_days),
                                  ("health", modem_health.purge, keep.health_days)):
            try:
                purged[name] = purge(db, days)
            except Exception:  # the store is busy or broken: the next round tries again
                log.exception("retention purge of the %s failed", name)
        for job in self.housekeeping:
            name = getattr(job, "__name__", "housekeeping")
            try:
                purged[name] = job(db)
            except Exception:  # a kiosk job must not stop the inbox
                log.exception("housekeeping job %s failed", name)
        if any(purged.values()):
            log.info("housekeeping purged %s", purged)
        return purged

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
