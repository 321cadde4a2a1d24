"""Read-aloud: a small speech-engine interface, a WAV cache, and playback that never blocks the UI.

`speak(text)` returns a WAV file for `text`, rendered by the engine chosen in `[voice] engine`
(espeak-ng's `vi` voice, or "none") and cached in `<data_dir>/voice-cache/` under a hash of the
spoken text and the voice settings, so a prompt renders once. A better Vietnamese voice is
another `Engine` with the same `render()`.

`Speaker.say(text)` renders in a worker thread and plays through a `Player` (`aplay` on ALSA, or
Kivy's SDL audio); a new `say()` or `stop()` silences what is playing. Nothing here imports Kivy
unless the Kivy player is chosen.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.voice import speech
from kiosk.appliance.config import Config
from kiosk.errors import TdpError

log = logging.getLogger(__name__)

ENGINES = ("espeak-ng", "none")
PLAYERS = ("auto", "aplay", "kivy", "none")
VOICES = {"vi": "vi", "en": "en"}  # UI language → espeak-ng voice
CACHE_FOLDER = "voice-cache"
CACHE_MAX_FILES = 600  # fixed prompts and guide steps in two languages, with room for volume steps
RENDER_TIMEOUT = 30.0  # seconds; espeak-ng renders a minute of speech in well under one
VOLUME_RANGE = (10, 200)  # espeak amplitude
RATE_RANGE = (80, 450)  # words per minute, espeak's limits


class VoiceError(TdpError):
    """Speech cannot be rendered or played; the message says what to install or configure."""


@dataclass(frozen=True)
class Spoken:
    """A rendered utterance: the text as spoken, its WAV file, whether it came from the cache,
    the audio length in seconds and the time taken to get it in seconds."""
    text: str
    path: Path
    cached: bool
    seconds: float
    render_seconds: float


# --- engines ------------------------------------------------------------------------------------

class Engine:
    """Turns spoken text into a WAV file; `rate` in words per minute, `volume` 0-200."""
    name = "none"

    def available(self, language: str = "vi") -> tuple[bool, str]:
        """(usable, reason in English when not)."""
        return False, "speech is off ([voice] engine = none)"

    def render(self, text: str, out: Path, *, rate: int, volume: int, language: str) -> None:
        raise VoiceError("no speech engine: set [voice] engine = \"espeak-ng\" and install espeak-ng")


class EspeakEngine(Engine):
    """Debian's espeak-ng: `espeak-ng -v vi -s RATE -a VOLUME -w FILE`, text on stdin."""
    name = "espeak-ng"

    def __init__(self, binary: str = "espeak-ng"):
        self.binary = binary
        self._voices: dict[str, bool] = {}

    def available(self, language: str = "vi") -> tuple[bool, str]:
        path = shutil.which(self.binary)
        if path is None:
            return False, "espeak-ng is not installed (apt-get install espeak-ng)"
        if language not in self._voices:
            try:
                listing = subprocess.run([path, f"--voices={VOICES.get(language, 'vi')}"], capture_output=True,
                                         text=True, timeout=10).stdout
            except (OSError, subprocess.TimeoutExpired) as exc:
                return False, f"espeak-ng does not run: {exc}"
            self._voices[language] = len(listing.strip().splitlines()) > 1
        if not self._voices[language]:
            return False, f"espeak-ng has no '{language}' voice (apt-get install espeak-ng-data)"
        return True, ""

    def render(self, text: str, out: Path, *, rate: int, volume: int, language: str) -> None:
        command = [self.binary, "-v", VOICES.get(language, "vi"), "-s", str(rate), "-a", str(volume),
                   "-w", str(out), "--stdin"]
        try:
            result = subprocess.run(command, input=text.encode("utf-8"), capture_output=True, timeout=RENDER_TIMEOUT)
        except FileNotFoundError:
            raise VoiceError("espeak-ng is not installed (apt-get install espeak-ng)") from None
        except subprocess.TimeoutExpired:
            raise VoiceError(f"espeak-ng took more than {RENDER_TIMEOUT:.0f} s") from None
        if result.returncode != 0 or not out.exists():
            detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise VoiceError(f"espeak-ng failed: {detail[-1] if detail else 'exit ' + str(result.returncode)}")


