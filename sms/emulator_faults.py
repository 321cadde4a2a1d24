"""The emulated modem's faults (sms/emulator.py), each one the way a SIM7600/A7670 shows it.

- `fail_next(n, cms)`: +CMS ERROR on the next sends (38 network out of order, 42 congestion, 500
  unknown, 512 no radio link yet…); `bare_error_next(n)`: a plain ERROR without a code.
- `no_answer_next(n)`: the next commands get no echo and no reply (a hung modem).
- `silence(s)`: deaf for `s` seconds, then answering again with its settings kept (UART glitch).
- `reboot()`: boot banner at once, factory settings (echo on, text mode, CNMI off).
- `deaf_boot(s)`: a brown-out reboot: deaf for `s` seconds, then RDY; the SIM answers "busy"
  until +CPIN: READY, SMS commands fail until SMS DONE.
- `reboot_after_ack(every)`: that deaf boot right after the +CMGS/OK of every `every`-th part.
- `vanish(s)`: the USB port disappears and comes back `s` seconds later (re-enumeration).
- `fill_storage()`: SIM storage full of unread messages (their +CMTI lost); sends then answer
  +CMS ERROR: 322 until a slot is freed.
- `deregister(stat)` / `register()`: network registration lost (+CREG/+CEREG URCs); sends answer
  +CMS ERROR: 331 while unregistered.
- `garbage_next(n)` / `garbage()`: undecodable bytes, as a baud-rate mismatch produces.
- `script(command, reply)`: answer one command verbatim, like a different modem would.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

BOOT_BANNER = b"\r\nRDY\r\n"
# From RDY to +CPIN: READY and on to SMS DONE on a SIM7600, shortened (a real one takes 2-8 s).
SIM_READY_SECONDS = 0.3
SMS_READY_SECONDS = 0.2


class ModemFaults:
    """Fault injection for Emulator (a mixin: it uses the emulator's lock, state and writer)."""

    def _init_faults(self) -> None:
        self._scripts: dict[str, bytes] = {}
        self._fail: list[int | str] = []
        self._swallow = 0
        self._garbage = 0
        self._deaf_until = 0.0
        self._sim_ready_at = 0.0
        self._sms_ready_at = 0.0
        self._acks = 0
        self._reboot_every = 0
        self._reboot_deaf = 0.0
        self.full_blocks_send = True
        self.sim_ready_seconds = SIM_READY_SECONDS  # after RDY, a deaf boot's +CPIN: READY
        self.sms_ready_seconds = SMS_READY_SECONDS  # and after that, SMS DONE
        self._cms_every = self._hang_every = self._sends = 0
        self._cms_code = 500
        self.boots: list[float] = []  # time.monotonic() of each boot banner written
        self.replugs: list[float] = []  # time.monotonic() of each time the port came back
        self._boot_thread: threading.Thread | None = None

    # --- the send path -------------------------------------------------------------------------
    def fail_next(self, n: int = 1, cms: int = 500) -> None:
        """The next `n` sends answer `+CMS ERROR: cms`."""
        with self._lock:
            self._fail.extend([cms] * n)

    def bare_error_next(self, n: int = 1) -> None:
        """The next `n` sends answer a plain `ERROR`, no code."""
        with self._lock:
            self._fail.extend(["ERROR"] * n)

    def schedule(self, *, cms_every: int = 0, cms: int = 500, hang_every: int = 0) -> None:
        """From now on, +CMS ERROR `cms` on every `cms_every`-th send and no answer at all to every
        `hang_every`-th AT+CMGS (0 turns either off)."""
        with self._lock:
            self._cms_every, self._cms_code, self._hang_every, self._sends = cms_every, cms, hang_every, 0

    def _send_hangs(self) -> bool:
        """Under the lock, for each AT+CMGS arriving: True if this one is never answered."""
        self._sends += 1
        return bool(self._hang_every) and self._sends % self._hang_every == 0

    def _refusal(self) -> str | None:
        """Under the lock: the final line that refuses the send arriving now, or None."""
        if self._cms_every and self._sends % self._cms_every == 0:
            return f"+CMS ERROR: {self._cms_code}"
        if self._fail:
            code = self._fail.pop(0)
            return code if isinstance(code, str) else f"+CMS ERROR: {code}"
        if self.registration not in (1, 5):
            return "+CMS ERROR: 331"
        if self.full_blocks_send and len(self._storage) >= self.storage_size:
            return "+CMS ERROR: 322"
        return None

    def reboot_after_ack(self, every: int = 1, deaf_seconds: float = 1.0) -> None:
        """Right after the +CMGS/OK of every `every`-th part from now on, a deaf boot
        (0 stops it)."""
        with self._lock:
            self._acks, self._reboot_every, self._reboot_deaf = 0, every, deaf_seconds

    def _acknowledged(self) -> None:
        """Called after a part's +CMGS/OK went out."""
        with self._lock:
            self._acks += 1
            due = self._reboot_every and self._acks % self._reboot_every == 0
        if due:
            self.deaf_boot(self._reboot_deaf)

    # --- deafness and reboots ------------------------------------------------------------------
    def no_answer_next(self, n: int = 1) -> None:
        """Swallow the next `n` commands: no echo, no reply (a hung modem)."""
        with self._lock:
            self._swallow += n

    def silence(self, seconds: float) -> None:
        """Deaf for `seconds`, then answering again with nothing lost (a UART glitch)."""
        with self._lock:
            self._deaf_until = time.monotonic() + seconds

    def _deaf(self) -> bool:
        """Under the lock: True if the command arriving now is ignored."""
        if time.monotonic() < self._deaf_until:
            return True
        if self._swallow:
            self._swallow -= 1
            return True
        return False

    def reboot(self) -> None:
        """Spontaneous reboot: boot messages at once, settings back to defaults."""
        with self._lock:
            self._power_on()
            self.boots.append(time.monotonic())
        self._write(BOOT_BANNER + b"\r\n+CPIN: READY\r\n\r\nSMS DONE\r\n\r\nPB DONE\r\n")

    def deaf_boot(self, deaf_seconds: float = 2.0) -> None:
        """A brown-out: deaf for `deaf_seconds`, then RDY with factory settings; SIM busy until
        +CPIN: READY, SMS commands refused until SMS DONE."""
        now = time.monotonic()
        with self._lock:
            self._power_on()
            self._deaf_until = now + deaf_seconds
            self._sim_ready_at = self._deaf_until + self.sim_ready_seconds
            self._sms_ready_at = self._sim_ready_at + self.sms_ready_seconds
        link = self._link
        thread = threading.Thread(target=self._boot_banners, args=(link, self._deaf_until), daemon=True,
                                  name="modem-emulator-boot")
        self._boot_thread = thread
        thread.start()

    def _boot_banners(self, link, deaf_until: float) -> None:
        for at, line in ((deaf_until, BOOT_BANNER), (self._sim_ready_at, b"\r\n+CPIN: READY\r\n"),
                         (self._sms_ready_at, b"\r\nSMS DONE\r\n\r\nPB DONE\r\n")):
            if link is None or link.closed.wait(max(0.0, at - time.monotonic())) or self._link is not link:
                return  # unplugged meanwhile: that boot never finishes
            if line == BOOT_BANNER:
                with self._lock:
                    self.boots.append(time.monotonic())
            self._write(line)

    def _sim_busy(self) -> bool:
        return time.monotonic() < self._sim_ready_at

    def _sms_busy(self) -> bool:
        return time.monotonic() < self._sms_ready_at

    def vanish(self, seconds: float) -> None:
        """The USB port disappears now and reappears (the modem booted) after `seconds`."""
        self.unplug()
        threading.Timer(seconds, self.replug).start()

    # --- storage and network -------------------------------------------------------------------
    def fill_storage(self, sender: str = "+84901230000") -> int:
        """Fill every free slot with an unread message whose +CMTI never came; returns how many."""
        moment = datetime.now(timezone.utc).replace(microsecond=0)
        added = 0
        with self._lock:
            for index in range(self.storage_size):
                if index not in self._storage:
                    self._storage[index] = self._unread(sender, f"Tin nhắn cũ số {index}", moment)
                    added += 1
        return added

    def deregister(self, stat: int = 2) -> None:
        """Lose the network: 2 searching, 3 denied, 0 not searching, 4 unknown."""
        self._set_registration(stat)

    def register(self, stat: int = 1) -> None:
        """Register again (1 home, 5 roaming)."""
        self._set_registration(stat)

    def _set_registration(self, stat: int) -> None:
        with self._lock:
            self.registration = stat
            urcs = [f"+CREG: {stat}"] * bool(self.creg_n) + [f"+CEREG: {stat}"] * bool(self.cereg_n)
        for line in urcs:
            self._urc(line)

    # --- the line ------------------------------------------------------------------------------
    def garbage_next(self, n: int = 1) -> None:
        """Start each of the next `n` replies with a line of undecodable bytes."""
        with self._lock:
            self._garbage += n

    def garbage(self, data: bytes = b"\r\n\xff\xfe\x80garbage\x00\x9f\r\n") -> None:
        """Write raw bytes now, outside any reply."""
        self._write(data)

    def script(self, command: str, reply: str | bytes | None) -> None:
        """Answer `command` (exact, case-insensitive) with `reply` verbatim; None removes it."""
        key = command.strip().upper()
        with self._lock:
            if reply is None:
                self._scripts.pop(key, None)
            else:
                self._scripts[key] = reply.encode("latin-1") if isinstance(reply, str) else reply
