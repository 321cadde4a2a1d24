"""The speech pipeline end to end with the real espeak-ng: `tdp say`, the WAV cache, bad input."""
import array
import os
import shutil
import wave
from pathlib import Path

import pytest

from kiosk.appliance import config as config_module
from kiosk.ui import prompts
from kiosk.voice import engine as voice

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
HOME_PROMPT = prompts.screen_prompt("home_title", "home_instruction", "vi")


def voiced_seconds(path: Path) -> float:
    """Seconds of the WAV louder than a quiet-room threshold, in 10 ms windows (mono 16-bit)."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1
        rate = wav.getframerate()
        samples = array.array("h", wav.readframes(wav.getnframes()))
    window = rate // 100
    loud = sum(1 for i in range(0, len(samples), window) if max(map(abs, samples[i:i + window]), default=0) > 500)
    return loud / 100


def test_say_writes_a_wav_of_plausible_length_then_hits_the_cache(tdp, tmp_path):
    out = tmp_path / "home.wav"
    first = tdp("say", HOME_PROMPT, "--out", out, "--json")
    assert first.code == 0, first.err
    data = first.data
    assert data["text"] == "Xin chào bác! Bác cần làm việc gì ạ? Chạm vào một ô lớn để bắt đầu."
    assert data["cached"] is False and Path(data["path"]) == out
    # 17 syllables at 130 words a minute is about 8 s; the voiced part is most of that.
    voiced = voiced_seconds(out)
    assert 3.0 < voiced <= data["seconds"] < 12.0, (voiced, data["seconds"])
    second = tdp("say", HOME_PROMPT, "--out", tmp_path / "again.wav", "--json")
    assert second.data["cached"] is True
    assert second.data["cache_path"] == data["cache_path"]
    assert (tmp_path / "again.wav").read_bytes() == out.read_bytes()


def test_say_prints_the_spoken_text(tdp, tmp_path):
    result = tdp("say", "UBND hẹn 7h30 ngày 08/12/2026, lệ phí 15.000đ", "--out", tmp_path / "x.wav")
    assert result.code == 0
    assert result.out.splitlines()[0] == ("Ủy ban nhân dân hẹn bảy giờ ba mươi ngày tám tháng mười hai năm hai nghìn "
                                          "không trăm hai mươi sáu, lệ phí mười lăm nghìn đồng")


def test_slower_rate_speaks_longer(config_path, tdp, tmp_path):
    fast = tdp("say", "Bác cần làm gì?", "--out", tmp_path / "a.wav", "--json").data["seconds"]
    with open(config_path, "a", encoding="utf-8") as handle:
        handle.write("[voice]\nrate = 175\n")
    default_rate = tdp("say", "Bác cần làm gì?", "--out", tmp_path / "b.wav", "--json").data
    assert default_rate["cached"] is False  # a new rate is a new cache entry
    assert fast > default_rate["seconds"] * 1.15  # 130 wpm (our default) is slower than espeak's 175


@pytest.mark.parametrize("text", ["Chào bác 👋🙏🏽!", "Please wait for the volunteer", "Thông báo mất điện. " * 250])
def test_awkward_text_is_spoken_or_trimmed(tdp, tmp_path, text):
    result = tdp("say", text, "--out", tmp_path / "x.wav", "--json")
    assert result.code == 0, result.err
    assert "👋" not in result.data["text"] and len(result.data["text"]) <= 1000
    assert 0.5 < result.data["seconds"] < 120


def test_nothing_to_say_is_a_one_line_error(tdp, tmp_path):
    result = tdp("say", "🙏🙏", "--out", tmp_path / "x.wav")
    assert result.code == 1 and "nothing to say" in result.err and "Traceback" not in result.err


def test_missing_engine_is_an_error_not_a_crash(config_path, tdp, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng, no aplay on this PATH
    result = tdp("say", "Xin chào", "--out", tmp_path / "x.wav")
    assert result.code == 1 and "espeak-ng is not installed" in result.err
    config = config_module.load(config_path)
    ok, message_vi, message_en = voice.status(config)
    assert ok is False and "espeak-ng" in message_vi and "Listen button is hidden" in message_en


def test_engine_none_is_reported_off(config_path):
    with open(config_path, "a", encoding="utf-8") as handle:
        handle.write('[voice]\nengine = "none"\n')
    ok, message_vi, _ = voice.status(config_module.load(config_path))
    assert ok is False and "tắt" in message_vi


def test_voices_render_prerenders_every_prompt(tdp, config_path):
    first = tdp("voices", "render", "--json").data
    assert first["prompts"] == len(prompts.all_prompts()) and first["rendered"] > 20
    again = tdp("voices", "render", "--json").data
    assert again["rendered"] == 0 and again["cached"] == first["prompts"]
    spoken = voice.Voice(config_module.load(config_path)).speak(HOME_PROMPT)
    assert spoken.cached


def test_speaker_plays_the_latest_text_through_aplay(config_path, tmp_path):
    if shutil.which("aplay") is None:
        pytest.skip("aplay not installed")
    played = tmp_path / "played.raw"
    with open(config_path, "a", encoding="utf-8") as handle:
        handle.write(f'[voice]\nplayer = "aplay"\ndevice = "file:FILE={played},FORMAT=raw"\n')
    config = config_module.load(config_path)
    speaker = voice.Speaker(voice.Voice(config), voice.player_for(config))
    speaker.say("Một câu sẽ bị thay thế ngay.")
    speaker.say("Bước hai.")
    assert speaker.player.started.wait(10), speaker.player.error
    assert speaker.last.text == "Bước hai." and speaker.player.error == ""
    with wave.open(str(speaker.last.path), "rb") as wav:
        pcm = wav.readframes(wav.getnframes())
    process = speaker.player._process
    if process is not None:
        process.wait(timeout=10)
    assert played.read_bytes()[:len(pcm)] == pcm  # the samples ALSA received are the latest text's


def test_say_plays_through_alsa_when_no_file_is_given(config_path, tdp):
    if shutil.which("aplay") is None:
        pytest.skip("aplay not installed")
    with open(config_path, "a", encoding="utf-8") as handle:
        handle.write('[voice]\nplayer = "aplay"\ndevice = "null"\n')
    result = tdp("say", "Xin chào bác")
    assert result.code == 0, result.err
    spoken, played = result.out.splitlines()
    assert spoken == "Xin chào bác" and played.startswith("played (") and "from cache" not in played
    assert tdp("say", "Xin chào bác").out.splitlines()[1].endswith("(from cache)")


def test_say_on_a_missing_sound_device_is_a_one_line_error(config_path, tdp):
    if shutil.which("aplay") is None:
        pytest.skip("aplay not installed")
    with open(config_path, "a", encoding="utf-8") as handle:
        handle.write('[voice]\nplayer = "aplay"\ndevice = "hw:9,0"\n')
    result = tdp("say", "Xin chào bác")
    assert result.code == 1 and "aplay -D hw:9,0 failed" in result.err and "--out" in result.err


def test_english_prompts_use_the_english_voice_without_vietnamese_number_words(tdp, tmp_path):
    result = tdp("say", "Touch a tile. Room 12 👋", "--language", "en", "--out", tmp_path / "en.wav", "--json")
    assert result.code == 0, result.err
    assert result.data["text"] == "Touch a tile. Room 12"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_resident_screen_has_a_prompt_to_read(language):
    for screen in prompts.RESIDENT_SCREENS:
        said = prompts.screen_prompt(f"{screen}_title", f"{screen}_instruction", language)
        assert "_title" not in said and "_instruction" not in said and len(said) > 10, (screen, said)


def test_unwritable_cache_is_a_one_line_error(config_path, tdp, tmp_path):
    blocker = tmp_path / "data" / "voice-cache"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    result = tdp("say", "Xin chào", "--out", tmp_path / "x.wav")
    assert result.code == 1 and "cannot write the voice cache" in result.err


def test_cache_keeps_only_the_newest_files(config_path, monkeypatch):
    monkeypatch.setattr(voice, "CACHE_MAX_FILES", 3)
    speaker = voice.Voice(config_module.load(config_path))
    paths = []
    for n in range(5):
        paths.append(speaker.speak(f"Câu số {n}.").path)
        os.utime(paths[-1], (1_000_000 + n, 1_000_000 + n))  # distinct ages, oldest first
    assert [p.exists() for p in paths] == [False, False, True, True, True]
    assert not list(speaker.cache_dir.glob("*.part"))
