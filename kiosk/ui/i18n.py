"""Screen texts from kiosk/data/ui_strings.toml, validated at load: both languages, same keys."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

from ..errors import ConfigError

LANGUAGES = ("vi", "en")


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, str]]:
    raw = tomllib.loads(resources.files("kiosk").joinpath("data/ui_strings.toml").read_text("utf-8"))
    missing = set(raw.get("vi", {})) ^ set(raw.get("en", {}))
    if set(raw) != set(LANGUAGES) or missing:
        raise ConfigError(f"ui_strings.toml: every key needs vi and en; mismatched: {sorted(missing)}")
    return raw


def text(key: str, language: str = "vi", **values) -> str:
    """The text for `key` in `language`, with {placeholders} filled; the key itself if unknown."""
    template = strings().get(language, strings()["vi"]).get(key) or strings()["vi"].get(key, key)
    return template.format(**values) if values else template
