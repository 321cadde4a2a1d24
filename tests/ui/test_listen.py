"""Read-aloud under Xvfb (real aplay on an ALSA file device, or Kivy's SDL audio), and large-text fit."""
import wave

import pytest

from kiosk.appliance import config as config_module
from kiosk.ui import prompts
from kiosk.voice import engine as voice

HOME_PROMPT = prompts.screen_prompt("home_title", "home_instruction", "vi")


def _configure(config_path, text):
    with open(config_path, "a", encoding="utf-8") as handle:
        handle.write(text)


def test_listen_on_home_plays_the_cached_prompt(kiosk_ui, config_path, tdp, tmp_path):
    played = tmp_path / "played.raw"
    # ALSA's file plugin: aplay really opens a PCM device and every sample it plays lands in the file.
    _configure(config_path, f'[voice]\nplayer = "aplay"\ndevice = "file:FILE={played},FORMAT=raw"\n')
    assert tdp("voices", "render").code == 0  # `make voices`
    cached = voice.Voice(config_module.load(config_path)).speak(HOME_PROMPT)
    assert cached.cached
    mtime = cached.path.stat().st_mtime_ns

    result = kiosk_ui("tests.ui.listen_scenarios:listen_home", size="800x480")
    assert result["buttons"] == ["listen_button", "volume_down", "volume_up"]
    assert result["error"] == "" and result["player"] == "aplay"
    assert result["cached"] is True and result["path"] == str(cached.path)
    assert result["text"] == "Xin chào bác! Bác cần làm việc gì ạ? Chạm vào một ô lớn để bắt đầu."
    assert result["latency"] < 0.3
    with wave.open(str(cached.path), "rb") as wav:
        pcm = wav.readframes(wav.getnframes())
    sound = played.read_bytes()
    assert len(pcm) > 20_000 and sound[:len(pcm)] == pcm  # what reached ALSA is the cached prompt
    assert cached.path.stat().st_mtime_ns >= mtime  # served from the cache, not rendered again


def test_guide_is_read_step_by_step_and_a_new_tap_stops_the_last(kiosk_ui, config_path, monkeypatch, tmp_path):
    # Kivy's own audio (SDL2) on its dummy driver plays in real time without a sound card, so a
    # sound is still playing when the next tap comes.
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    monkeypatch.setenv("TDP_TEST_SHOT", str(tmp_path / "guide.png"))
    _configure(config_path, '[voice]\nplayer = "kivy"\n')
    result = kiosk_ui("tests.ui.listen_scenarios:listen_guide_steps", size="1280x800")
    assert result["buttons_list"] == ["listen_button", "volume_down", "volume_up"]
    assert result["buttons_detail"] == ["listen_button", "listen_next", "listen_repeat", "volume_down", "volume_up"]
    assert result["error"] == ""
    first, second, third, repeated = result["heard"]
    assert first.startswith("Đăng ký tạm trú. Các bước nộp trực tuyến. Bước một. Đăng nhập ứng dụng vê en e ai đi")
    assert second.startswith("Bước hai. Khai Tờ khai thay đổi thông tin cư trú")
    assert third.startswith("Bước ba. Nộp hồ sơ")
    assert repeated == third
    assert result["previous_states"] == ["stop", "stop", "stop"]  # each tap silenced the one before
    assert result["playing"] is True
    assert result["louder"] == {"volume": 130, "text": third, "new_file": True}
    assert result["volume_after_idle"] == 100  # the next resident starts at the configured volume
    assert result["playing_after_back"] is False  # leaving the steps stops the reading
    assert result["buttons_after_back"] == ["listen_button", "volume_down", "volume_up"]
    assert (tmp_path / "guide.png").stat().st_size > 10_000


def test_no_voice_engine_hides_the_bar(kiosk_ui, config_path):
    _configure(config_path, '[voice]\nengine = "none"\n')
    result = kiosk_ui("tests.ui.listen_scenarios:listen_hidden", size="800x480")
    assert result == {"home_bar": False, "guides_bar_parent": False, "home_button": True}


@pytest.mark.parametrize("size", ["800x480", "1280x800"])
def test_large_text_fits_every_resident_screen(kiosk_ui, size, tmp_path, monkeypatch):
    monkeypatch.setenv("TDP_TEST_SHOTS", str(tmp_path))
    result = kiosk_ui("tests.ui.listen_scenarios:large_text_fits", size=size)
    assert result["large_text"] is True
    problems = result["problems"]
    assert set(problems) == {"guides", "guides_detail", "request", "check", "call", "notices", "register",
                             "rating", "rating_reasons"}
    assert problems == {name: [] for name in problems}, problems


def test_read_aloud_reads_each_step_its_errors_and_the_code(kiosk_ui):
    result = kiosk_ui("tests.ui.listen_scenarios:read_aloud_session", size="800x480")
    assert result["toggle"] == "Đọc to: Bật"
    assert result["name_prompt"] in result["name_step"]  # the step's own prompt, not the screen's title
    assert result["error_read"] == "Xin nhập họ và tên."
    assert "TDP1-2612-JRZW" in result["done_read"]
    assert "JRZW" not in result["done_spoken"]  # the code is spelled out for the engine
