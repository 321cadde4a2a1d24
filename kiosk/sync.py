"""The kiosk's hub client: pulls notices, queues their SMS locally, reports counts and health back.

Personal data never leaves the kiosk: groups are resolved to consenting members' phones here,
and the hub only ever receives counts (recipients, sent, delivered, failed, daily totals) and
device health. A notice's SMS are queued with the idempotency key `hub:<notice id>:<phone>`, so
a notice handed out twice (lost reply, hub restart) is still sent once.

One notice, one SMS per person, whichever way it came: when the kiosk was offline an official may
have texted it as a relay command (kiosk/relay/officials.py). A hub notice whose text (accents,
case and spacing ignored) and group match a relayed notice of the last RELAY_MATCH_HOURS is not
sent again nor posted twice: the kiosk reports it to the hub as "relayed", with the relay's counts,
and a cancellation from the hub then takes the relayed notice off the board.

Polling uses the hub's ETag (`If-None-Match`) as a long poll: the hub holds an unchanged feed for up
to `[hub] poll_seconds` and answers as soon as a notice arrives (within about half a second), else
304; the kiosk then polls again at once. Every HTTP call has a
timeout; a failing hub is retried with exponential backoff and full jitter (capped), and the
kiosk keeps working meanwhile (this runs in its own thread or service, never on the UI thread).
Times: seconds (monotonic for scheduling, UTC ISO 8601 for stored state).
"""
from __future__ import annotations

import logging
import random
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import requests

from hub import contract
from sms import outbox
from sms.errors import SmsError
from sms.storage import Database, Migration

from kiosk import __version__
from kiosk.directory import residents as directory
from kiosk.notices import board as notices
from kiosk.appliance.config import Config
from .errors import NotFound, TdpError
from kiosk.appliance.probes import printer_state
from kiosk import clock

log = logging.getLogger(__name__)

CONNECT_TIMEOUT, READ_TIMEOUT = 5.0, 15.0
FULL_FETCH_SECONDS = 60.0       # fetch without If-None-Match this often, to pick up re-handed notices
DAILY_SECONDS = 3600.0          # send daily totals at least this often (and whenever they changed)
DAILY_DAYS = 7                  # how many recent days each daily report covers
BACKOFF_BASE, BACKOFF_CAP = 2.0, 300.0
MIN_PASS_SECONDS = 0.1         # never poll faster than this, whatever the hub answers
TRACK_DAYS = 14                 # hub notices whose counts are still reported
MIGRATIONS = [
    Migration("0001_sync_state", """
        CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);
    """),
]


class SyncError(TdpError):
    """The hub could not be used; the message says why in one line."""


class HubUnreachable(SyncError):
    """Network error, timeout or a 5xx: worth retrying later."""


class HubRejected(SyncError):
    """The hub answered 4xx (wrong or revoked token, bad request): retrying the same call will not help."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def backoff_delay(attempt: int, rng: random.Random, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, …): full jitter over base·2^(attempt-1), capped."""
    return rng.uniform(0, min(cap, base * 2 ** max(0, attempt - 1)))


