"""Typed TOML config: clear errors naming key and file, the shipped example, and which file wins."""
from __future__ import annotations

import pytest

from kiosk.appliance import config
from kiosk.appliance.config import Config, ConfigError, load
from tests.conftest import ROOT

EXAMPLE = ROOT / "provisioning" / "tdp.example.toml"


def write(tmp_path, text: str, name: str = "tdp.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_and_no_env_gives_the_built_in_demo_defaults(monkeypatch):
    monkeypatch.delenv("TDP_CONFIG", raising=False)
    loaded = load()
    assert loaded.source == "(built-in defaults)"
    assert loaded.modem.port == "emulator" and loaded.printer.queue == ""


def test_values_are_read_into_typed_sections(tmp_path):
    path = write(tmp_path, '[site]\nward = "Phường Đồng Tâm"\n[modem]\nport = "/dev/ttyUSB2"\nbaudrate = 9600\n'
                           '[report]\nonline_target = 1\n')
    loaded = load(path)
    assert (loaded.site.ward, loaded.modem.port, loaded.modem.baudrate) == ("Phường Đồng Tâm", "/dev/ttyUSB2", 9600)
    assert loaded.report.online_target == 1.0 and isinstance(loaded.report.online_target, float)
    assert loaded.source == str(path)


@pytest.mark.parametrize("text, key", [
    ("[site]\nwrd = 'x'\n", "site.wrd"),
    ("[modem]\nbaud = 9600\n", "modem.baud"),
    ("[nosuchsection]\na = 1\n", "nosuchsection"),
    ("[[relay.officials]]\nname = 'A'\nphone_number = '0912345678'\n", "relay.officials[0].phone_number"),
])
def test_unknown_key_names_the_key_and_the_file(tmp_path, text, key):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    message = str(caught.value)
    assert str(path) in message and f"unknown key {key}" in message and "\n" not in message


def test_unknown_key_suggests_the_close_one(tmp_path):
    with pytest.raises(ConfigError, match=r"did you mean baudrate\?"):
        load(write(tmp_path, "[modem]\nbaudrat = 9600\n"))


@pytest.mark.parametrize("text, key, wanted", [
    ("[modem]\nbaudrate = '115200'\n", "modem.baudrate", "an integer"),
    ("[modem]\nbaudrate = true\n", "modem.baudrate", "an integer"),
    ("[ui]\nfullscreen = 'yes'\n", "ui.fullscreen", "true or false"),
    ("[site]\nward = 5\n", "site.ward", "a string"),
    ("[modem]\nextra_ports = '/dev/ttyUSB3'\n", "modem.extra_ports", "a list"),
    ("[[relay.officials]]\nname = 'A'\nphone = 912345678\n", "relay.officials[0].phone", "a string"),
    ("site = 'x'\n", "site", "must be a table"),
])
def test_wrong_type_names_the_key_the_file_and_the_expected_type(tmp_path, text, key, wanted):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    message = str(caught.value)
    assert str(path) in message and key in message and wanted in message


def test_missing_file_and_bad_toml_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(write(tmp_path, "[site\nward = 'x'\n"))


def test_shipped_example_parses_to_the_defaults_and_is_up_to_date():
    loaded = load(EXAMPLE)
    assert config.as_dict(loaded) == config.as_dict(Config())
    assert EXAMPLE.read_text(encoding="utf-8") == config.example_toml(), \
        "regenerate: tdp config example > provisioning/tdp.example.toml"


def test_every_field_is_documented():
    undocumented = [key for key, _, doc in config.describe() if not doc.strip()]
    assert undocumented == []


def test_cli_config_flag_beats_tdp_config_env(tmp_path, monkeypatch, tdp):
    from_env = write(tmp_path, '[site]\nward = "From env"\n', "env.toml")
    from_flag = write(tmp_path, '[site]\nward = "From flag"\n', "flag.toml")
    monkeypatch.setenv("TDP_CONFIG", str(from_env))

    assert tdp("config", "show", "--json").data["config"]["site"]["ward"] == "From env"
    leaf = tdp("config", "show", "--json", "--config", str(from_flag)).data
    assert (leaf["source"], leaf["config"]["site"]["ward"]) == (str(from_flag), "From flag")
    top = tdp("--config", str(from_flag), "config", "show", "--json").data
    assert top["config"]["site"]["ward"] == "From flag"

    monkeypatch.delenv("TDP_CONFIG")
    assert tdp("config", "show", "--json").data["source"] == "(built-in defaults)"


def test_cli_reports_a_bad_config_in_one_line_with_exit_1(tmp_path, tdp):
    bad = write(tmp_path, "[modem]\nbaudrate = 'fast'\n", "bad.toml")
    result = tdp("config", "check", "--config", str(bad))
    assert result.code == 1
    assert result.err.strip() == f"tdp: error: {bad}: modem.baudrate must be an integer, got 'fast'"
