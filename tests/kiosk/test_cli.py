"""The `tdp` command: --help everywhere, --json, exit codes 0/1/2, one-line errors, DEBUG=1 tracebacks."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from kiosk.cli import build_parser
from tests.conftest import ROOT
from tests.support.contact_lists import MESSY_ROWS, write_xlsx


def command_paths(parser: argparse.ArgumentParser, prefix=()) -> list[tuple[str, ...]]:
    """Every command and group, as the words typed after `tdp`."""
    paths = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.append(prefix + (name,))
                paths += command_paths(sub, prefix + (name,))
    return paths


ALL_COMMANDS = command_paths(build_parser())


def test_the_directory_commands_exist():
    for path in [("contacts", "list"), ("contacts", "import"), ("contacts", "export"), ("groups", "list"),
                 ("consent", "give"), ("consent", "withdraw")]:
        assert path in ALL_COMMANDS


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=" ".join)
def test_every_subcommand_has_help(tdp, path):
    result = tdp(*path, "--help")
    assert result.code == 0
    assert result.out.startswith("usage: tdp " + " ".join(path))


def test_usage_errors_exit_2(tdp):
    assert tdp("no-such-command").code == 2
    assert tdp("contacts", "import").code == 2            # FILE missing
    assert tdp("contacts", "list", "--bogus").code == 2
    assert tdp("consent", "maybe", "0912345678").code == 2


def test_user_errors_exit_1_with_one_line_and_no_traceback(tdp, store):
    for args, needle in [(("contacts", "list", "--group", "Hội nông dân"), "no group 'Hội nông dân'"),
                         (("consent", "give", "024 3826 1234"), "landline"),
                         (("consent", "withdraw", "0912345678"), "no resident with phone 0912 345 678"),
                         (("contacts", "export", "out.csv"), "export writes .xlsx")]:
        result = tdp(*args)
        assert result.code == 1, args
        assert result.err.count("\n") == 1 and result.err.startswith("tdp: error: ") and needle in result.err
        assert "Traceback" not in result.err


def _run(args, env_extra, config_path):
    env = {**os.environ, "TDP_CONFIG": str(config_path), **env_extra}
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60)


def test_debug_1_shows_the_traceback_in_a_real_process(config_path):
    quiet = _run(["contacts", "list", "--group", "XYZ"], {"DEBUG": ""}, config_path)
    loud = _run(["contacts", "list", "--group", "XYZ"], {"DEBUG": "1"}, config_path)
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr and quiet.stderr.count("\n") == 1
    assert loud.returncode != 0 and "Traceback (most recent call last)" in loud.stderr
    assert "NotFound: no group 'XYZ'" in loud.stderr


def test_reporting_commands_take_json_and_consent_changes_recipients(tdp, tmp_path):
    path = write_xlsx(tmp_path / "ds.xlsx", MESSY_ROWS)
    assert tdp("contacts", "import", path, "--json").data["added"] == 3

    listed = tdp("contacts", "list", "--group", "CB", "--json").data
    assert [r["full_name"] for r in listed] == ["Nguyễn Văn An", "Phạm Thị Dung"]
    groups = {g["code"]: g for g in tdp("groups", "list", "--json").data}
    assert groups["CB"]["consenting"] == 2

    withdrawn = tdp("consent", "withdraw", "0912 345 678", "--source", "gọi điện", "--json").data
    assert (withdrawn["consent"], withdrawn["consent_method"], withdrawn["consent_source"]) == (False, "cli", "gọi điện")
    assert {g["code"]: g for g in tdp("groups", "list", "--json").data}["CB"]["consenting"] == 1
    assert tdp("consent", "give", "+84912345678", "--json").data["consent"] is True

    exported = tdp("contacts", "export", tmp_path / "out.xlsx", "--json").data
    assert exported["exported"] == 3 and (tmp_path / "out.xlsx").exists()


def test_human_output_is_readable(tdp, tmp_path):
    path = write_xlsx(tmp_path / "ds.xlsx", MESSY_ROWS)
    out = tdp("contacts", "import", path).out
    assert "3 added, 0 updated, 0 unchanged, 4 rejected" in out
    assert "row 9: full name is empty" in out
    listing = tdp("contacts", "list").out
    assert "Trần Thị Bình" in listing and "0334 567 890" in listing and "3 residents, 3 consenting" in listing
    assert "HPN" in tdp("groups", "list").out
