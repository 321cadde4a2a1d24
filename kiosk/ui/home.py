"""Home: six big tiles, the volunteers on duty, and the state of the modem, printer and hub."""
from __future__ import annotations

from kiosk.ui.app import KioskScreen


class HomeScreen(KioskScreen):
    title_key = "home_title"
    instruction_key = "home_instruction"

    def spoken_parts(self) -> list[str]:
        """Home's fixed greeting and instruction (pre-rendered by `make voices`, so it plays at once)."""
        from kiosk.ui import prompts
        return [prompts.screen_prompt(self.title_key, self.instruction_key, self.app.language)]