class HubClient:
    """The /api/v1 calls, each with a (connect, read) timeout, TLS verification and env proxies."""

    def __init__(self, url: str, token: str, *, ca_bundle: str = "", session: requests.Session | None = None,
                 timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)):
        if not url:
            raise SyncError("no hub configured: set [hub] url and token")
        if not token:
            raise SyncError("no kiosk token: set [hub] token (from `tdp hub add-kiosk`)")
        if ca_bundle and not Path(ca_bundle).expanduser().is_file():
            raise SyncError(f"[hub] ca_bundle {ca_bundle} does not exist")
        self.base = url.rstrip("/") + contract.API_PREFIX
        self.timeout = timeout
        self.session = session or requests.Session()
        # requests takes HTTP(S)_PROXY / NO_PROXY from the environment (trust_env) by default.
        self.verify = str(Path(ca_bundle).expanduser()) if ca_bundle else True
        self.session.verify = self.verify
        self.session.headers.update({"Authorization": f"Bearer {token}", "User-Agent": f"tdp-kiosk/{__version__}"})

    def _call(self, method: str, path: str, timeout: tuple[float, float] | None = None,
              **kwargs) -> requests.Response:
        try:
            # verify= per request: requests lets $REQUESTS_CA_BUNDLE override the session's own setting.
            response = self.session.request(method, self.base + path, timeout=timeout or self.timeout,
                                            verify=self.verify, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise HubUnreachable(f"TLS check of the hub failed (set [hub] ca_bundle?): {exc}") from None
        except requests.exceptions.RequestException as exc:
            raise HubUnreachable(f"hub unreachable: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise HubUnreachable(f"hub error {response.status_code}")
        if response.status_code >= 400:
            try:
                message = response.json().get("error", "")
            except ValueError:
                message = response.text[:200]
            raise HubRejected(f"hub refused {method} {path}: {response.status_code} {message}",
                              response.status_code)
        return response

    def close(self) -> None:
        self.session.close()

    @staticmethod
    def _json(response: requests.Response) -> dict:
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            # Typically a captive portal or a proxy's page on the kiosk's Wi-Fi/4G.
            raise HubUnreachable(f"the answer from {response.url} is not the hub's JSON (captive portal?)")
        return data

    def heartbeat(self, payload: dict) -> dict:
        return self._json(self._call("POST", "/heartbeat", json=payload))

    def download(self, path: str, max_bytes: int) -> bytes:
        """A file from the hub (a release), refused past `max_bytes`."""
        response = self._call("GET", path, timeout=(CONNECT_TIMEOUT, 120.0), stream=True)
        body = bytearray()
        for chunk in response.iter_content(64 * 1024):
            body += chunk
            if len(body) > max_bytes:
                response.close()
                raise HubRejected(f"{path}: larger than {max_bytes} bytes", 413)
        return bytes(body)

    def fetch(self, etag: str | None = None, wait: float = 0) -> tuple[dict | None, str | None]:
        """(body, etag); body is None when the feed is unchanged (304). With `wait` seconds and an
        ETag it is a long poll: the hub answers as soon as something changes, or 304 after `wait`."""
        headers = {"If-None-Match": etag} if etag else {}
        params = {"wait": f"{wait:g}"} if etag and wait > 0 else {}
        response = self._call("GET", "/notices", headers=headers, params=params,
                              timeout=(self.timeout[0], self.timeout[1] + (wait if params else 0)))
        if response.status_code == 304:
            return None, response.headers.get("ETag", etag)
        return self._json(response), response.headers.get("ETag")

    def report(self, notice_id: int, payload: dict) -> dict:
        return self._json(self._call("POST", f"/notices/{int(notice_id)}/report", json=payload))

    def daily(self, days: list[dict]) -> dict:
        return self._json(self._call("POST", "/daily", json={"days": days}))


def _key_prefix(notice_id: int) -> str:
    # The trailing colon keeps notice 1 from matching the keys of notice 10, 11, …
    return f"hub:{int(notice_id)}:"


def notice_counts(db: Database, notice_id: int) -> dict:
    """What the kiosk reports for one hub notice: state and message counts (no phones)."""
    messages = outbox.counts(db, _key_prefix(notice_id))["messages"]
    open_ = messages["queued"] + messages["sending"]
    return {"state": "queued" if open_ else "done", "recipients": sum(messages.values()),
            "sent": messages["sent"] + messages["delivered"], "delivered": messages["delivered"],
            "failed": messages["failed"] + messages["expired"]}


def _relay_prefix(broadcast_id: str) -> str:
    # The relay's idempotency keys are relay:<broadcast id>:<phone> (kiosk/relay/officials.py).
    return f"relay:{broadcast_id}:"


def relayed_counts(db: Database, broadcast_id: str) -> dict:
    """A hub notice sent through the SMS relay instead: state "relayed" and the relay's counts."""
    messages = outbox.counts(db, _relay_prefix(broadcast_id))["messages"]
    return {"state": "relayed", "recipients": sum(messages.values()),
            "sent": messages["sent"] + messages["delivered"], "delivered": messages["delivered"],
            "failed": messages["failed"] + messages["expired"]}


def duty_contact(db: Database) -> dict:
    """The volunteer on duty an official can call about this kiosk: first name and phone, else nothing.
    Only a volunteer's duty contact, never a resident's data, goes to the hub."""
    from kiosk.volunteers import duty
    from kiosk.directory import phone as phones
    try:
        on_duty = duty.on_duty(db)
    except TdpError:
        return {}
    if not on_duty:
        return {}
    person = on_duty[0]
    return {"duty_name": (person["name"].split() or [""])[-1][:40], "duty_phone": phones.national(person["phone"])[:20]}


def _since(hours: float) -> str:
    return clock.utc_stamp(clock.utc_now() - timedelta(hours=hours))


@dataclass
class Sync:
    """One kiosk's sync loop. `clock` is monotonic seconds; `wait(seconds)` returns True to stop."""
    db: Database
    config: Config
    client: HubClient | None = None
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    etag: str | None = None
    failures: int = 0
    heartbeat_seconds: float = 30.0
    _last_full: float = float("-inf")
    _last_heartbeat: float = float("-inf")
    _last_daily: float = float("-inf")
    _reported: dict = field(default_factory=dict)
    _last_totals: list | None = None
    _tests: set = field(default_factory=set)
    _refused: set = field(default_factory=set)
    _state: str | None = None
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self):
        if self.client is None:
            hub = self.config.hub
            self.client = HubClient(hub.url, hub.token, ca_bundle=hub.ca_bundle)

    def close(self) -> None:
        """Close the HTTP connections (the store stays open: it belongs to the caller)."""
        self.client.close()

    # --- one pass --------------------------------------------------------------------------
    def run_once(self, *, full: bool = True, wait: float = 0) -> dict:
        """Heartbeat, fetch, queue, report: one complete pass. Raises SyncError if the hub fails.

        `wait` > 0 long-polls the feed for up to that many seconds when nothing is new.
        """
        summary = {"queued": [], "skipped": [], "cancelled": [], "reported": 0, "changed": False}
        moment = self.clock()
        beat = False
        try:
            if full or moment - self._last_heartbeat >= self.heartbeat_seconds:
                beat = True
                answer = self.client.heartbeat(self.heartbeat_payload())
                self.heartbeat_seconds = float(answer.get("heartbeat_seconds") or self.heartbeat_seconds)
                self._last_heartbeat = moment
                self.fetch_release(answer.get(contract.RELEASE_KEY))
            use_etag = not full and moment - self._last_full < FULL_FETCH_SECONDS
            body, self.etag = self.client.fetch(self.etag if use_etag else None, wait=wait)
            if not use_etag:
                self._last_full = moment
            if body is not None:
                summary["changed"] = True
                for notice in body.get("notices", []):
                    key = "queued" if self.apply_notice(notice) else "skipped"
                    summary[key].append(notice["id"])
                for notice_id in body.get("cancelled", []):
                    if self.apply_cancel(notice_id):
                        summary["cancelled"].append(notice_id)
            summary["reported"] = self.report_progress()
            if full or beat or moment - self._last_daily >= DAILY_SECONDS:
                # Totals go with the heartbeat when they changed: the Report is right a minute after a send.
                totals = self.daily_totals()
                if full or totals != self._last_totals or moment - self._last_daily >= DAILY_SECONDS:
                    self.client.daily(totals)
                    self._last_daily, self._last_totals = moment, totals
        except HubUnreachable:
            self._set_state("unreachable")
            raise
        except HubRejected as exc:
            self._set_state("rejected" if exc.status == 401 else "error")
            raise
        self._set_state("ok")
        return summary

    def fetch_release(self, offer) -> None:
        """Download a newer release the hub offers, for `tdp upgrade --pending` at night; a bad one is
        logged and skipped, never a reason to stop syncing notices."""
        from kiosk.appliance import releases
        try:
            releases.note_offer(self.client, self.config, offer)
        except (TdpError, OSError) as exc:
            log.warning("release not fetched: %s", exc)

    def apply_notice(self, notice: dict) -> bool:
        """Post a fetched notice and queue its SMS (idempotent); False if it had expired or was relayed."""
        notice_id = int(notice["id"])
        expires = notice.get("expires_at")
        if expires and datetime.fromisoformat(expires) <= datetime.now(timezone.utc):
            self.client.report(notice_id, {"state": "expired"})
            return False
        group = notice.get("group") or directory.EVERYONE_CODE
        if notice.get(contract.NOTICE_TEST_PHONE):
            return self._apply_test(notice_id, notice)
        # A time, a repeat, a question or {fields} to fill from the directory: kiosk/notices/schedule.py.
        if notice.get("at") or notice.get("every") or notice.get("ask") or "{" in str(notice.get("text", "")):
            return self._schedule(notice_id, notice, group)
        relayed = self._relayed_copy(notice_id, notice["text"], group)
        if relayed is not None:
            self._report(notice_id, relayed_counts(self.db, relayed))
            return False
        try:
            phones = directory.recipients(self.db, group)
        except NotFound:
            log.warning("hub notice %s is for group %s, which this kiosk does not have", notice_id, group)
            phones = []
        refusal = None if notice.get("urgent") else _over_budget(self.db, self.config, notice, len(phones))
        if refusal:  # on the board (free), not by SMS; the console shows why
            notices.post(self.db, notice["text"], source="hub", external_id=str(notice_id), urgent=False,
                         group_code=group, expires_at=expires, posted_by="hub")
            self._report(notice_id, {"state": "refused", "recipients": len(phones), "sent": 0, "delivered": 0,
                                     "failed": 0, contract.REPORT_DETAIL: refusal[:contract.REPORT_DETAIL_LIMIT]})
            self._refused.add(notice_id)
            return True
        try:
            with self.db.transaction():
                notices.post(self.db, notice["text"], source="hub", external_id=str(notice_id),
                             urgent=bool(notice.get("urgent")), group_code=group, expires_at=expires, posted_by="hub")
                if phones:
                    outbox.enqueue_many(self.db, phones, notice["text"],
                                        priority="urgent" if notice.get("urgent") else "normal",
                                        key_prefix=f"hub:{notice_id}", unaccented=bool(notice.get("unaccented")),
                                        max_parts=self.config.sms.max_parts, source="hub")
        except SmsError as exc:
            # This kiosk's outbox refuses the text (e.g. its [sms] max_parts is lower than the hub's):
            # retrying cannot help, so post it on the board and report every SMS as failed.
            log.warning("hub notice %s not queued: %s", notice_id, exc)
            notices.post(self.db, notice["text"], source="hub", external_id=str(notice_id),
                         urgent=bool(notice.get("urgent")), group_code=group, expires_at=expires, posted_by="hub")
            self._report(notice_id, {"state": "done", "recipients": len(phones), "sent": 0, "delivered": 0,
                                     "failed": len(phones)})
            self._refused.add(notice_id)
            return True
        self._report(notice_id, notice_counts(self.db, notice_id))
        return True

    def _relayed_copy(self, notice_id: int, text: str, group: str) -> str | None:
        """The relay broadcast id already sent for this hub notice (remembered), else None."""
        known = self.db.query_one("SELECT value FROM sync_state WHERE key = ?", (f"relayed:{notice_id}",))
        if known:
            return known["value"]
        posted = notices.recent_from(self.db, "hub", _since(TRACK_DAYS * 24))
        if any(row["external_id"] == str(notice_id) for row in posted):
            return None     # already posted from the hub: a re-handout, which the idempotency keys make harmless
        match = notices.find_same(self.db, text, group, source="sms", since=_since(contract.RELAY_MATCH_HOURS))
        if match is None or self.db.query_one("SELECT key FROM sync_state WHERE key LIKE 'relayed:%' AND value = ?",
                                              (match["external_id"],)):
            return None
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO sync_state (key, value, updated_at) VALUES (?, ?, ?)",
                         (f"relayed:{notice_id}", match["external_id"], clock.utc_stamp()))
        log.info("hub notice %s was already relayed by SMS (broadcast %s): not sent again",
                 notice_id, match["external_id"])
        return match["external_id"]

    def _apply_test(self, notice_id: int, notice: dict) -> bool:
        """A test send: one SMS to the official's own phone, nothing on the board."""
        from kiosk.directory import phone as phones
        try:
            phone = phones.normalise(str(notice[contract.NOTICE_TEST_PHONE]))
            outbox.enqueue_many(self.db, [phone], notice["text"], priority="urgent", key_prefix=f"hub:{notice_id}",
                                unaccented=bool(notice.get("unaccented")), max_parts=self.config.sms.max_parts,
                                source="hub")
        except (SmsError, phones.InvalidPhone) as exc:
            log.warning("test notice %s not queued: %s", notice_id, exc)
            self._report(notice_id, {"state": "done", "recipients": 1, "sent": 0, "delivered": 0, "failed": 1})
            self._refused.add(notice_id)
            return True
        self._tests.add(notice_id)
        self._report(notice_id, notice_counts(self.db, notice_id))
        return True

    def _schedule(self, notice_id: int, notice: dict, group: str) -> bool:
        """A hub notice with a time, a repeat or a question: scheduled here, in this kiosk's own timezone
        (its question's replies are counted here; only the counts go back)."""
        from kiosk.notices import delivery, schedule
        try:
            send = schedule.create(self.db, self.config, notice["text"], group=group, at=notice.get("at"),
                                   every=notice.get("every") or "", urgent=bool(notice.get("urgent")),
                                   unaccented=bool(notice.get("unaccented")), ask=notice.get("ask") or None,
                                   source="hub",
                                   external_id=str(notice_id), created_by="hub")
        except TdpError as exc:
            log.warning("hub notice %s not scheduled: %s", notice_id, exc)
            self._report(notice_id, {"state": "refused", "recipients": 0, "sent": 0, "delivered": 0, "failed": 0,
                                     contract.REPORT_DETAIL: str(exc)[:contract.REPORT_DETAIL_LIMIT]})
            self._refused.add(notice_id)
            return True
        self._report(notice_id, delivery.hub_counts(self.db, send["id"]))
        return True

    def apply_cancel(self, notice_id: int) -> bool:
        """Withdraw a cancelled notice's unsent SMS and take it off the board; True if that changed anything."""
        from kiosk.notices import delivery, schedule
        scheduled = schedule.by_external(self.db, "hub", str(notice_id))
        if scheduled is not None:
            if not schedule.cancel(self.db, scheduled["id"])["cancelled"]:
                return False
            self._report(notice_id, {**delivery.hub_counts(self.db, scheduled["id"]), "state": "cancelled"})
            return True
        relayed = self._relayed_copy_known(notice_id)
        if relayed is not None:
            try:
                changed = notices.cancel(self.db, source="sms", external_id=relayed)
            except NotFound:
                return False
            if changed:
                outbox.cancel(self.db, _relay_prefix(relayed))
                self._report(notice_id, {**relayed_counts(self.db, relayed), "state": "cancelled"})
            return changed
        try:
            changed = notices.cancel(self.db, source="hub", external_id=str(notice_id))
        except NotFound:
            return False
        if not changed:
            return False
        outbox.cancel(self.db, _key_prefix(notice_id))
        self._report(notice_id, {**notice_counts(self.db, notice_id), "state": "cancelled"})
        return True

    def _relayed_copy_known(self, notice_id: int) -> str | None:
        row = self.db.query_one("SELECT value FROM sync_state WHERE key = ?", (f"relayed:{int(notice_id)}",))
        return row["value"] if row else None

    def _report(self, notice_id: int, counts: dict) -> None:
        self.client.report(notice_id, counts)
        self._reported[notice_id] = counts

    def report_progress(self) -> int:
        """Report counts of recent hub notices whose counts changed since last reported; returns how many."""
        since = (datetime.now(timezone.utc) - timedelta(days=TRACK_DAYS)).isoformat(timespec="seconds")
        sent = 0
        for row in notices.recent_from(self.db, "hub", since):
            notice_id = int(row["external_id"])
            if notice_id in self._refused:
                continue
            counts = notice_counts(self.db, notice_id)
            if row["cancelled_at"]:
                counts["state"] = "cancelled"
            if self._reported.get(notice_id) != counts:
                self._report(notice_id, counts)
                sent += 1
        from kiosk.notices import delivery, schedule
        for send in schedule.hub_sends(self.db, since):
            notice_id = int(send["external_id"])
            if notice_id in self._refused:
                continue
            counts = delivery.hub_counts(self.db, send["id"])
            if send["state"] == "cancelled":
                counts["state"] = "cancelled"
            if self._reported.get(notice_id) != counts:
                self._report(notice_id, counts)
                sent += 1
        for row in self.db.query("SELECT key, value FROM sync_state WHERE key LIKE 'relayed:%' AND updated_at >= ?",
                                 (since,)):
            notice_id = int(row["key"].split(":", 1)[1])
            counts = relayed_counts(self.db, row["value"])
            if self._reported.get(notice_id, {}).get("state") == "cancelled":
                counts["state"] = "cancelled"
            if self._reported.get(notice_id) != counts:
                self._report(notice_id, counts)
                sent += 1
        for notice_id in list(self._tests):
            counts = notice_counts(self.db, notice_id)
            if self._reported.get(notice_id) != counts:
                self._report(notice_id, counts)
                sent += 1
            if counts["state"] == "done":
                self._tests.discard(notice_id)
        return sent

    # --- what the hub learns about the kiosk -------------------------------------------------
    def heartbeat_payload(self) -> dict:
        """Version, uptime, modem health, queue depth, printer state, free disk, and the kiosk's groups
        with their consenting-member counts (so officials can pick a group): no personal data."""
        from sms import gateway
        modems = [{k: row.get(k) for k in contract.MODEM_FIELDS} for row in gateway.health(self.db)]
        try:
            disk_free = shutil.disk_usage(self.config.storage.data_dir).free // (1024 * 1024)
        except OSError:
            disk_free = 0
        groups = [{"code": g["code"], "name": g["name"], "consenting": g["consenting"]}
                  for g in directory.list_groups(self.db)]
        # Everyone's count too (a resident in two groups counts once), for Compose's "Tất cả (94 người)".
        groups.append({"code": contract.EVERYONE_CODE, "name": "Tất cả",
                       "consenting": len(directory.recipients(self.db, None))})
        return {"version": __version__, "uptime_s": round(_uptime(self._started)), "modem": modems,
                "queue_depth": outbox.queue_depth(self.db), "printer": printer_state(self.config),
                "disk_free_mb": disk_free, "groups": groups[:contract.GROUP_LIMIT], **duty_contact(self.db)}

    def daily_totals(self, today: date | None = None) -> list[dict]:
        """Counts per local day for the last DAILY_DAYS days: requests, online requests, help tickets, SMS parts."""
        from kiosk.reports import ward as report
        today = today or clock.local_today(self.config.site.timezone)
        days = []
        for offset in range(DAILY_DAYS - 1, -1, -1):
            day = today - timedelta(days=offset)
            built = report.build(self.db, self.config, day, day)
            days.append({"day": day.isoformat(), "requests": built["requests"]["total"],
                         "requests_online": built["requests"]["online"],
                         "help_tickets": built["help_tickets"]["total"], "sms_parts": built["sms"]["sent"]})
        return days

    # --- the loop ----------------------------------------------------------------------------
    def run_forever(self, stop: threading.Event, wait: Callable[[float], bool] | None = None) -> None:
        """Poll until `stop` is set; back off (exponential, full jitter) while the hub fails."""
        wait = wait or stop.wait
        first = True
        poll = self.config.hub.poll_seconds
        while not stop.is_set():
            started = self.clock()
            try:
                # Long poll for poll_seconds, then at once again: a notice arrives within a second,
                # at the cost of one request per poll_seconds while nothing happens.
                summary = self.run_once(full=first, wait=poll)
                first = False
                self.failures = 0
                # After news (or a full fetch) go straight back to a long poll; after a 304 that came
                # early (a hub or proxy that does not hold polls) wait out the rest of the period.
                delay = MIN_PASS_SECONDS if summary["changed"] else max(0.0, poll - (self.clock() - started))
            except HubRejected as exc:
                log.warning("%s", exc)
                self.failures += 1
                delay = max(self.config.hub.poll_seconds, backoff_delay(self.failures, self.rng, cap=BACKOFF_CAP))
            except (SyncError, TdpError) as exc:
                log.info("sync: %s", exc)
                self.failures += 1
                delay = backoff_delay(self.failures, self.rng)
            except Exception:  # the service loop must outlive any one bad pass (a bug, a broken proxy reply)
                log.exception("sync pass failed")
                self.failures += 1
                delay = backoff_delay(self.failures, self.rng)
            if wait(delay):
                return

    def _set_state(self, state: str) -> None:
        if state == self._state:
            return
        self._state = state
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO sync_state (key, value, updated_at) VALUES ('hub', ?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                         (state, clock.utc_stamp()))


def _over_budget(db: Database, config: Config, notice: dict, recipients: int) -> str | None:
    """Why this kiosk refuses a non-urgent hub notice (its monthly SMS budget), or None."""
    from sms.segments import SegmentError, segment
    from kiosk.notices import budget
    try:
        parts = segment(notice["text"], unaccented=bool(notice.get("unaccented"))).count
    except (SegmentError, ValueError):
        return None  # the outbox refuses it below, with its own reason
    try:
        budget.check(db, config, parts * recipients)
    except budget.BudgetExceeded as exc:
        return str(exc)
    return None


def hub_state(db: Database, config: Config) -> bool | None:
    """For Home and doctor: None if no hub is configured, else whether the last sync reached it."""
    if not config.hub.url:
        return None
    row = db.query_one("SELECT value FROM sync_state WHERE key = 'hub'")
    return bool(row and row["value"] == "ok")


def _uptime(started: float) -> float:
    try:
        with open("/proc/uptime") as handle:
            return float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return time.monotonic() - started
