"""kiosk/sync.py against a live hub on a real socket and a real kiosk store seeded with the demo ward."""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn

from hub import admin, db as hub_db, notices as hub_notices
from hub.app import create_app
from hub.settings import HubSettings
from kiosk import demo
from kiosk.appliance import config as config_module
from kiosk.directory import residents as directory
from kiosk.notices import board as notices
from kiosk.directory import phone as phones
from kiosk.sync import HubClient, HubRejected, HubUnreachable, Sync, SyncError, backoff_delay, hub_state
from sms import outbox
from tests.hub.conftest import LiveHub, free_port, wait_for


@pytest.fixture
def hub(tmp_path):
    # change_check_seconds=0: every poll sees a change at once (the half-second delay is tested in test_api)
    settings = HubSettings(database=f"sqlite:///{tmp_path / 'hubside' / 'hub.sqlite3'}", change_check_seconds=0)
    engine = hub_db.open_hub(settings.database)
    live = LiveHub(create_app(settings, engine)).start()
    live.settings, live.engine = settings, engine
    live.path = tmp_path / "hubside" / "hub.sqlite3"
    live.token = admin.add_kiosk(engine, "tdp1", "Phường Demo")["token"]
    yield live
    live.stop()
    engine.dispose()


@pytest.fixture
def kiosk_config(tmp_path, hub, store):
    return config_module.from_dict({"storage": {"path": store.path},
                                    "hub": {"url": hub.url, "token": hub.token, "poll_seconds": 1}})


@pytest.fixture
def ward(store, kiosk_config):
    demo.seed(store, kiosk_config)
    return store


def sms_keys(db, notice_id):
    return sorted(m["key"] for m in outbox.messages(db, key_prefix=f"hub:{notice_id}:", limit=10_000))


def test_a_group_notice_reaches_exactly_the_consenting_members(hub, ward, kiosk_config):
    notice_id = hub_notices.send(hub.engine, hub.settings, "Họp Hội phụ nữ 19h tối nay", group="HPN")["id"]
    summary = Sync(ward, kiosk_config).run_once()
    assert summary["queued"] == [notice_id]
    members = directory.recipients(ward, "HPN")
    assert 0 < len(members) < len(directory.recipients(ward))
    assert sms_keys(ward, notice_id) == sorted(f"hub:{notice_id}:{p}" for p in members)
    (board,) = notices.current(ward)
    assert board["text"] == "Họp Hội phụ nữ 19h tối nay" and board["source"] == "hub"
    (k,) = hub_notices.show(hub.engine, notice_id)["kiosks"]
    assert k["state"] == "queued" and k["recipients"] == len(members)


def test_a_notice_fetched_twice_is_queued_once(hub, ward, kiosk_config):
    hub.settings.handout_lease_seconds = 0     # the hub hands it out again on every fetch
    notice_id = hub_notices.send(hub.engine, hub.settings, "Cắt điện 8h-11h", urgent=True)["id"]
    sync = Sync(ward, kiosk_config)
    sync.run_once()
    first = sms_keys(ward, notice_id)
    with hub.engine.begin() as conn:   # as if the kiosk's acknowledgement had been lost
        conn.execute(hub_db.deliveries.update().values(state="fetched"))
    assert sync.run_once()["queued"] == [notice_id]
    assert sms_keys(ward, notice_id) == first and len(first) == len(directory.recipients(ward))
    assert len(notices.current(ward)) == 1


def test_cancel_on_the_hub_withdraws_unsent_sms_and_the_board_notice(hub, ward, kiosk_config):
    notice_id = hub_notices.send(hub.engine, hub.settings, "Họp chi bộ", group="CB")["id"]
    sync = Sync(ward, kiosk_config)
    sync.run_once()
    hub_notices.cancel(hub.engine, notice_id)
    assert sync.run_once(full=False)["cancelled"] == [notice_id]
    assert notices.current(ward) == []
    assert outbox.counts(ward, f"hub:{notice_id}:")["parts"]["queued"] == 0
    assert hub_notices.show(hub.engine, notice_id)["kiosks"][0]["state"] == "cancelled"


def test_an_expired_notice_is_neither_sent_nor_posted(hub, ward, kiosk_config):
    notice_id = hub_notices.send(hub.engine, hub.settings, "Cũ rồi", kiosks=["tdp1"], expires_in_hours=1)["id"]
    sync = Sync(ward, kiosk_config)
    applied = sync.apply_notice({"id": notice_id, "text": "Cũ rồi", "group": "TATCA",
                                 "expires_at": "2020-01-01T00:00:00+00:00"})
    assert applied is False
    assert sms_keys(ward, notice_id) == [] and notices.current(ward) == []
    assert hub_notices.show(hub.engine, notice_id)["kiosks"][0]["state"] == "expired"


