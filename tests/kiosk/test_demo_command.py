"""`tdp demo` (what `make run` runs): a fresh demo ward, the gateway on the emulated modem."""
import json
import subprocess
import sys

from kiosk.directory import residents as directory
from kiosk.dossiers import lifecycle as dossiers
from kiosk.notices import board as notices
from kiosk.volunteers import people as volunteers
from kiosk.appliance.store import open_store
from tests.conftest import ROOT


def run_demo(data_dir, *extra):
    return subprocess.run([sys.executable, "-m", "kiosk", "demo", "--data", str(data_dir), "--no-ui",
                           "--seconds", "2", "--json", *extra], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_demo_seeds_a_fresh_ward_and_runs_the_gateway(tmp_path):
    data_dir = tmp_path / "demo"
    first = run_demo(data_dir)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout[first.stdout.index("{"):])
    assert summary["data_dir"] == str(data_dir) and summary["seeded"]["residents"] == 100
    with open_store(data_dir / "tdp.sqlite3") as db:
        assert len(directory.list_groups(db)) == 6
        assert len(volunteers.list_volunteers(db)) == 5 and len(dossiers.list_dossiers(db)) == 3
        assert len(notices.current(db)) == 3
        health = db.query("SELECT port, state, model FROM gateway_health")
        assert health and health[0]["model"].startswith("SIMCOM")  # the emulated modem answered
        db.execute("INSERT INTO groups (code, name, name_key) VALUES ('X', 'Leftover', 'leftover')")
    again = run_demo(data_dir)  # a second run starts from a fresh directory
    assert again.returncode == 0, again.stderr
    with open_store(data_dir / "tdp.sqlite3") as db:
        assert len(directory.list_groups(db)) == 6


def test_demo_refuses_a_directory_that_is_not_its_own(tmp_path):
    data_dir = tmp_path / "precious"
    data_dir.mkdir()
    (data_dir / "tdp.sqlite3").write_text("a real kiosk's data")
    result = run_demo(data_dir)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"tdp: error: {data_dir} is not empty and is not a demo directory; "
                                     "choose another --data")
    assert (data_dir / "tdp.sqlite3").read_text() == "a real kiosk's data"
