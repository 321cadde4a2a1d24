"""UI fixtures: run a scenario against the real app in a subprocess (Kivy allows one app per process)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture
def kiosk_ui(config_path, tmp_path):
    """kiosk_ui("tests.ui.scenarios:name", size="800x480") → the scenario's `ui.result` dict."""
    def run(target: str, size: str = "1280x800", timeout: float = 120) -> dict:
        out = tmp_path / "scenario.json"
        proc = subprocess.run([sys.executable, "-m", "tests.ui.pilot", str(config_path), target, str(out), size],
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        outcome = json.loads(out.read_text("utf-8")) if out.exists() else {}
        if proc.returncode != 0 or not outcome.get("ok"):
            raise AssertionError(f"scenario {target} failed:\n{outcome.get('error') or proc.stderr[-4000:]}\n"
                                 f"results so far: {outcome.get('result')}")
        return outcome["result"]
    return run
