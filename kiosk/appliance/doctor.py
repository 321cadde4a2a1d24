"""`tdp doctor`: checks the appliance end to end and says, in Vietnamese and English, what to fix.

Each check returns ok / warn / fail with a message and, when not ok, the fix. A check that
crashes becomes a "fail" naming the error, so one broken part never hides the others. Checks
never take the modem or the GPIO pins away from running services.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from kiosk.appliance import config as config_module
from kiosk.appliance.sdcard import WRITE_WARN_BYTES_PER_DAY
from kiosk.errors import TdpError

OK, WARN, FAIL = "ok", "warn", "fail"
RELEASE_YEAR = 2026           # the clock cannot be earlier than this software
DISK_FAIL_BYTES = 200 * 2**20
DISK_WARN_BYTES = 1 * 2**30
WEAK_CSQ = 10                 # below about -93 dBm SMS delivery gets unreliable


@dataclass
class Check:
    name: str
    status: str
    en: str
    vi: str
    fix_en: str = ""
    fix_vi: str = ""
    details: dict = field(default_factory=dict)


def _ok(name, en, vi, **details) -> Check:
    return Check(name, OK, en, vi, details=details)


def _bad(name, status, en, vi, fix_en, fix_vi, **details) -> Check:
    return Check(name, status, en, vi, fix_en, fix_vi, details)


def _run(command: list[str], timeout: float = 10) -> subprocess.CompletedProcess | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None


def service_active(unit: str) -> bool:
    """True when systemd reports `unit` active (False off systemd, e.g. on a dev machine)."""
    result = _run(["systemctl", "is-active", "--quiet", unit], timeout=5)
    return result is not None and result.returncode == 0


# --- the checks --------------------------------------------------------------------------------

def check_config(path: str | None) -> tuple[Check, config_module.Config]:
    """Load and validate the config; on failure the rest runs with the built-in defaults."""
    from kiosk.appliance.firstboot import check_config as semantic_problems
    try:
        config = config_module.load(path)
    except TdpError as exc:
        return _bad("config", FAIL, f"Config invalid: {exc}", f"Cấu hình sai: {exc}",
                    "Fix the named key, then `tdp config check`.", "Sửa mục được nêu, rồi chạy `tdp config check`."), \
            config_module.Config()
    if config.source == "(built-in defaults)":
        return _bad("config", WARN, "No config file: running on the built-in demo settings.",
                    "Không có tệp cấu hình: đang chạy cấu hình mẫu.",
                    "Put tdp.toml on the boot partition and reboot, or set $TDP_CONFIG.",
                    "Chép tdp.toml vào thẻ nhớ rồi khởi động lại, hoặc đặt $TDP_CONFIG."), config
    problems = semantic_problems(tomllib.loads(Path(config.source).read_text(encoding="utf-8-sig")), config.source)
    if problems:
        text = "; ".join(problems)
        return _bad("config", FAIL, f"Config {config.source}: {text}", f"Cấu hình {config.source}: {text}",
                    "Fix the named keys.", "Sửa các mục được nêu."), config
    return _ok("config", f"Config {config.source} is valid.", f"Cấu hình {config.source} hợp lệ."), config


class _Probe(Exception):
    """Raised inside the probe transaction so the test write is rolled back."""


def check_store(config) -> Check:
    from kiosk.appliance.store import open_store
    path = Path(config.storage.path).expanduser()
    try:
        database = open_store(path)
    except (TdpError, OSError) as exc:
        return _bad("store", FAIL, f"Store {path} cannot be opened: {exc}", f"Không mở được dữ liệu {path}: {exc}",
                    "Check the data partition is mounted and owned by user tdp.",
                    "Kiểm tra phân vùng dữ liệu đã gắn và thuộc người dùng tdp.")
    try:
        try:
            with database.transaction() as conn:
                conn.execute("CREATE TABLE doctor_write_probe (x INTEGER)")
                raise _Probe
        except _Probe:
            pass
        size = path.stat().st_size
    except Exception as exc:  # sqlite3.OperationalError: read-only, disk I/O error, locked
        return _bad("store", FAIL, f"Store {path} is not writable: {exc}", f"Không ghi được dữ liệu {path}: {exc}",
                    "Make /var/lib/tdp writable (overlayroot keeps it on the data partition).",
                    "Cho phép ghi /var/lib/tdp (phân vùng dữ liệu).")
    finally:
        database.close()
    return _ok("store", f"Store {path} is writable ({size // 1024} KiB).", f"Dữ liệu {path} ghi được.",
               path=str(path), bytes=size)


def check_modem(config, *, command_timeout: float = 3.0) -> Check:
    """Open the modem (the emulator for port "emulator") and read SIM, registration and signal."""
    from sms.at import AtTimeout, PortGone, SimNotInserted, SimPinRequired
    from sms.errors import SmsError
    from sms.modem import Modem
    if service_active("tdp-gateway.service"):
        return gateway_modem_check(config)
    emulator = None
    port = config.modem.port
    if port == "emulator":
        from sms.emulator import Emulator
        emulator = Emulator()
        try:
            port = emulator.start()
        except OSError as exc:
            return _bad("modem", FAIL, f"The emulated modem cannot start: {exc.strerror} (no pseudo-terminals?).",
                        "Không khởi động được modem giả lập.", "Mount /dev/pts, or set [modem] port to the HAT.",
                        "Kiểm tra /dev/pts, hoặc đặt [modem] port là cổng của modem thật.")
    modem = Modem(port, baudrate=config.modem.baudrate, rtscts=config.modem.rtscts,
                  sim_pin=config.modem.sim_pin, command_timeout=command_timeout)
    where = config.modem.port
    try:
        info = modem.open()
    except SimNotInserted:
        return _bad("modem", FAIL, "Modem answers but has no SIM card.", "Modem không có SIM.",
                    "Insert a SIM (power off first); SMS wait in the queue meanwhile.",
                    "Tắt máy, lắp SIM; tin nhắn được giữ trong hàng đợi.")
    except SimPinRequired:
        return _bad("modem", FAIL, "The SIM asks for a PIN.", "SIM đòi mã PIN.",
                    "Set [modem] sim_pin in tdp.toml, or remove the PIN in a phone.",
                    "Điền [modem] sim_pin trong tdp.toml, hoặc bỏ mã PIN bằng điện thoại.")
    except (PortGone, AtTimeout) as exc:
        return _bad("modem", FAIL, f"No modem answers on {where}: {exc}. SMS stay queued.",
                    f"Không có modem trả lời ở {where}. Tin nhắn được giữ trong hàng đợi.",
                    "Seat the HAT, check its power LED, run `tdp firstboot` (UART), and set [modem] port.",
                    "Kiểm tra mạch modem đã cắm chắc và có đèn nguồn, chạy `tdp firstboot`, kiểm tra [modem] port.")
    except OSError as exc:
        return _bad("modem", FAIL, f"Cannot open {where}: {exc.strerror}. SMS stay queued.",
                    f"Không mở được cổng {where}. Tin nhắn được giữ trong hàng đợi.",
                    "Check the port exists and user tdp is in group dialout.",
                    "Kiểm tra cổng tồn tại và người dùng tdp thuộc nhóm dialout.")
    except SmsError as exc:
        return _bad("modem", FAIL, f"Modem on {where} failed: {exc}", f"Modem ở {where} lỗi: {exc}",
                    "Power-cycle the modem (unplug, wait 10 s).", "Tắt/bật lại modem (rút điện, chờ 10 giây).")
    finally:
        modem.close()
        if emulator is not None:
            emulator.stop()
    signal = f"signal {info.signal_csq}/31" + (f" ({info.signal_dbm} dBm)" if info.signal_dbm is not None else "")
    facts = dict(model=info.model, operator=info.operator, registration=info.registration,
                 signal_csq=info.signal_csq, signal_dbm=info.signal_dbm, sim=info.sim, emulated=emulator is not None)
    summary = (f"{info.model or 'modem'}: SIM {info.sim or 'ready'}, "
               f"{info.registration} on {info.operator or '?'}, {signal}")
    if not info.registered:
        denied = info.registration == "denied"
        return _bad("modem", FAIL if denied else WARN, f"{summary}: not registered.", f"{summary}: chưa đăng ký mạng.",
                    "Check the SIM is active with the carrier and the antenna is attached.",
                    "Kiểm tra SIM còn hoạt động và ăng-ten đã gắn.", **facts)
    if info.signal_csq == 99 or info.signal_csq < WEAK_CSQ:
        return _bad("modem", WARN, f"{summary}: weak signal.", f"{summary}: sóng yếu.",
                    "Move the antenna near a window or use an external antenna.",
                    "Đặt ăng-ten gần cửa sổ hoặc dùng ăng-ten ngoài.", **facts)
    if emulator is not None:
        return _bad("modem", WARN, f"Emulated modem answers ({summary}); no real SMS leave this machine.",
                    "Đang dùng modem giả lập; không có tin nhắn thật được gửi.",
                    'On the Pi set [modem] port = "/dev/serial0" (the HAT).',
                    'Trên máy Pi đặt [modem] port = "/dev/serial0".', **facts)
    return _ok("modem", f"Modem answers: {summary}.", f"Modem trả lời: {summary}.", **facts)


# What the running gateway's health row says, as (status, English, Vietnamese, fix, sửa); see
# sms/health.py for the states. {model}, {error}… come from the row.
_GATEWAY_STATES = {
    "rebooting": (WARN, "Modem on {port} is rebooting or its port is re-enumerating ({error}); sending resumes by itself.",
                  "Modem ở {port} đang khởi động lại; sẽ tự gửi tiếp.",
                  "If this repeats, give the HAT a stronger 5 V supply (it reboots on brown-outs).",
                  "Nếu lặp lại, dùng nguồn 5 V khoẻ hơn cho modem."),
    "unregistered": (WARN, "Modem on {port} lost the network ({error}); SMS are held, no attempt is spent.",
                     "Modem ở {port} mất sóng mạng; tin nhắn được giữ lại.",
                     "Check the antenna and that the SIM is active with the carrier.",
                     "Kiểm tra ăng-ten và SIM còn hoạt động."),
    "recovering": (WARN, "Modem on {port} does not answer; the gateway is recovering it ({error}). SMS stay queued.",
                   "Modem ở {port} không trả lời; đang khôi phục. Tin nhắn được giữ.",
                   "Wait a minute; if it ends dead, power-cycle the modem.", "Chờ một phút; nếu vẫn lỗi, tắt/bật lại modem."),
    "sim_locked": (FAIL, "The SIM in the modem on {port} asks for its PIN.", "SIM ở {port} đòi mã PIN.",
                   "Set [modem] sim_pin in tdp.toml, or remove the PIN in a phone.",
                   "Điền [modem] sim_pin trong tdp.toml, hoặc bỏ mã PIN bằng điện thoại."),
    "no_sim": (FAIL, "The modem on {port} has no SIM card that answers.", "Modem ở {port} không có SIM.",
               "Power off, seat the SIM; SMS wait in the queue meanwhile.", "Tắt máy, lắp lại SIM; tin nhắn được giữ."),
    "dead": (FAIL, "Modem on {port} is dead after every recovery step ({error}); SMS stay queued.",
             "Modem ở {port} không hoạt động; tin nhắn được giữ trong hàng đợi.",
             "Seat the HAT, check its power LED, then restart tdp-gateway.",
             "Kiểm tra mạch modem và đèn nguồn, rồi khởi động lại tdp-gateway."),
}


def gateway_modem_check(config) -> Check:
    """The modem as the running gateway reports it (its health rows): one line for the worst."""
    from kiosk.appliance.store import open_store
    from sms import health as modem_health
    try:
        with open_store(config.storage.path) as db:
            rows = modem_health.rows(db)
    except Exception as exc:  # the store is checked on its own; say only what this check knows
        rows, problem = [], str(exc)
    else:
        problem = "no modem has reported yet"
    order = ["dead", "no_sim", "sim_locked", "recovering", "unregistered", "rebooting"]
    worst = min(rows, key=lambda r: order.index(r["state"]) if r["state"] in order else len(order), default=None)
    if worst is None:
        return _bad("modem", WARN, f"The SMS gateway is running but {problem}.", "Dịch vụ SMS đang chạy nhưng chưa có modem báo.",
                    "Wait a minute, then see `tdp sms status`.", "Chờ một phút, rồi xem `tdp sms status`.")
    facts = {key: worst[key] for key in ("port", "state", "model", "operator", "registration", "signal", "last_error")}
    if worst["state"] in _GATEWAY_STATES:
        status, en, vi, fix_en, fix_vi = _GATEWAY_STATES[worst["state"]]
        error = (worst["last_error"] or "no detail").splitlines()[0][:160]
        return _bad("modem", status, en.format(port=worst["port"], error=error), vi.format(port=worst["port"]),
                    fix_en, fix_vi, **facts)
    summary = (f"{worst['model'] or 'modem'} on {worst['port']}: {worst['state']}, {worst['registration'] or '?'} "
               f"on {worst['operator'] or '?'}, signal {worst['signal'] if worst['signal'] is not None else '?'}/31")
    return _ok("modem", f"The SMS gateway owns the modem: {summary}.", f"Dịch vụ SMS giữ modem: {summary}.", **facts)


PRINTER_STATES = {3: "idle", 4: "printing", 5: "stopped"}


def check_printer(config) -> Check:
    queue = config.printer.queue
    if not queue:
        return _ok("printer", "PDF mode, no printer: receipts are saved as PDF files.",
                   "Không dùng máy in: phiếu được lưu thành tệp PDF.", mode="pdf")
    try:
        import cups
        printers = cups.Connection().getPrinters()
    except (ImportError, RuntimeError) as exc:
        return _bad("printer", FAIL, f"CUPS is not reachable ({exc}); receipts are saved as PDF meanwhile.",
                    "Không kết nối được CUPS; phiếu tạm lưu PDF.", "Start CUPS: `sudo systemctl start cups`.",
                    "Khởi động CUPS: `sudo systemctl start cups`.")
    if queue not in printers:
        known = ", ".join(printers) or "none"
        return _bad("printer", FAIL, f"CUPS queue {queue!r} does not exist (queues: {known}).",
                    f"Không có hàng in {queue!r}.",
                    "Plug the printer in and run `tdp firstboot`, or fix [printer] queue.",
                    "Cắm máy in rồi chạy `tdp firstboot`, hoặc sửa [printer] queue.")
    attributes = printers[queue]
    state = PRINTER_STATES.get(attributes.get("printer-state"), "unknown")
    reasons = [r for r in attributes.get("printer-state-reasons", []) if r != "none"]
    facts = dict(queue=queue, state=state, reasons=reasons, device=attributes.get("device-uri", ""))
    if state == "stopped" or not attributes.get("printer-is-accepting-jobs", True):
        return _bad("printer", FAIL, f"Printer {queue!r} is stopped ({', '.join(reasons) or 'no reason given'}).",
                    f"Máy in {queue!r} đang dừng.", f"Fix the printer (paper, cover), then `cupsenable {queue}`.",
                    f"Sửa máy in (giấy, nắp), rồi chạy `cupsenable {queue}`.", **facts)
    if reasons:
        return _bad("printer", WARN, f"Printer {queue!r} is {state} with: {', '.join(reasons)}.",
                    f"Máy in {queue!r}: {', '.join(reasons)}.", "Check paper and cable.",
                    "Kiểm tra giấy và cáp.", **facts)
    return _ok("printer", f"Printer {queue!r} is {state}.", f"Máy in {queue!r} sẵn sàng.", **facts)


def is_raspberry_pi() -> bool:
    try:
        return "raspberry pi" in Path("/proc/device-tree/model").read_text(errors="replace").lower()
    except OSError:
        return False


def check_gpio(config) -> Check:
    chips = sorted(str(p) for p in Path("/dev").glob("gpiochip*"))
    if not config.gpio.enabled:
        if is_raspberry_pi():
            return _bad("gpio", WARN, "This is a Raspberry Pi but [gpio] enabled = false: no button or LEDs.",
                        "Đây là máy Pi nhưng GPIO đang tắt: không có nút gọi và đèn báo.",
                        "Set [gpio] enabled = true.", "Đặt [gpio] enabled = true.")
        return _bad("gpio", WARN, "No GPIO here (not a Raspberry Pi): the help button and status LEDs are off.",
                    "Máy này không có GPIO: nút gọi tình nguyện viên và đèn báo không hoạt động.",
                    "Nothing to do on a desktop; on the Pi set [gpio] enabled = true.",
                    "Không cần làm gì trên máy tính; trên máy Pi đặt [gpio] enabled = true.", chips=chips)
    if not chips:
        return _bad("gpio", FAIL, "[gpio] enabled but /dev/gpiochip* is missing.",
                    "Bật GPIO nhưng không thấy /dev/gpiochip*.",
                    "Run on a Raspberry Pi, or set [gpio] enabled = false.", "Chạy trên máy Pi, hoặc tắt [gpio].")
    try:
        from gpiozero import Device
        Device.ensure_pin_factory()
        factory = type(Device.pin_factory).__name__
    except Exception as exc:  # gpiozero raises BadPinFactory (an ImportError) and friends
        return _bad("gpio", FAIL, f"No GPIO library works: {exc}", f"Không nạp được thư viện GPIO: {exc}",
                    "Install lgpio in the venv (`/opt/tdp/.venv/bin/pip install lgpio`).",
                    "Cài lgpio vào môi trường Python.", chips=chips)
    return _ok("gpio", f"GPIO available ({factory}, {', '.join(chips)}).", "GPIO sẵn sàng.",
               chips=chips, factory=factory)


def check_clock(now: datetime | None = None) -> Check:
    now = now or datetime.now(timezone.utc)
    result = _run(["timedatectl", "show", "-p", "NTPSynchronized", "--value"], timeout=5)
    synced = result.stdout.strip() if result is not None and result.returncode == 0 else None
    facts = dict(now=now.isoformat(timespec="seconds"), ntp_synchronized=synced)
    if now.year < RELEASE_YEAR:
        return _bad("clock", FAIL, f"The clock says {now:%Y-%m-%d}: it was never set (the Pi has no clock battery).",
                    f"Đồng hồ đang là {now:%d/%m/%Y}: chưa được đặt giờ (máy Pi không có pin đồng hồ).",
                    "Connect to the internet so NTP sets it, or fit an RTC module.",
                    "Kết nối Internet để tự đặt giờ, hoặc lắp mô-đun đồng hồ RTC.", **facts)
    if synced == "no":
        return _bad("clock", WARN, f"Clock {now:%Y-%m-%d %H:%M} UTC not confirmed by NTP yet.",
                    "Đồng hồ chưa được đồng bộ qua mạng.", "Check the internet connection.",
                    "Kiểm tra kết nối Internet.", **facts)
    note = "NTP synchronised" if synced == "yes" else "NTP state not available here"
    return _ok("clock", f"Clock {now:%Y-%m-%d %H:%M} UTC looks right ({note}).", "Đồng hồ hợp lý.", **facts)


def check_disk(config) -> Check:
    folder = Path(config.storage.path).expanduser().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    facts = dict(path=str(folder), free_bytes=usage.free, total_bytes=usage.total)
    free = f"{usage.free / 2**30:.1f} GiB free of {usage.total / 2**30:.1f} GiB"
    if usage.free < DISK_FAIL_BYTES:
        return _bad("disk", FAIL, f"Disk nearly full at {folder}: {free}.", f"Thẻ nhớ gần đầy: {free}.",
                    "Delete old receipts/PDFs or use a bigger SD card.", "Xóa phiếu cũ hoặc dùng thẻ nhớ lớn hơn.",
                    **facts)
    if usage.free < DISK_WARN_BYTES:
        return _bad("disk", WARN, f"Disk space low at {folder}: {free}.", f"Thẻ nhớ sắp đầy: {free}.",
                    "Delete old receipts/PDFs.", "Xóa bớt phiếu cũ.", **facts)
    return _ok("disk", f"Disk {folder}: {free}.", f"Dung lượng còn {usage.free / 2**30:.1f} GiB.", **facts)


def check_sdcard(config, *, mounts_file: Path = Path("/proc/self/mounts"), sys_root: Path = Path("/sys"),
                 uptime_file: Path = Path("/proc/uptime")) -> Check:
    """Read-only remount, overlayroot (and the store on a writable partition under it), write rate."""
    from kiosk.appliance import sdcard
    folder = Path(config.storage.path).expanduser().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    table = sdcard.mounts(mounts_file)
    mount = sdcard.mount_of(folder, table)
    overlay = sdcard.overlayroot(table)
    rate = sdcard.write_rate(folder, sys_root, uptime_file)
    facts = dict(path=str(folder), mount=mount.point if mount else None, device=mount.device if mount else None,
                 read_only=bool(mount and mount.read_only), overlayroot=overlay, write=rate)
    overlay_text = "overlayroot on" if overlay else "overlayroot off"
    if mount and mount.read_only:
        return _bad("sdcard", FAIL, f"{mount.point} ({mount.device}) is mounted read-only: the card may be failing; "
                    f"nothing can be saved.", f"Thẻ nhớ ({mount.point}) chỉ đọc: có thể thẻ sắp hỏng, không lưu được.",
                    "Take a backup to a USB stick now (`tdp backup now`), then replace the SD card and restore.",
                    "Sao lưu ngay ra USB (`tdp backup now`), rồi thay thẻ nhớ và khôi phục.", **facts)
    if overlay and mount is not None and mount.fstype in ("overlay", "tmpfs"):
        return _bad("sdcard", FAIL, f"overlayroot is on but the store {folder} is on the overlay: every change is "
                    f"lost at the next reboot.", "Gốc chỉ đọc nhưng dữ liệu nằm trên lớp tạm: mất hết khi khởi động lại.",
                    "Put /var/lib/tdp on the data partition (images/build.sh TDP_READONLY_ROOT=1).",
                    "Đặt /var/lib/tdp trên phân vùng dữ liệu.", **facts)
    written = ""
    if rate is not None:
        written = f", {rate['bytes_per_day'] / 2**20:.0f} MiB/day written since boot"
        if rate["bytes_per_day"] > WRITE_WARN_BYTES_PER_DAY:
            return _bad("sdcard", WARN, f"The card takes {rate['bytes_per_day'] / 2**30:.1f} GiB a day of writes "
                        f"({overlay_text}): it will wear out early.", "Thẻ nhớ bị ghi quá nhiều mỗi ngày: sẽ nhanh hỏng.",
                        "Find the process writing (`sudo iotop -ao`); consider overlayroot (read-only root).",
                        "Tìm tiến trình ghi nhiều; cân nhắc bật gốc chỉ đọc (overlayroot).", **facts)
    return _ok("sdcard", f"SD card writable ({overlay_text}{written}).",
               f"Thẻ nhớ ghi được ({'gốc chỉ đọc' if overlay else 'gốc ghi được'}).", **facts)


def check_backup(config, now: datetime | None = None) -> Check:
    """When the last good backup was taken; warn after [backup] warn_after_hours, or if none."""
    from kiosk.appliance import backup, backup_places, sdcard
    now = now or datetime.now(timezone.utc)
    data_dir = Path(config.storage.path).expanduser().parent
    last = backup.last_good(data_dir)
    stick = backup_places.find_stick(config)
    facts = dict(last_good=last, stick=str(stick) if stick else None)
    if last is None:
        return _bad("backup", WARN, "No backup has been taken yet.", "Chưa có bản sao lưu nào.",
                    f"Plug in a USB stick labelled {config.backup.usb_label} and run `tdp backup now` "
                    "(the nightly tdp-backup.timer then keeps it up to date).",
                    f"Cắm USB có nhãn {config.backup.usb_label} rồi chạy `tdp backup now`.", **facts)
    taken = datetime.fromisoformat(last["created"])
    age_hours = (now - taken).total_seconds() / 3600
    facts["age_hours"] = round(age_hours, 1)
    when = f"{taken:%Y-%m-%d %H:%M} UTC ({age_hours:.0f} h ago) to {last['destination']} {last['file']}"
    if age_hours > config.backup.warn_after_hours:
        return _bad("backup", WARN, f"Last good backup {when}: older than {config.backup.warn_after_hours} h.",
                    f"Bản sao lưu tốt gần nhất đã cũ ({age_hours / 24:.0f} ngày).",
                    "Check tdp-backup.timer (`systemctl status tdp-backup.timer`) and the stick; run `tdp backup now`.",
                    "Kiểm tra USB sao lưu, rồi chạy `tdp backup now`.", **facts)
    if last["destination"] != "usb" and sdcard.same_device(Path(last["file"]).parent, data_dir):
        return _bad("backup", WARN, f"Last good backup {when}, but on the SD card itself: a dead card takes it too.",
                    "Bản sao lưu nằm ngay trên thẻ nhớ: thẻ hỏng là mất cả hai.",
                    f"Plug in a USB stick labelled {config.backup.usb_label} (or with a tdp-backup.marker file), "
                    "or set [backup] folder on another disk.",
                    f"Cắm USB có nhãn {config.backup.usb_label} để sao lưu ra ngoài.", **facts)
    return _ok("backup", f"Last good backup {when}.", f"Sao lưu tốt gần nhất: {taken:%d/%m/%Y %H:%M} UTC.", **facts)


def check_hub(config, timeout: float = 5.0) -> Check:
    url = config.hub.url
    if not url:
        return _ok("hub", "No hub configured: this kiosk runs standalone.", "Không cấu hình máy chủ: chạy độc lập.")
    import requests
    try:
        response = requests.get(url, timeout=timeout, verify=config.hub.ca_bundle or True, allow_redirects=False)
    except requests.exceptions.SSLError as exc:
        return _bad("hub", FAIL, f"Hub {url}: TLS certificate refused ({exc.__class__.__name__}).",
                    f"Máy chủ {url}: chứng chỉ TLS bị từ chối.", "Check the clock and [hub] ca_bundle.",
                    "Kiểm tra đồng hồ và [hub] ca_bundle.")
    except requests.exceptions.RequestException as exc:
        reason = re.sub(r"\s+", " ", str(exc))[:160]
        return _bad("hub", FAIL, f"Hub {url} unreachable: {reason}", f"Không tới được máy chủ {url}.",
                    "Check Wi-Fi/cable and [hub] url.", "Kiểm tra Wi-Fi/cáp mạng và [hub] url.")
    if response.status_code >= 500:
        return _bad("hub", WARN, f"Hub {url} answers with HTTP {response.status_code}.",
                    f"Máy chủ {url} báo lỗi {response.status_code}.", "Tell the ward's IT person.",
                    "Báo cán bộ kỹ thuật của phường.", status=response.status_code)
    return _ok("hub", f"Hub {url} reachable (HTTP {response.status_code}).", f"Tới được máy chủ {url}.",
               status=response.status_code)


def check_voice(config) -> Check:
    if config.voice.engine == "none":
        return _ok("voice", "Speech is off ([voice] engine = none).", "Đọc to đang tắt.")
    result = _run(["espeak-ng", "--voices=vi"], timeout=10)
    if result is None or result.returncode != 0:
        return _bad("voice", WARN, "espeak-ng is not installed: screens are not read aloud.",
                    "Chưa cài espeak-ng: không đọc to được.", "apt-get install espeak-ng", "Cài gói espeak-ng.")
    if not re.search(r"\svi\s", result.stdout):
        return _bad("voice", WARN, "espeak-ng has no Vietnamese voice.", "espeak-ng thiếu giọng tiếng Việt.",
                    "apt-get install espeak-ng-data", "Cài gói espeak-ng-data.")
    return _ok("voice", "Vietnamese voice available (espeak-ng).", "Có giọng đọc tiếng Việt.")


def _guarded(name: str, function: Callable[[], Check]) -> Check:
    try:
        return function()
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
        if os.environ.get("DEBUG") not in (None, "", "0"):
            raise
        message = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        return _bad(name, FAIL, f"Check crashed: {message}", f"Lỗi khi kiểm tra: {message}",
                    "Run `DEBUG=1 tdp doctor` and report the traceback.", "Báo lỗi này cho kỹ thuật viên.")


def run_checks(config_path: str | None = None) -> list[Check]:
    """Every check, in the order an installer would fix things."""
    first, config = check_config(config_path)
    checks = [first]
    for name, function in (("store", lambda: check_store(config)), ("modem", lambda: check_modem(config)),
                           ("printer", lambda: check_printer(config)), ("gpio", lambda: check_gpio(config)),
                           ("clock", check_clock), ("disk", lambda: check_disk(config)),
                           ("sdcard", lambda: check_sdcard(config)), ("backup", lambda: check_backup(config)),
                           ("hub", lambda: check_hub(config)), ("voice", lambda: check_voice(config))):
        checks.append(_guarded(name, function))
    return checks


def as_json(checks: list[Check]) -> dict:
    counts = {status: sum(c.status == status for c in checks) for status in (OK, WARN, FAIL)}
    return {"ok": counts[FAIL] == 0, "summary": counts, "checks": [asdict(c) for c in checks]}


def render(checks: list[Check]) -> str:
    counts = as_json(checks)["summary"]
    lines = [f"tdp doctor: {counts[OK]} ok, {counts[WARN]} warn, {counts[FAIL]} fail"]
    for check in checks:
        lines.append(f"[{check.status.upper():>4}] {check.name:<8} {check.en}")
        lines.append(f"{'':16}{check.vi}")
        if check.fix_en:
            lines.append(f"{'':16}Fix: {check.fix_en}")
            lines.append(f"{'':16}Sửa: {check.fix_vi}")
    return "\n".join(lines)