def test_nothing_personal_reaches_the_hub(hub, ward, kiosk_config):
    for group in ("HPN", "CB", "TATCA", "NCT"):
        hub_notices.send(hub.engine, hub.settings, f"Thông báo cho {group}", group=group)
    sync = Sync(ward, kiosk_config)
    sync.run_once()
    sync.run_once()
    always_open = outbox.Policy(quiet_start="00:00", quiet_end="00:00")
    for ref in range(10):                # the modem sends a few parts, so counts travel up too
        part = outbox.claim_next(ward, "modem0", policy=always_open)
        outbox.mark_sent(ward, part.id, ref, "modem0")
    sync.run_once()
    assert any(k["sent"] for n in hub_notices.recent(hub.engine) for k in n["kiosks"])
    hub.engine.dispose()
    raw = b"".join(p.read_bytes() for p in hub.path.parent.glob("hub.sqlite3*"))
    with hub.engine.connect() as conn:
        dumped = "\n".join(str(tuple(row)) for table in hub_db.metadata.sorted_tables
                           for row in conn.execute(sa.select(table))).encode()
    assert b"sent" in dumped or b"queued" in dumped    # the search does see the hub's data
    residents = ward.query("SELECT r.full_name, r.phone, h.address FROM residents r "
                           "LEFT JOIN households h ON h.id = r.household_id")
    assert len(residents) == 100
    for person in residents:
        forms = [person["full_name"], person["address"]]
        if person["phone"]:
            forms += [person["phone"], phones.national(person["phone"]), person["phone"].lstrip("+")]
        for form in filter(None, forms):
            for blob in (raw, dumped):
                assert form.encode() not in blob, f"{form!r} leaked to the hub"


def test_heartbeat_reports_health_counts_only(hub, ward, kiosk_config):
    payload = Sync(ward, kiosk_config).heartbeat_payload()
    assert set(payload) == {"version", "uptime_s", "modem", "queue_depth", "printer", "disk_free_mb", "groups"}
    hpn = next(g for g in payload["groups"] if g["code"] == "HPN")
    assert hpn == {"code": "HPN", "name": "Hội phụ nữ", "consenting": len(directory.recipients(ward, "HPN"))}
    Sync(ward, kiosk_config).run_once()
    (row,) = admin.list_kiosks(hub.engine, hub.settings)
    assert row["online"] and row["heartbeat"]["version"] == payload["version"]
    assert row["heartbeat"]["groups"] == payload["groups"]


def test_daily_totals_reach_the_hub(hub, ward, kiosk_config):
    Sync(ward, kiosk_config).run_once()
    with hub.engine.connect() as conn:
        days = conn.execute(sa.select(hub_db.daily_stats.c.day)).all()
    assert len(days) == 7


def test_revoked_token_is_rejected_and_home_shows_hub_unreachable(hub, ward, kiosk_config):
    sync = Sync(ward, kiosk_config)
    sync.run_once()
    assert hub_state(ward, kiosk_config) is True
    admin.revoke_kiosk(hub.engine, "tdp1")
    with pytest.raises(HubRejected) as caught:
        sync.run_once()
    assert caught.value.status == 401
    assert hub_state(ward, kiosk_config) is False


def test_a_hub_that_never_answers_times_out(ward, kiosk_config):
    with socket.socket() as silent:      # accepts connections (backlog) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        client = HubClient(f"http://127.0.0.1:{silent.getsockname()[1]}", "t" * 43, timeout=(1.0, 0.3))
        with pytest.raises(HubUnreachable):
            client.fetch()


def test_tls_verification_stays_on_and_uses_the_ca_bundle(tmp_path):
    assert HubClient("https://hub.example", "t").session.verify is True
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert HubClient("https://hub.example", "t", ca_bundle=str(bundle)).verify == str(bundle)
    assert HubClient("https://hub.example", "t").session.trust_env      # proxies from the environment


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(1)
    samples = {attempt: [backoff_delay(attempt, rng) for _ in range(200)] for attempt in (1, 3, 6, 20)}
    assert max(samples[1]) <= 2 and max(samples[3]) <= 8 and max(samples[6]) <= 64 and max(samples[20]) <= 300
    assert max(samples[20]) > 200 and len(set(samples[6])) > 100