def engine_for(name: str) -> Engine:
    if name == "espeak-ng":
        return EspeakEngine()
    if name == "none":
        return Engine()
    raise VoiceError(f"unknown [voice] engine '{name}'; engines: {', '.join(ENGINES)}")


# --- rendering and the cache --------------------------------------------------------------------

class Voice:
    """The configured engine, rate and volume, with the WAV cache in `<data_dir>/voice-cache/`."""

    def __init__(self, config: Config, engine: Engine | None = None):
        self.engine = engine or engine_for(config.voice.engine)
        self.rate = _clamp(config.voice.rate, RATE_RANGE)
        self.volume = _clamp(config.voice.volume, VOLUME_RANGE)
        self.cache_dir = config.storage.data_dir / CACHE_FOLDER

    def available(self, language: str = "vi") -> bool:
        return self.engine.available(language)[0]

    def spoken_text(self, text: object, language: str = "vi") -> str:
        """What the engine is given: the speech normaliser for Vietnamese, cleaning only otherwise."""
        return speech.normalise(text) if language == "vi" else speech.clean(text)

    def cache_path(self, spoken: str, volume: int | None = None, language: str = "vi") -> Path:
        volume = _clamp(self.volume if volume is None else volume, VOLUME_RANGE)
        key = "\x1f".join((self.engine.name, VOICES.get(language, language), str(self.rate), str(volume), spoken))
        return self.cache_dir / (hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + ".wav")

    def speak(self, text: object, *, volume: int | None = None, language: str = "vi") -> Spoken:
        """A WAV for `text`, from the cache when it was rendered before with the same settings."""
        started = time.perf_counter()
        spoken = self.spoken_text(text, language)
        if not spoken:
            raise VoiceError("nothing to say: the text is empty once emoji and symbols are removed")
        volume = _clamp(self.volume if volume is None else volume, VOLUME_RANGE)
        path = self.cache_path(spoken, volume, language)
        if path.exists():
            try:
                os.utime(path)  # keeps often-heard prompts at the young end of the cache
                return Spoken(spoken, path, True, wav_seconds(path), time.perf_counter() - started)
            except (OSError, wave.Error, EOFError):
                path.unlink(missing_ok=True)  # a damaged file: render it again
        temporary = None
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            # ".part", not ".wav": pruning (maybe in another process) never takes a file being written
            handle, name = tempfile.mkstemp(suffix=".part", dir=self.cache_dir)
            os.close(handle)
            temporary = Path(name)
            self.engine.render(spoken, temporary, rate=self.rate, volume=volume, language=language)
            seconds = wav_seconds(temporary)
            os.replace(temporary, path)  # atomic: another process never plays half a file
        except (OSError, wave.Error, EOFError) as exc:
            raise VoiceError(f"cannot write the voice cache in {self.cache_dir}: {exc}") from None
        finally:
            if temporary is not None:
                temporary.unlink(missing_ok=True)
        self._prune()
        return Spoken(spoken, path, False, seconds, time.perf_counter() - started)

    def _prune(self) -> None:
        """Keep the newest CACHE_MAX_FILES WAVs (a hit refreshes a file's time)."""
        def age(file: Path) -> float:
            try:
                return file.stat().st_mtime
            except OSError:
                return 0.0
        files = sorted(self.cache_dir.glob("*.wav"), key=age)
        for old in files[:max(0, len(files) - CACHE_MAX_FILES)]:
            old.unlink(missing_ok=True)


def speak(text: object, config: Config | None = None, **options) -> Spoken:
    """The engine interface: `speak(text) -> Spoken` (its `.path` is the WAV), with the config's voice."""
    from kiosk.appliance.config import load
    return Voice(config or load()).speak(text, **options)


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate() or 1)


