"""The modem health table: one row per modem name (state, model, operator, signal, registration,
queue depth, parts sent, last error), written by the gateway's workers, read by `tdp sms status`,
`tdp doctor` and the kiosk's status LEDs.

States: starting, ok, rebooting (a reboot, a deaf spell or a vanished port being ridden out),
unregistered (sends held until the network is back), recovering, sim_locked, no_sim, dead, stopped.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from .storage import Database, Migration

# Applied under the historical name "sms.gateway:0001_gateway_health" (see sms.gateway.MIGRATIONS).
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

STATES = ("starting", "ok", "rebooting", "unregistered", "recovering", "sim_locked", "no_sim", "dead",
          "stopped")


def _now_iso(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")


def write(db: Database, port: str, state: str, info=None, *, queue_depth: int = 0, sent: int = 0,
          last_error: str | None = None) -> None:
    """Record modem `port`'s state now (`info`: a ModemInfo or None)."""
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO gateway_health (port, state, model, operator, signal, registration, queue_depth,"
            " sent, last_error, pid, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(port) DO UPDATE"
            " SET state=excluded.state, model=excluded.model, operator=excluded.operator,"
            " signal=excluded.signal, registration=excluded.registration,"
            " queue_depth=excluded.queue_depth, sent=excluded.sent, last_error=excluded.last_error,"
            " pid=excluded.pid, updated_at=excluded.updated_at",
            (port, state, getattr(info, "model", "") or "", getattr(info, "operator", "") or "",
             getattr(info, "signal_csq", None), getattr(info, "registration", "") or "", queue_depth, sent,
             last_error, os.getpid(), _now_iso()))


def rows(db: Database) -> list[dict]:
    """One row per modem port: state, model, operator, signal…"""
    return db.query("SELECT * FROM gateway_health ORDER BY port")


def purge(db: Database, days: float, now: datetime | None = None) -> int:
    """Delete rows of modems not heard of for `days` (a port no longer configured); 0 keeps all."""
    if days <= 0:
        return 0
    cutoff = _now_iso((now or datetime.now(timezone.utc)) - timedelta(days=days))
    with db.transaction() as conn:
        return conn.execute("DELETE FROM gateway_health WHERE updated_at < ?", (cutoff,)).rowcount
