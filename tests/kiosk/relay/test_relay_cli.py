"""`tdp relay simulate|audit|stats`, and the audit's retention purge."""
from datetime import datetime, timedelta, timezone

from kiosk.appliance import config as config_module
from kiosk.directory import residents as directory
from kiosk.directory.residents import Consent
from kiosk.notices import board as notices
from kiosk.relay import officials, router
from sms import outbox
from tests.kiosk.relay.conftest import OFFICIAL, run

OFFICIAL_TOML = '[relay]\ngroup_leader_phone = "0912000002"\n[[relay.officials]]\nname = "A"\nphone = "0912000001"\npin = "2468"\n'


def test_simulate_reports_and_stores_nothing(tdp, store, config_path):
    config_path.write_text(config_path.read_text() + OFFICIAL_TOML, encoding="utf-8")
    counts = {t: store.scalar(f"SELECT COUNT(*) FROM {t}") for t in (
        "relay_audit", "relay_budget", "outbox_messages", "consent_log", "pending_registrations")}
    result = tdp("relay", "simulate", "--from", "0987654321", "--text", "Nhóm em muốn hỏi về họp tổ", "--json")
    assert result.code == 0, result.err
    assert [r["to"] for r in result.data["replies"]] == ["+84912000002", "+84987654321"]
    assert result.data["outcome"] == "forwarded"
    result = tdp("relay", "simulate", "--from", "0912000001", "--text", "TB 1111 HPN x")
    assert "Sai PIN" in result.out and "audit: refused wrong_pin" in result.out
    directory.upsert_resident(store, "Nguyễn Thị Hoa", "0987000000", groups=["Hội phụ nữ"],
                              consent=Consent(True, "import", "x"))
    counts = {t: store.scalar(f"SELECT COUNT(*) FROM {t}") for t in counts}
    result = tdp("relay", "simulate", "--from", "0912000001", "--text", "TB 2468 hoi phu nu Họp", "--json")
    assert result.data["queued_to"] == 1 and "Da gui TB" in result.data["replies"][0]["text"]
    assert notices.current(store) == []
    assert counts == {t: store.scalar(f"SELECT COUNT(*) FROM {t}") for t in counts}


def test_audit_shows_every_refusal_and_held_message_and_stats_count_them_by_reason(tdp, store, config_path):
    config_path.write_text(config_path.read_text() + OFFICIAL_TOML, encoding="utf-8")
    config = config_module.load(config_path)
    start = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
    for i in range(12):
        run(store, config, OFFICIAL, "TB", now=start + timedelta(seconds=i))
    run(store, config, OFFICIAL, "TB 1111 HPN x", now=start)
    run(store, config, "+84987000001", "Đèn hỏng", now=start)
    result = tdp("relay", "audit", "--problems", "--json")
    assert result.code == 0, result.err
    reasons = [r["reason"] for r in result.data]
    assert reasons.count("malformed") == 12 and reasons.count("over_budget") == 3 and "wrong_pin" in reasons
    assert "forwarded" not in [r["outcome"] for r in result.data]
    stats = tdp("relay", "stats", "--json").data
    assert stats["refused_by_reason"] == {"malformed": 12, "over_budget": 3, "wrong_pin": 1}
    assert stats["by_outcome"]["held"] == 3 and stats["by_outcome"]["forwarded"] == 1
    assert "over_budget: 3" in tdp("relay", "stats").out


def test_purge_keeps_the_audit_for_its_retention_period(store):
    config = config_module.from_dict({"relay": {"audit_retention_days": 30}})
    now = datetime.now(timezone.utc)
    officials.record(store, "+84987000001", "SMS", "ignored", "empty", at=now - timedelta(days=31))
    officials.record(store, "+84987000001", "SMS", "ignored", "empty", at=now - timedelta(days=29))
    assert router.purge(store, config, now) == {"audit": 1, "budget": 0}
    assert store.scalar("SELECT COUNT(*) FROM relay_audit") == 1
    assert outbox.queue_depth(store) == 0