def _clamp(value: int, bounds: tuple[int, int]) -> int:
    return max(bounds[0], min(bounds[1], int(value)))


# --- players ------------------------------------------------------------------------------------

class Player:
    """Plays one WAV at a time. `play()` returns at once; `first_sample` is set (monotonic time)
    when the sound output has the first samples; `stop()` silences it."""
    name = "none"

    def __init__(self):
        self.first_sample: float | None = None
        self.started = threading.Event()
        self.error = ""

    def available(self) -> tuple[bool, str]:
        return False, "sound output is off ([voice] player = none)"

    def play(self, path: Path) -> None:
        """Start playing `path`, stopping anything already playing."""

    def stop(self) -> None:
        """Silence the current sound (idempotent)."""

    @property
    def playing(self) -> bool:
        return False

    def wait(self, timeout: float) -> bool:
        """Block until the current sound has ended (for the CLI); False on timeout."""
        return True

    def _mark_started(self) -> None:
        self.first_sample = time.monotonic()
        self.started.set()


class AplayPlayer(Player):
    """ALSA's `aplay` in a subprocess; a thread watches it, so the caller never waits."""
    name = "aplay"

    def __init__(self, device: str = "default", binary: str = "aplay"):
        super().__init__()
        self.device, self.binary = device, binary
        self._process: subprocess.Popen | None = None
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()

    def available(self) -> tuple[bool, str]:
        return (True, "") if shutil.which(self.binary) else (False, "aplay is not installed (apt-get install alsa-utils)")

    def play(self, path: Path) -> None:
        self.stop()
        self.first_sample, self.error = None, ""
        self.started.clear()
        # -v prints the device set-up once ALSA is configured, just before the first samples are
        # written: that line is our "first sample" mark.
        try:
            process = subprocess.Popen([self.binary, "-q", "-v", "-D", self.device, str(path)],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE)
        except OSError as exc:
            self.error = f"aplay does not start: {exc}"
            log.info("%s", self.error)  # the caller shows player.error; the CLI must not print it twice
            return
        with self._lock:
            self._process = process
        self._watcher = threading.Thread(target=self._watch, args=(process,), name="voice-aplay", daemon=True)
        self._watcher.start()

    def _watch(self, process: subprocess.Popen) -> None:
        lines = []
        for line in process.stderr:
            if not self.started.is_set() and b"setup" in line:
                self._mark_started()
            lines.append(line)
        code = process.wait()
        if code not in (0, -15) and process is self._process:
            text = b"".join(lines).decode("utf-8", "replace").strip().splitlines()
            self.error = f"aplay -D {self.device} failed: {text[-1] if text else 'exit ' + str(code)}"
            log.info("%s", self.error)
        process.stderr.close()

    def stop(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                process.kill()

    @property
    def playing(self) -> bool:
        process = self._process
        return process is not None and process.poll() is None

    def wait(self, timeout: float) -> bool:
        watcher = self._watcher
        if watcher is not None:
            watcher.join(timeout)
            return not watcher.is_alive()
        return True


class KivyPlayer(Player):
    """Kivy's SoundLoader (SDL2 audio); sounds start on the Kivy thread through the Clock."""
    name = "kivy"

    def __init__(self):
        super().__init__()
        self.sound = None

    def available(self) -> tuple[bool, str]:
        try:
            from kivy.core.audio import SoundLoader  # noqa: F401
        except Exception as exc:  # Kivy missing or without an audio provider
            return False, f"Kivy audio is unavailable: {exc}"
        return True, ""

    def play(self, path: Path) -> None:
        from kivy.clock import Clock
        self.first_sample, self.error = None, ""
        self.started.clear()
        Clock.schedule_once(lambda _dt: self._start(path))

    def _start(self, path: Path) -> None:
        from kivy.core.audio import SoundLoader
        self.stop()
        sound = SoundLoader.load(str(path))
        if sound is None or not sound.length:
            self.error = f"Kivy cannot play {path.name} (no audio device?)"
            log.info("%s", self.error)
            return
        self.sound = sound
        sound.play()
        if sound.state == "play":
            self._mark_started()  # SDL pulls the first buffer on its next audio callback

    def stop(self) -> None:
        sound, self.sound = self.sound, None
        if sound is not None:
            sound.stop()
            sound.unload()

    @property
    def playing(self) -> bool:
        return self.sound is not None and self.sound.state == "play"


def player_for(config: Config) -> Player:
    choice = config.voice.player
    if choice not in PLAYERS:
        raise VoiceError(f"unknown [voice] player '{choice}'; players: {', '.join(PLAYERS)}")
    if choice == "auto":
        choice = "aplay" if shutil.which("aplay") else "kivy"
    return {"aplay": lambda: AplayPlayer(config.voice.device), "kivy": KivyPlayer, "none": Player}[choice]()


# --- speaking without blocking ------------------------------------------------------------------

class Speaker:
    """Says texts in the background: render (or cache hit) in a worker thread, then play.

    Only the latest request counts: a new `say()` stops the current sound and makes any request
    still rendering give up. `on_error(message)` is called from the worker thread.
    """

    def __init__(self, voice: Voice, player: Player):
        self.voice, self.player = voice, player
        self.requested_at: float | None = None
        self.last: Spoken | None = None
        self._generation = 0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._job: tuple[int, object, int | None, str, Callable | None] | None = None
        threading.Thread(target=self._work, name="voice-speaker", daemon=True).start()

    def say(self, text: object, *, volume: int | None = None, language: str = "vi",
            on_error: Callable[[str], None] | None = None) -> None:
        self.requested_at = time.monotonic()
        self.player.stop()
        self.player.started.clear()
        self.player.first_sample, self.last = None, None
        with self._wake:
            self._generation += 1
            self._job = (self._generation, text, volume, language, on_error)
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._generation += 1
            self._job = None
        self.player.stop()

    def latency(self) -> float | None:
        """Seconds from the last `say()` to its first audio sample, once it has started."""
        first = self.player.first_sample
        return first - self.requested_at if first is not None and self.requested_at is not None else None

    def _work(self) -> None:
        while True:
            with self._wake:
                while self._job is None:
                    self._wake.wait()
                generation, text, volume, language, on_error = self._job
                self._job = None
            try:
                spoken = self.voice.speak(text, volume=volume, language=language)
            except TdpError as exc:
                log.warning("cannot speak: %s", exc)
                if on_error:
                    on_error(str(exc))
                continue
            except Exception:
                log.exception("speech failed")
                if on_error:
                    on_error("")
                continue
            with self._lock:
                current = generation == self._generation
            if current:
                self.last = spoken
                self.player.play(spoken.path)


# --- health -------------------------------------------------------------------------------------

def status(config: Config) -> tuple[bool, str, str]:
    """(ok, message in Vietnamese, message in English) for `tdp doctor` and the UI's Listen button."""
    if config.voice.engine == "none" or config.voice.player == "none":
        return False, "Đọc to đang tắt trong cấu hình ([voice]).", "Read-aloud is off in the config ([voice])."
    try:
        engine, player = engine_for(config.voice.engine), player_for(config)
    except VoiceError as exc:
        return False, f"Cấu hình giọng đọc sai: {exc}", str(exc)
    ok, reason = engine.available()
    if not ok:
        return False, "Chưa cài giọng đọc tiếng Việt (gói espeak-ng): nút Nghe bị ẩn.", f"{reason}; the Listen button is hidden"
    ok, reason = player.available()
    if not ok:
        return False, "Không phát được âm thanh: nút Nghe bị ẩn.", f"{reason}; the Listen button is hidden"
    return True, f"Giọng đọc sẵn sàng ({engine.name}, {player.name}).", f"Voice ready ({engine.name}, {player.name})."
