"""Home screen under Xvfb: tiles fit both screen sizes, idle reset, language switch."""
import pytest


@pytest.mark.parametrize("size", ["800x480", "1280x800"])
def test_home_tiles_fit_and_are_big_enough(kiosk_ui, size):
    result = kiosk_ui("tests.ui.scenarios:home_tiles_fit", size=size)
    for widget_id, checks in result["widgets"].items():
        assert checks == {"fits": True, "big_enough": True, "text_inside": True}, (size, widget_id, checks)
    # Large text is on by default on the 7" panel (the toggle then says "Chữ nhỏ lại"), off on 10".
    assert result["large_default"] is (size == "800x480")
    assert result["large_text_on"] is not result["large_default"]
    assert all(result["large"].values()), result["large"]


def _short_idle(config_path):
    with open(config_path, "a", encoding="utf-8") as handle:
        handle.write("[ui]\nidle_seconds = 1\ncountdown_seconds = 2\n")


def test_idle_reset_clears_the_session(kiosk_ui, config_path):
    _short_idle(config_path)
    result = kiosk_ui("tests.ui.scenarios:idle_reset")
    assert result == {"large_before": True, "countdown_shown": True, "large_after": False,
                      "countdown_after": False}


def test_more_time_keeps_the_session(kiosk_ui, config_path):
    with open(config_path, "a", encoding="utf-8") as handle:
        handle.write("[ui]\nidle_seconds = 1\ncountdown_seconds = 30\n")
    result = kiosk_ui("tests.ui.scenarios:more_time")
    assert result == {"dismissed": True, "large_kept": True}


def test_language_switch(kiosk_ui):
    result = kiosk_ui("tests.ui.scenarios:language_switch")
    assert result == {"before": "Nhận tin nhắn của Tổ dân phố", "after": "Register for notices"}
