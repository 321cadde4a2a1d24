"""Entry points of the kiosk UI: configure Kivy before it loads, then run or take a screenshot.

Kivy reads its window settings when `kivy.core.window` is first imported, so everything here
sets them first and imports the app module (which imports Kivy) afterwards.
"""
from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from kiosk.appliance.config import Config
from kiosk.errors import InvalidInput
from kiosk.ui.display import VirtualDisplay, needs_virtual_display
from kiosk.ui.screens import SCREENS



def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{3,5})\s*[xX×]\s*(\d{3,5})\s*", text or "")
    if not match:
        raise InvalidInput(f"size '{text}' must look like 800x480")
    return int(match.group(1)), int(match.group(2))


def configure_kivy(config: Config, size: tuple[int, int] | None = None, fullscreen: bool | None = None) -> None:
    """Set Kivy's window, input and logging options; must run before Kivy's Window is imported."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    # PYTHON mode: Kivy logs through `logging` and leaves sys.stderr alone, so the CLI's one-line
    # errors still reach the user after Kivy is imported.
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    # Under a software renderer (Xvfb, no GPU) Mesa's llvmpipe starts a thread and arena per
    # core; a kiosk's mostly still screens don't need them, and they cost ~20-70 MB. Ignored by
    # the Pi's GPU driver.
    os.environ.setdefault("LP_NUM_THREADS", "0")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    kivy_home = config.storage.data_dir / "kivy"
    kivy_home.mkdir(parents=True, exist_ok=True)  # Kivy exits silently if it cannot create it
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    if not os.environ.get("DEBUG"):
        # Kivy's warnings (config upgrades on a new data directory, missing optional providers)
        # would land on the resident-facing console; DEBUG=1 shows them.
        logging.getLogger("kivy").setLevel(logging.ERROR)
    from kivy.config import Config as KivyConfig

    width, height = size or (config.ui.width, config.ui.height)
    full = config.ui.fullscreen if fullscreen is None else fullscreen
    KivyConfig.set("graphics", "width", str(width))
    KivyConfig.set("graphics", "height", str(height))
    KivyConfig.set("graphics", "fullscreen", "auto" if full else "0")
    KivyConfig.set("graphics", "rotation", str(config.ui.rotation))
    KivyConfig.set("graphics", "resizable", "0")
    KivyConfig.set("kivy", "exit_on_escape", "0")
    KivyConfig.set("kivy", "keyboard_mode", "system")  # our own on-screen keyboards, not Kivy's
    KivyConfig.set("input", "mouse", "mouse,multitouch_on_demand")


def run(config: Config, *, screen: str = "home", size: tuple[int, int] | None = None,
        screenshot: str | Path | None = None, fullscreen: bool | None = None,
        tour_dir: str | Path | None = None, stop_after: float = 0, watchdog=None) -> int:
    """Run the kiosk (or render `screen` to `screenshot` and exit); starts Xvfb if there is no display."""
    if screen not in SCREENS:
        raise InvalidInput(f"unknown screen '{screen}'; screens: {', '.join(SCREENS)}")
    display = None
    if needs_virtual_display():
        width, height = size or (config.ui.width, config.ui.height)
        display = VirtualDisplay(width, height)
        os.environ["DISPLAY"] = display.name
    try:
        configure_kivy(config, size, False if screenshot else fullscreen)
        from kiosk.ui.app import KioskApp

        app = KioskApp(config, start_screen=screen, screenshot=screenshot, tour_dir=tour_dir,
                       stop_after=stop_after, watchdog=watchdog)
        app.run()
        return app.exit_code
    finally:
        if display is not None:
            display.close()
            os.environ.pop("DISPLAY", None)
