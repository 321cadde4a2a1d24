"""`tdp say TEXT [--out FILE.wav] [--json]` and `tdp voices render [--json]`: the kiosk's voice from the CLI.

`say` prints the text as the engine will speak it (abbreviations, dates, amounts, codes and
phone numbers written out) and writes the WAV, or plays it when no --out is given: for trying
voices and rates in the field. `voices render` pre-renders every fixed prompt into the cache
(`make voices`), so "Nghe" plays at once.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from kiosk.voice import engine as voice
from ..errors import InvalidInput


def register(cli) -> None:
    p = cli.command("say", _say, json=True, help="say TEXT with the kiosk's voice: print the spoken text, write or play the WAV")
    p.add_argument("text", metavar="TEXT", help="what to say (Vietnamese; quote it)")
    p.add_argument("--out", metavar="FILE.wav", help="write the WAV here instead of playing it")
    p.add_argument("--language", choices=("vi", "en"), default="vi", help="voice language (default: vi)")
    group = cli.group("voices", help="the kiosk's read-aloud prompts")
    group.command("render", _render, json=True,
                  help="pre-render every fixed prompt (screens and procedure guides) into the voice cache")


def _ready(config) -> voice.Voice:
    speaker = voice.Voice(config)
    engine_ok, reason = speaker.engine.available()
    if not engine_ok:
        raise voice.VoiceError(f"{reason}; set [voice] engine in the config")
    return speaker


def _say(ctx):
    args = ctx.args
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() != ".wav":
        raise InvalidInput(f"--out {out}: the file name must end in .wav")
    spoken = _ready(ctx.config).speak(args.text, language=args.language)
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(spoken.path, out)
        except OSError as exc:
            raise InvalidInput(f"--out {out}: cannot write: {exc.strerror}") from None
    else:
        _play(ctx.config, spoken)
    data = {"text": spoken.text, "path": str(out or spoken.path), "cache_path": str(spoken.path),
            "cached": spoken.cached, "seconds": round(spoken.seconds, 3),
            "render_seconds": round(spoken.render_seconds, 3)}
    where = f"written: {out}" if out else f"played ({spoken.seconds:.1f} s)"
    ctx.emit(data, f"{spoken.text}\n{where}{' (from cache)' if spoken.cached else ''}")


def _play(config, spoken) -> None:
    """Play to the end (the CLI may wait); a failed player is an error naming the device."""
    player = voice.player_for(config)
    ok, reason = player.available()
    if not ok:
        raise voice.VoiceError(f"cannot play: {reason}; use --out FILE.wav")
    if isinstance(player, voice.KivyPlayer):
        raise voice.VoiceError("the CLI plays through aplay: set [voice] player = \"aplay\" or use --out FILE.wav")
    player.play(spoken.path)
    finished = player.wait(spoken.seconds + 10)
    player.stop()
    if not finished:
        raise voice.VoiceError(f"playback did not finish within {spoken.seconds + 10:.0f} s on device {config.voice.device}")
    if player.error:
        raise voice.VoiceError(f"{player.error}; set [voice] device, or use --out FILE.wav")


def _render(ctx):
    from kiosk.ui import prompts
    speaker = _ready(ctx.config)
    started = time.perf_counter()
    rendered = cached = 0
    audio = 0.0
    for language, text in prompts.all_prompts():
        spoken = speaker.speak(text, language=language)
        cached += spoken.cached
        rendered += not spoken.cached
        audio += spoken.seconds
    data = {"prompts": rendered + cached, "rendered": rendered, "cached": cached,
            "audio_seconds": round(audio, 1), "seconds": round(time.perf_counter() - started, 2),
            "cache_dir": str(speaker.cache_dir)}
    ctx.emit(data, f"{data['prompts']} prompts ({rendered} rendered, {cached} already cached), "
                   f"{audio / 60:.1f} min of speech in {speaker.cache_dir}")