def test_an_hour_without_hub_then_it_catches_up(hub, ward, kiosk_config):
    """The hub is unreachable for an hour of simulated time: the kiosk backs off, then catches up."""
    notice_id = hub_notices.send(hub.engine, hub.settings, "Thông báo khi mất mạng", group="HPN")["id"]
    sync = Sync(ward, kiosk_config, rng=random.Random(3))
    real_base = sync.client.base
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    sync.client.base = f"http://127.0.0.1:{dead_port}/api/v1"
    simulated, delays = [0.0], []
    stop = threading.Event()

    def wait(delay):
        delays.append(delay)
        simulated[0] += delay
        if simulated[0] >= 3600 and sync.client.base != real_base:
            sync.client.base = real_base          # the hub is back after an hour
        elif sync.client.base == real_base and sms_keys(ward, notice_id):
            return True
        return False

    sync.run_forever(stop, wait=wait)
    outage = delays[:-1]
    assert simulated[0] >= 3600 and max(outage) <= 300
    assert len(outage) < 60, "backed off: far fewer than one attempt per poll during the outage"
    assert len(sms_keys(ward, notice_id)) == len(directory.recipients(ward, "HPN"))


def test_tdp_sync_once_json(hub, ward, kiosk_config, tdp, config_path):
    config_path.write_text(config_path.read_text() + f'\n[hub]\nurl = "{hub.url}"\ntoken = "{hub.token}"\n')
    notice_id = hub_notices.send(hub.engine, hub.settings, "Qua lệnh tdp sync")["id"]
    r = tdp("sync", "--once", "--json")
    assert r.code == 0, r.err
    assert r.data["queued"] == [notice_id]
    config_path.write_text(config_path.read_text().replace(hub.token, "wrong-token"))
    bad = tdp("sync", "--once")
    assert bad.code == 1 and "401" in bad.err and len(bad.err.splitlines()) == 1


def test_a_text_this_kiosk_refuses_is_reported_failed_not_retried_forever(hub, ward, store, tmp_path):
    strict = config_module.from_dict({"storage": {"path": store.path}, "sms": {"max_parts": 1},
                                      "hub": {"url": hub.url, "token": hub.token}})
    long_text = "Thông báo dài về lịch cắt điện toàn phường trong tuần tới, bà con lưu ý sắp xếp. " * 2
    notice_id = hub_notices.send(hub.engine, hub.settings, long_text, group="HPN")["id"]
    sync = Sync(ward, strict)
    assert sync.run_once()["queued"] == [notice_id]
    assert sms_keys(ward, notice_id) == []
    assert notices.current(ward)[0]["text"] == long_text.strip()
    (k,) = hub_notices.show(hub.engine, notice_id)["kiosks"]
    assert k["state"] == "done" and k["failed"] == k["recipients"] == len(directory.recipients(ward, "HPN"))
    sync.run_once()
    assert hub_notices.show(hub.engine, notice_id)["kiosks"][0]["state"] == "done"


