"""Find a display for Kivy: the real one, KMSDRM on the Pi, or a private Xvfb when there is none."""
from __future__ import annotations

import ctypes
import os
import select
import shutil
import signal
import subprocess

from ..errors import TdpError

PR_SET_PDEATHSIG = 1  # linux/prctl.h


class DisplayError(TdpError):
    """No display could be found or started."""


class VirtualDisplay:
    """An Xvfb server on a display number it picks itself, stopped by close(); a context manager."""

    def __init__(self, width: int = 1280, height: int = 800, timeout: float = 15.0):
        xvfb = shutil.which("Xvfb")
        if xvfb is None:
            raise DisplayError("no display and Xvfb is not installed (apt-get install xvfb)")
        # -displayfd: Xvfb chooses a free display and writes its number once it accepts clients,
        # so we wait on that event instead of polling for its socket.
        read_fd, write_fd = os.pipe()
        self.process = subprocess.Popen(
            [xvfb, "-displayfd", str(write_fd), "-screen", "0",
             f"{max(width, 1280)}x{max(height, 800)}x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write_fd,),
            preexec_fn=_die_with_parent)
        os.close(write_fd)
        try:
            ready, _, _ = select.select([read_fd], [], [], timeout)
            number = os.read(read_fd, 32).decode().strip() if ready else ""
        finally:
            os.close(read_fd)
        if not number.isdigit():
            self.close()
            raise DisplayError("Xvfb did not start")
        self.name = f":{number}"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _die_with_parent() -> None:
    """In the Xvfb child: be sent SIGTERM when the kiosk process dies, however it dies (a SIGTERM
    from systemd or a kill -9 skips close()), so no display server is left behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def needs_virtual_display() -> bool:
    """True when neither X/Wayland nor an explicit SDL video driver (KMSDRM on the Pi) is available."""
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("SDL_VIDEODRIVER"))
