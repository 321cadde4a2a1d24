"""Real modems' replies (Gammu's corpora): the parsers, then the whole initialise over a pty with
the emulator answering exactly as those modems did."""
from __future__ import annotations

import pytest

from sms.emulator import Emulator
from sms.modem import (Modem, choose_cnmi, choose_storage, parse_cnmi_support, parse_model,
                       parse_registration, parse_storages)
from tests.conftest import CORPORA

CNMI_EXPECTED = {
    "01.dump": ([{2}, {0, 1, 3}, {0, 2}, {0, 1}, {0}], "2,1,0,1,0"),
    "02.dump": ([{0, 1, 2}, {0, 1, 3}, {0}, {0, 1}, {0, 1}], "2,1,0,1,0"),
    "03.dump": ([{0, 1, 2, 3}] * 3 + [{0, 1}, {0, 1}], "2,1,0,1,0"),
}
CREG_EXPECTED = {"empty.dump": None, "huawei.dump": "home", "none.dump": "unregistered",
                 "siemens.dump": "home", "sierra312u.dump": "roaming", "telit.dump": "home"}
MODEL_EXPECTED = {"01.dump": ("", "MULTIBAND  900E  1800"), "02.dump": ("", "Nokia 5210"),
                  "03.dump": ("", "AAB-1022041-BV"), "04.dump": ("", "0123456789" * 6 + "0123"),
                  "05.dump": ("SAMSUNG ELECTRONICS CO., LTD.", "SCH-U706/99"),
                  "06.dump": ("", "MULTIBAND  900E  1800")}
CPMS_EXPECTED = {"alcatel-s320.dump": ["SM", "ME", "SM_P", "ME_P", "MT"], "brovi-e3372-325.dump": ["SM", "ME"],
                 "generic.dump": ["SM", "ME"], "samsung-j700.dump": []}


def dump(folder: str, name: str) -> tuple[str, str]:
    """(the command, the modem's raw reply) from one corpus file."""
    raw = (CORPORA / folder / name).read_bytes().decode("latin-1")
    command, _, reply = raw.partition("\n")
    return command.strip().rstrip('"'), reply


def response_lines(reply: str) -> list[str]:
    lines = [l.strip() for l in reply.replace("\r", "\n").split("\n") if l.strip()]
    return [l for l in lines if l not in ("OK", "ERROR")]


def test_the_corpus_is_complete():
    for folder, expected in (("gammu-at-cnmi", CNMI_EXPECTED), ("gammu-at-creg", CREG_EXPECTED),
                             ("gammu-at-model", MODEL_EXPECTED), ("gammu-at-cpms", CPMS_EXPECTED)):
        assert sorted(p.name for p in (CORPORA / folder).glob("*.dump")) == sorted(expected)


@pytest.mark.parametrize("name", sorted(CNMI_EXPECTED))
def test_cnmi_support_is_parsed_and_the_best_line_chosen(name):
    support, line = CNMI_EXPECTED[name]
    assert parse_cnmi_support(response_lines(dump("gammu-at-cnmi", name)[1])) == support
    assert choose_cnmi(support) == line


@pytest.mark.parametrize("name", sorted(CREG_EXPECTED))
def test_registration_replies(name):
    assert parse_registration(response_lines(dump("gammu-at-creg", name)[1])) == CREG_EXPECTED[name]


@pytest.mark.parametrize("name", sorted(MODEL_EXPECTED))
def test_model_replies(name):
    assert parse_model(response_lines(dump("gammu-at-model", name)[1])) == MODEL_EXPECTED[name]


@pytest.mark.parametrize("name", sorted(CPMS_EXPECTED))
def test_storage_replies(name):
    assert parse_storages(response_lines(dump("gammu-at-cpms", name)[1])) == CPMS_EXPECTED[name]


def initialise_with(scripts: dict[str, str]) -> tuple[Modem, Emulator]:
    emu = Emulator()
    emu.start()
    for command, reply in scripts.items():
        emu.script(command, reply)
    modem = Modem(emu.port, command_timeout=2)
    modem.open()
    return modem, emu


@pytest.mark.parametrize("name", sorted(CNMI_EXPECTED))
def test_initialise_sets_the_cnmi_each_real_modem_advertised(name):
    modem, emu = initialise_with({"AT+CNMI=?": dump("gammu-at-cnmi", name)[1]})
    try:
        assert modem.info.cnmi == CNMI_EXPECTED[name][1]
        assert ",".join(map(str, emu.cnmi)) == CNMI_EXPECTED[name][1]
    finally:
        modem.close()
        emu.stop()


@pytest.mark.parametrize("name", sorted(CREG_EXPECTED))
def test_initialise_reads_each_real_registration_reply(name):
    modem, emu = initialise_with({"AT+CREG?": dump("gammu-at-creg", name)[1], "AT+CEREG?": "\r\nERROR\r\n"})
    try:
        expected = CREG_EXPECTED[name] or "unknown"
        assert (modem.info.registration, modem.info.registered) == (expected, expected in ("home", "roaming"))
    finally:
        modem.close()
        emu.stop()


@pytest.mark.parametrize("name", sorted(MODEL_EXPECTED))
def test_initialise_identifies_each_real_model_reply(name):
    command, reply = dump("gammu-at-model", name)
    scripts = {command: reply}
    if command != "AT+CGMM":  # an ATI-only modem refuses AT+CGMM
        scripts["AT+CGMM"] = "\r\nERROR\r\n"
        scripts["AT+CGMI"] = "\r\nERROR\r\n"
        scripts["ATI"] = reply
    modem, emu = initialise_with(scripts)
    try:
        manufacturer, model = MODEL_EXPECTED[name]
        assert modem.info.model == model
        assert modem.info.manufacturer == (manufacturer or "SIMCOM INCORPORATED")
    finally:
        modem.close()
        emu.stop()


@pytest.mark.parametrize("name", sorted(CPMS_EXPECTED))
def test_initialise_picks_storage_from_each_real_reply(name):
    modem, emu = initialise_with({"AT+CPMS=?": dump("gammu-at-cpms", name)[1]})
    try:
        assert modem.info.storage == choose_storage(CPMS_EXPECTED[name])
        assert modem.info.storage == ("SM" if CPMS_EXPECTED[name] else "")
    finally:
        modem.close()
        emu.stop()