def test_a_captive_portal_page_counts_as_hub_unreachable(ward, kiosk_config):
    class Portal(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html>Dang nhap Wi-Fi</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Portal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(HubUnreachable, match="captive portal"):
            HubClient(f"http://127.0.0.1:{server.server_port}", "t" * 43).fetch()
    finally:
        server.shutdown()


def test_a_missing_ca_bundle_is_a_clear_error(tmp_path):
    with pytest.raises(SyncError, match="ca_bundle .* does not exist"):
        HubClient("https://hub.example", "t", ca_bundle=str(tmp_path / "nope.pem"))


def test_tls_is_verified_against_the_configured_ca_bundle(tmp_path, store):
    """A real HTTPS hub with a self-signed certificate: refused by default, accepted with its CA."""
    cert, key = tmp_path / "hub.pem", tmp_path / "hub.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    settings = HubSettings(database=f"sqlite:///{tmp_path / 'tls' / 'hub.sqlite3'}")
    engine = hub_db.open_hub(settings.database)
    token = admin.add_kiosk(engine, "tls1")["token"]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port,
                                           log_level="critical", ssl_certfile=str(cert), ssl_keyfile=str(key),
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout=10)
        with pytest.raises(HubUnreachable, match="TLS check"):
            HubClient(f"https://127.0.0.1:{port}", token).fetch()
        body, etag = HubClient(f"https://127.0.0.1:{port}", token, ca_bundle=str(cert)).fetch()
        assert body["notices"] == [] and etag
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def test_tdp_sync_service_tells_systemd_and_stops_on_sigterm(hub, ward, config_path, tmp_path):
    """`tdp sync` as the tdp-sync service runs it: READY=1 over $NOTIFY_SOCKET, notices queued, clean stop."""
    config_path.write_text(config_path.read_text() + f'\n[hub]\nurl = "{hub.url}"\ntoken = "{hub.token}"\n'
                           'poll_seconds = 1\n')
    notify_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify_path))
    listener.settimeout(30)
    env = {**os.environ, "TDP_CONFIG": str(config_path), "NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": "4000000"}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("tdp")), "sync"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert b"READY=1" in listener.recv(4096)
        notice_id = hub_notices.send(hub.engine, hub.settings, "Qua dịch vụ tdp-sync", group="HPN")["id"]
        wait_for(lambda: len(sms_keys(ward, notice_id)) == len(directory.recipients(ward, "HPN")), timeout=30)
        wait_for(lambda: b"WATCHDOG=1" in listener.recv(4096), timeout=30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        messages = b""
        while b"STOPPING=1" not in messages:
            messages += listener.recv(4096)
    finally:
        if proc.poll() is None:
            proc.kill()
        listener.close()


def test_a_running_kiosk_hears_of_a_notice_within_a_second_or_two(hub, ward, kiosk_config):
    """The service loop long-polls: a notice sent while it waits is queued almost at once."""
    hub.settings.change_check_seconds = 0.5
    kiosk_config.hub.poll_seconds = 5
    sync = Sync(ward, kiosk_config)
    stop = threading.Event()
    loop = threading.Thread(target=sync.run_forever, args=(stop,))
    loop.start()
    try:
        wait_for(lambda: sync.etag is not None and sync.failures == 0, timeout=10)
        sent = time.monotonic()
        notice_id = hub_notices.send(hub.engine, hub.settings, "Tin khẩn: mất nước", group="HPN", urgent=True)["id"]
        wait_for(lambda: sms_keys(ward, notice_id), timeout=10, interval=0.02)
        elapsed = time.monotonic() - sent
    finally:
        stop.set()
        loop.join(timeout=15)
    assert elapsed < 2.0, f"took {elapsed:.2f} s"


def test_a_real_heartbeat_arrives_at_the_hub_field_for_field(hub, ward, kiosk_config):
    """The kiosk–hub contract (hub/contract.py) holds end to end: a heartbeat built from a real
    gateway's health row reaches the hub with every field, none renamed or dropped."""
    from contextlib import ExitStack

    from hub import contract
    from kiosk.appliance.wiring import build_gateway
    with ExitStack() as stack:
        build_gateway(kiosk_config, ward.path, ["emulator"], stack, handlers=[]).run_once(timeout=60)
    sync = Sync(ward, kiosk_config)
    payload = sync.heartbeat_payload()
    assert payload["modem"] and set(payload["modem"][0]) == set(contract.MODEM_FIELDS)
    assert payload["modem"][0]["registration"] in ("home", "roaming")
    assert payload["printer"] in contract.PRINTER_STATES
    sync.client.heartbeat(payload)
    (kiosk,) = [k for k in admin.list_kiosks(hub.engine, hub.settings) if k["name"] == "tdp1"]
    received = kiosk["heartbeat"]
    for key in ("version", "printer", "queue_depth", "disk_free_mb"):
        assert received[key] == payload[key], key
    assert received["modem"] == payload["modem"]
    assert received["groups"] == payload["groups"]
    assert set(payload) - set(received) == set()


def test_a_notice_relayed_by_sms_is_not_sent_again_when_the_hub_copy_arrives(hub, ward, store):
    from kiosk.relay import router as relay
    from sms.inbox import InboundMessage
    config = config_module.from_dict({"storage": {"path": store.path},
                                      "hub": {"url": hub.url, "token": hub.token, "poll_seconds": 1},
                                      "relay": {"officials": [{"name": "Tổ trưởng", "phone": "0912999001",
                                                               "pin": "2468"}], "confirm_above": 1000}})
    text = "Khẩn: mất nước từ 8h đến 17h ngày mai"
    notice_id = hub_notices.send(hub.engine, hub.settings, text, group="HPN", urgent=True)["id"]
    # While the kiosk is offline the official texts it, unaccented and in lower case.
    message = InboundMessage(id=1, sender="+84912999001", sender_type="international",
                             text="kc 2468 HPN khan: mat nuoc tu 8h den 17h  ngay mai", received_at="")
    relay.send(ward, config, message, relay.handle(ward, config, message))
    members = directory.recipients(ward, "HPN")
    relayed = outbox.messages(ward, key_prefix="relay:", limit=10_000)
    assert sorted(m["to"] for m in relayed) == sorted(members)
    sync = Sync(ward, config)
    summary = sync.run_once()                     # back online: the hub's copy arrives
    assert summary["skipped"] == [notice_id] and sms_keys(ward, notice_id) == []
    assert [n["source"] for n in notices.current(ward)] == ["sms"]
    (k,) = hub_notices.show(hub.engine, notice_id)["kiosks"]
    assert k["state"] == "relayed" and k["recipients"] == len(members)
    hub_notices.cancel(hub.engine, notice_id)     # cancelling on the hub takes the relayed one down
    assert sync.run_once(full=False)["cancelled"] == [notice_id]
    assert notices.current(ward) == []


def test_an_unrelated_relayed_notice_does_not_stop_a_hub_notice(hub, ward, store, kiosk_config):
    notices.post(ward, "Họp chi bộ tối nay", source="sms", external_id="9", group_code="CB")
    notice_id = hub_notices.send(hub.engine, hub.settings, "Họp chi bộ tối nay", group="HPN")["id"]
    assert Sync(ward, kiosk_config).run_once()["queued"] == [notice_id]   # same text, other group
    assert len(sms_keys(ward, notice_id)) == len(directory.recipients(ward, "HPN"))


def test_the_volunteer_on_duty_is_the_only_person_named_in_a_heartbeat(hub, ward, kiosk_config):
    from kiosk.volunteers import duty, people
    people.add(ward, people.NewVolunteer("Nguyễn Thị Hoa", "0912345678"))
    people.set_pin(ward, "0912345678", "2580")
    sync = Sync(ward, kiosk_config)
    assert "duty_phone" not in sync.heartbeat_payload()           # nobody on duty: nothing
    duty.check_in(ward, "0912345678", "2580", kiosk_config.volunteers)
    payload = sync.heartbeat_payload()
    assert (payload["duty_name"], payload["duty_phone"]) == ("Hoa", "0912 345 678")
    sync.run_once()
    (row,) = admin.list_kiosks(hub.engine, hub.settings)
    assert row["heartbeat"]["duty_name"] == "Hoa"
    stored = hub.path.read_bytes()
    for resident in directory.recipients(ward):
        assert phones.national(resident).encode() not in stored and resident.encode() not in stored


def test_a_test_send_goes_to_one_phone_and_not_onto_the_board(hub, ward, kiosk_config):
    notice_id = hub_notices.send(hub.engine, hub.settings, "Thử trước khi gửi", kiosks=["tdp1"], group="HPN",
                                 test_phone="0912345678")["id"]
    sync = Sync(ward, kiosk_config)
    sync.run_once()
    assert [m["to"] for m in outbox.messages(ward, key_prefix=f"hub:{notice_id}:")] == ["+84912345678"]
    assert notices.current(ward) == []
    (k,) = hub_notices.show(hub.engine, notice_id)["kiosks"]
    assert k["recipients"] == 1


def test_daily_totals_use_the_local_day_and_go_with_the_next_heartbeat(hub, ward, kiosk_config):
    from kiosk import clock
    sync = Sync(ward, kiosk_config)
    sync.run_once()
    today = clock.local_today(kiosk_config.site.timezone).isoformat()
    with hub.engine.connect() as conn:
        assert max(conn.execute(sa.select(hub_db.daily_stats.c.day)).scalars()) == today
    before = sync.daily_totals()[-1]["sms_parts"]
    key = outbox.enqueue_many(ward, ["+84912000077"], "Một tin", key_prefix="test:1", source="test")
    with ward.transaction() as conn:   # as the gateway marks a part sent
        conn.execute("UPDATE outbox_parts SET sent_at = ?, state = 'sent'", (clock.utc_stamp(),))
    assert sync.daily_totals()[-1]["sms_parts"] == before + 1
    sync._last_heartbeat = float("-inf")          # the next heartbeat is due
    sync.run_once(full=False)
    with hub.engine.connect() as conn:
        sent = conn.execute(sa.select(hub_db.daily_stats.c.sms_parts).where(hub_db.daily_stats.c.day == today)).scalar()
    assert sent == before + 1 and key is not None
