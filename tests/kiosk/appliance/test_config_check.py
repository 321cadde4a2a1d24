"""`tdp config check` and `tdp doctor` catch what would fail later (issue 17): times, time zones,
ranges, PIN length, https for a hub off this machine, and the config file's size and type.
Each problem is one line naming its key; a good config still passes."""
from __future__ import annotations

import os
import threading

import pytest

BASE = '[storage]\npath = "{db}"\n'


@pytest.fixture
def write_config(config_path, tmp_path):
    def write(extra: str):
        config_path.write_text(BASE.format(db=tmp_path / "data" / "tdp.sqlite3") + extra, encoding="utf-8")
        return config_path
    return write


@pytest.mark.parametrize("extra, key", [
    ('[sms]\nquiet_start = "25:99"\n', "sms.quiet_start"),
    ('[sms]\nquiet_end = "6h"\n', "sms.quiet_end"),
    ('[site]\ntimezone = "Mars/Olympus"\n', "site.timezone"),
    ('[volunteers]\nsession_hours = ["morning=07:30-11:30", "afternoon=13:30-17:00", "evening=18:00-24:30"]\n',
     "volunteers.session_hours"),
    ('[volunteers]\nreminder_hour = 25\n', "volunteers.reminder_hour"),
    ('[report]\nonline_target = 80\n', "report.online_target"),
    ('[hub_server]\nport = 70000\n', "hub_server.port"),
    ('[ui]\nlanguage = "fr"\n', "ui.language"),
    ('[[relay.officials]]\nname = "A"\nphone = "0912345678"\npin = "7"\n', "relay.officials[0].pin"),
    ('[[relay.officials]]\nname = "A"\nphone = "0912345678"\npin = "1111"\n', "relay.officials[0].pin"),
    ('[hub]\nurl = "http://hub.phuong.example"\n', "hub.url"),
    ('[hub]\nurl = "https://[::1"\n', "hub.url"),
])
def test_config_check_names_the_key_of_each_problem(tdp, write_config, extra, key):
    write_config(extra)
    r = tdp("config", "check")
    assert r.code == 1 and "internal error" not in r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and f": {key}" in lines[0], r.err
    assert tdp("config", "check", "--json").data["ok"] is False
    doctor = tdp("doctor", "--json").data["checks"][0]
    assert doctor["name"] == "config" and doctor["status"] == "fail" and key in doctor["en"]


def test_every_problem_gets_its_own_line(tdp, write_config):
    write_config('[sms]\nquiet_start = "25:99"\n[site]\ntimezone = "Mars/Olympus"\n')
    r = tdp("config", "check", "--json")
    assert r.code == 1 and [p.split(":")[0] for p in r.data["problems"]] == ["site.timezone", "sms.quiet_start"]


def test_a_good_config_with_a_loopback_hub_over_http_passes(tdp, write_config):
    write_config('[hub]\nurl = "http://127.0.0.1:8080"\n[[relay.officials]]\nname = "A"\nphone = "0912345678"\n'
                 'pin = "2468"\n')
    r = tdp("config", "check")
    assert r.code == 0 and "config OK" in r.out, r.err


def test_a_config_that_is_a_device_a_fifo_or_huge_is_refused_at_once(tdp, tmp_path, monkeypatch):
    device = tmp_path / "zero.toml"
    device.symlink_to("/dev/zero")
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.toml"
    huge.write_text("# padding\n" * 40_000, encoding="utf-8")
    latin = tmp_path / "latin.toml"
    latin.write_bytes('[site]\nward = "Phư\xf4ng"\n'.encode("latin-1", "replace"))
    done = threading.Event()
    results = {}

    def run():
        for name, path in (("device", device), ("fifo", fifo), ("huge", huge), ("latin", latin)):
            monkeypatch.setenv("TDP_CONFIG", str(path))
            results[name] = tdp("config", "check")
        done.set()
    threading.Thread(target=run, daemon=True).start()
    assert done.wait(30), "a config read did not return"
    assert "not a regular file" in results["device"].err and "not a regular file" in results["fifo"].err
    assert "over 256 KB" in results["huge"].err and "not UTF-8" in results["latin"].err
    for r in results.values():
        assert r.code == 1 and len(r.err.strip().splitlines()) == 1 and "internal error" not in r.err
