"""Home: six big tiles, the volunteers on duty, and the state of the modem, printer and hub."""
from __future__ import annotations

from kiosk.ui.app import KioskScreen


class HomeScreen(KioskScreen):
    title_key = "home_title"
    instruction_key = "home_instruction"
