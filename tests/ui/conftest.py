"""UI fixtures: run a scenario against the real app in a subprocess (Kivy allows one app per process)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


# The shipped panels: the 7" 800×480 display and a 10.1" 1280×800 one (dots per inch).
PANEL_DPI = {"800x480": 133, "1280x800": 149}


@pytest.fixture
def kiosk_ui(config_path, tmp_path):
    """kiosk_ui("tests.ui.scenarios:name", size="800x480") → the scenario's `ui.result` dict.
    The app runs at the DPI of the shipped panel of that size."""
    def run(target: str, size: str = "1280x800", timeout: float = 120) -> dict:
        out = tmp_path / "scenario.json"
        dpi = str(PANEL_DPI.get(size, 160))
        proc = subprocess.run([sys.executable, "-m", "tests.ui.pilot", str(config_path), target, str(out), size, dpi],
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        outcome = json.loads(out.read_text("utf-8")) if out.exists() else {}
        if proc.returncode != 0 or not outcome.get("ok"):
            raise AssertionError(f"scenario {target} failed:\n{outcome.get('error') or proc.stderr[-4000:]}\n"
                                 f"results so far: {outcome.get('result')}")
        return outcome["result"]
    return run
