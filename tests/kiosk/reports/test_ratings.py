"""Anonymous satisfaction ratings: recorded by `tdp rating add`, refused when wrong, in the report."""
from __future__ import annotations

import pytest

from kiosk.appliance.config import Config
from kiosk.clock import local_today


def test_ratings_show_up_in_the_report(tdp, config_path):
    for args in (["help", "1"], ["help", "2"], ["request", "3"], ["request", "4", "--reason", "waited_too_long"]):
        r = tdp("rating", "add", "--service", args[0], "--score", *args[1:], "--json")
        assert r.code == 0, r.err
    assert r.data["label"] == "Chưa hài lòng" and r.data["reason"] == "waited_too_long"
    today = local_today(Config().site.timezone).isoformat()
    report = tdp("report", "--from", today, "--to", today, "--json").data
    assert report["satisfaction"]["responses"] == 4
    assert report["satisfaction"]["satisfied_share"] == 0.5
    rows = {r["service"]: r for r in report["satisfaction"]["by_service_month"]}
    assert (rows["help"]["responses"], rows["help"]["satisfied_share"]) == (2, 1.0)
    assert (rows["request"]["responses"], rows["request"]["satisfied_share"]) == (2, 0.0)
    assert report["satisfaction"]["reasons"]["Chờ lâu"] == 1
    text = tdp("report", "--from", today, "--to", today).out
    assert "Satisfaction: 4 responses, 50.0% satisfied" in text


@pytest.mark.parametrize("args, message", [
    (["--service", "help", "--score", "5"], "score must be 1 to 4"),
    (["--service", "help", "--score", "0"], "score must be 1 to 4"),
    (["--service", "help", "--score", "rất tốt"], "score must be 1 to 4"),
    (["--service", "parking", "--score", "1"], "unknown service 'parking'"),
    (["--service", "help", "--score", "4", "--reason", "too_hot"], "unknown reason"),
    (["--service", "help", "--score", "2", "--reason", "staff"], "only asked for"),
])
def test_bad_ratings_are_refused_and_nothing_is_stored(tdp, store, args, message):
    r = tdp("rating", "add", *args)
    assert r.code == 1 and message in r.err and "Traceback" not in r.err
    assert store.scalar("SELECT COUNT(*) FROM ratings") == 0


def test_a_rating_cannot_be_traced_to_a_person_or_a_moment(tdp, store):
    assert tdp("rating", "add", "--service", "request", "--score", "1").code == 0
    columns = [r["name"] for r in store.query("PRAGMA table_info(ratings)")]
    assert columns == ["id", "service", "day", "score", "reason"]  # no phone, no request, no time of day
    assert len(store.scalar("SELECT day FROM ratings")) == len("2026-12-01")
