"""First-boot provisioning from the SD card's boot partition into a root file system.

Reads BOOT (normally /boot/firmware): tdp.toml, optional contacts.xlsx, volunteers.xlsx,
wifi.toml / wifi.txt and tdp-backup-passphrase.txt (a fresh card is restored from the newest
backup on the USB stick: kiosk.appliance.boot_restore). Writes into ROOT (normally /, a scratch directory in tests and in
`make image-check`): /etc/tdp/tdp.toml, the NetworkManager Wi-Fi keyfile, the time zone, the
HAT's UART in config.txt/cmdline.txt, the CUPS queue, the enabled services. Every part is
checked first; a broken part is refused with the file, key and fix named, and the rest still
runs. It only writes what differs, so a second run changes nothing and says so. The outcome
goes to BOOT/tdp-firstboot-report.txt in Vietnamese and English, for an official's laptop.
"""
from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import tomllib
import zoneinfo
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from kiosk.appliance import config as config_module
from kiosk.appliance.boot_restore import provision_restore
from kiosk.appliance.bootfiles import edit_cmdline, edit_config_txt, read_wifi, wifi_keyfile, wifi_problems
from kiosk.errors import TdpError

APPLIANCE_STORE = "/var/lib/tdp/tdp.sqlite3"
INSTALLED_CONFIG = "etc/tdp/tdp.toml"
REPORT_NAME = "tdp-firstboot-report.txt"
STATE_FILE = "var/lib/tdp/firstboot-state.json"
REBOOT_FLAG = "run/tdp-firstboot.reboot"
UNITS_DIR = Path(__file__).resolve().parents[2] / "provisioning" / "systemd"
SERVICES = ("tdp-firstboot.service", "tdp-gateway.service", "tdp-kiosk.service", "tdp-sync.service",
            "tdp-remind.service", "tdp-remind.timer", "tdp-backup.service", "tdp-backup.timer",
            "tdp-upgrade.service", "tdp-upgrade.timer")
PAPER_MEDIA = {"58mm": "Custom.58x297mm", "80mm": "Custom.80x297mm", "a5": "A5", "a4": "A4"}

CHANGED, UNCHANGED, SKIPPED, WARNING, FAILED = "changed", "unchanged", "skipped", "warning", "failed"
LABELS = {CHANGED: "ĐÃ LÀM / DONE", UNCHANGED: "KHÔNG ĐỔI / UNCHANGED", SKIPPED: "BỎ QUA / SKIPPED",
          WARNING: "LƯU Ý / WARNING", FAILED: "LỖI / FAILED"}


@dataclass
class Step:
    """One part of provisioning: its outcome and a sentence in each language saying what to do."""
    part: str
    status: str
    en: str
    vi: str
    where: str = ""


@dataclass
class Outcome:
    boot: str
    root: str
    steps: list[Step] = field(default_factory=list)
    reboot_required: bool = False

    @property
    def failed(self) -> bool:
        return any(s.status == FAILED for s in self.steps)

    @property
    def changed(self) -> bool:
        return any(s.status == CHANGED for s in self.steps)

    def add(self, part, status, en, vi, where="") -> Step:
        where = str(where)
        for base, prefix in ((self.boot, ""), (self.root, "/")):
            if base and where.startswith(base.rstrip("/") + "/"):
                where = prefix + where[len(base.rstrip("/")) + 1:]
                break
        step = Step(part, status, en, vi, where)
        self.steps.append(step)
        return step

    def as_dict(self) -> dict:
        return {"boot": self.boot, "root": self.root, "ok": not self.failed, "changed": self.changed,
                "reboot_required": self.reboot_required, "steps": [asdict(s) for s in self.steps]}


def write_if_changed(path: Path, content: str | bytes, mode: int = 0o644) -> bool:
    """Write `content` to `path` (atomically) unless it is already there; fix the mode either way.
    Returns True if the content changed."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
        if (path.stat().st_mode & 0o7777) != mode:
            path.chmod(mode)
        return False
    temporary = path.with_name(f".{path.name}.tdp-new")
    temporary.write_bytes(data)
    temporary.chmod(mode)
    os.replace(temporary, path)
    return True


def symlink_if_changed(path: Path, target: str) -> bool:
    """Make `path` a symlink to `target` (a path as seen from inside the root); True if changed."""
    if path.is_symlink() and os.readlink(path) == target:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    path.symlink_to(target)
    return True


def inside(root: Path, path: str) -> Path:
    """`path` as an absolute path in the appliance, mapped into `root`."""
    return root / path.lstrip("/")


def _lookup(root: Path, file: str, name: str) -> int | None:
    """uid/gid of `name` from ROOT/etc/passwd or /etc/group (not the host's databases)."""
    try:
        for line in (root / file).read_text(encoding="utf-8").splitlines():
            fields = line.split(":")
            if len(fields) > 2 and fields[0] == name:
                return int(fields[2])
    except (OSError, ValueError):
        pass
    return None


def _chown(path: Path, uid: int | None, gid: int | None) -> None:
    if os.geteuid() == 0 and (uid is not None or gid is not None) and path.exists():
        os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)


# --- the parts ---------------------------------------------------------------------------------

def check_config(raw: dict, source: str) -> list[str]:
    """Problems that typing alone cannot catch, each naming the key; empty if the config is usable."""
    from kiosk.appliance.config_checks import problems
    found = problems(config_module.from_dict(raw, source))
    storage = raw.get("storage", {}).get("path")
    if storage is not None and not storage.startswith("/"):
        found.append(f"storage.path: {storage!r} must be an absolute path on the appliance")
    return found


def provision_config(boot: Path, root: Path, out: Outcome) -> config_module.Config | None:
    """Validate BOOT/tdp.toml and install it; returns the config in force (new, else old, else None)."""
    source, target = boot / "tdp.toml", inside(root, INSTALLED_CONFIG)
    previous = None
    if target.is_file():
        try:
            previous = config_module.load(target)
        except TdpError:
            previous = None
    if not source.is_file():
        if previous:
            out.add("config", UNCHANGED, f"No tdp.toml on the boot partition; keeping {target.relative_to(root)}.",
                    "Không có tdp.toml trên thẻ nhớ; giữ cấu hình đang dùng.", source)
        else:
            out.add("config", FAILED, "No tdp.toml on the boot partition: copy provisioning/tdp.example.toml "
                    "there as tdp.toml, edit it, and boot again.",
                    "Thiếu tệp tdp.toml trên thẻ nhớ: chép tệp mẫu tdp.example.toml thành tdp.toml, sửa, "
                    "rồi khởi động lại.",
                    source)
        return previous
    text = source.read_text(encoding="utf-8-sig")
    try:
        raw = tomllib.loads(text)
        problems = check_config(raw, source.name)
    except tomllib.TOMLDecodeError as exc:
        problems = [f"not valid TOML: {exc}"]
    except TdpError as exc:
        problems = [str(exc).removeprefix(f"{source.name}: ")]
    if problems:
        kept = "the previous config stays in force" if previous else "the kiosk stays off until it is fixed"
        kept_vi = "vẫn dùng cấu hình cũ" if previous else "kiosk chưa chạy cho đến khi sửa xong"
        out.add("config", FAILED, f"tdp.toml refused, {kept}. Fix: " + "; ".join(problems),
                f"tdp.toml bị từ chối, {kept_vi}. Cần sửa: " + "; ".join(problems), source)
        return previous
    if "path" not in raw.get("storage", {}):
        if "storage" in raw:
            text = re.sub(r"(?m)^\[storage\][ \t]*$", f'[storage]\npath = "{APPLIANCE_STORE}"', text, count=1)
        else:
            text = text.rstrip("\n") + f'\n\n# Added by first boot: the store on the writable partition.\n' \
                                       f'[storage]\npath = "{APPLIANCE_STORE}"\n'
    if "path" not in tomllib.loads(text).get("storage", {}):
        out.add("config", FAILED, f'tdp.toml: add path = "{APPLIANCE_STORE}" under [storage].',
                f'tdp.toml: thêm path = "{APPLIANCE_STORE}" vào mục [storage].', source)
        return previous
    changed = write_if_changed(target, text, 0o640)
    _chown(target, 0, _lookup(root, "etc/group", "tdp"))
    _chown(target.parent, 0, _lookup(root, "etc/group", "tdp"))
    target.parent.chmod(0o750)
    config = config_module.from_dict(tomllib.loads(text), str(target))
    if changed:
        out.add("config", CHANGED, f"Config checked and installed to /{INSTALLED_CONFIG}.",
                f"Đã kiểm tra và cài cấu hình vào /{INSTALLED_CONFIG}.", source)
    else:
        out.add("config", UNCHANGED, "Config already installed.", "Cấu hình đã được cài từ trước.", source)
    return config


def provision_wifi(boot: Path, root: Path, out: Outcome, live: bool) -> str | None:
    """Install the Wi-Fi keyfile; returns the regulatory country code to put on the kernel line."""
    try:
        source, settings = read_wifi(boot)
    except TdpError as exc:
        out.add("wifi", FAILED, f"Wi-Fi file refused: {exc}", f"Tệp Wi-Fi bị từ chối: {exc}", boot / "wifi.*")
        return None
    if source is None:
        out.add("wifi", SKIPPED, "No wifi.toml or wifi.txt: using Ethernet or the Wi-Fi already set up.",
                "Không có tệp wifi.toml/wifi.txt: dùng cáp mạng hoặc Wi-Fi đã cài.", boot)
        return None
    problems = wifi_problems(settings)
    if problems:
        out.add("wifi", FAILED, "Wi-Fi settings refused. Fix: " + "; ".join(problems),
                "Cài đặt Wi-Fi bị từ chối. Cần sửa: " + "; ".join(problems), source)
        return None
    target = inside(root, "etc/NetworkManager/system-connections/tdp-wifi.nmconnection")
    changed = write_if_changed(target, wifi_keyfile(settings), 0o600)
    _chown(target, 0, 0)
    ssid = settings["ssid"]
    if changed:
        out.add("wifi", CHANGED, f"Wi-Fi network {ssid!r} set up.", f"Đã cài mạng Wi-Fi {ssid!r}.", source)
        if live and shutil.which("nmcli"):
            subprocess.run(["nmcli", "connection", "reload"], capture_output=True, timeout=30)
    else:
        out.add("wifi", UNCHANGED, f"Wi-Fi network {ssid!r} already set up.", f"Wi-Fi {ssid!r} đã cài từ trước.",
                source)
    return str(settings.get("country", "VN"))


def provision_timezone(root: Path, out: Outcome, name: str) -> None:
    changed = write_if_changed(inside(root, "etc/timezone"), name + "\n")
    changed |= symlink_if_changed(inside(root, "etc/localtime"), f"/usr/share/zoneinfo/{name}")
    out.add("timezone", CHANGED if changed else UNCHANGED, f"Time zone {name}.", f"Múi giờ {name}.",
            "/etc/localtime")


def provision_uart(root: Path, out: Outcome, country: str | None) -> None:
    firmware = inside(root, "boot/firmware")
    config_txt, cmdline = firmware / "config.txt", firmware / "cmdline.txt"
    old = config_txt.read_text(encoding="utf-8") if config_txt.is_file() else ""
    mode = config_txt.stat().st_mode & 0o777 if old else 0o644
    changed = write_if_changed(config_txt, edit_config_txt(old), mode)
    if cmdline.is_file():
        changed |= write_if_changed(cmdline, edit_cmdline(cmdline.read_text(encoding="utf-8"), country),
                                    cmdline.stat().st_mode & 0o777)
    # disable-bt frees the PL011 from Bluetooth; its helper service would only fail on every boot
    changed |= symlink_if_changed(inside(root, "etc/systemd/system/hciuart.service"), "/dev/null")
    if changed:
        out.reboot_required = True
        out.add("uart", CHANGED,
                "Serial port for the modem HAT enabled, serial console off (takes effect after a reboot).",
                "Đã bật cổng nối tiếp cho modem, tắt console nối tiếp (có hiệu lực sau khi khởi động lại).", config_txt)
    else:
        out.add("uart", UNCHANGED, "Serial port for the modem HAT already enabled.",
                "Cổng nối tiếp cho modem đã bật từ trước.", config_txt)
    if not cmdline.is_file():
        out.add("uart", WARNING, "No cmdline.txt found: could not turn off the serial console.",
                "Không thấy cmdline.txt: chưa tắt được console nối tiếp.", cmdline)


def _usb_printers(run) -> list[tuple[str, str, str]]:
    """(uri, make-and-model, device-id) of USB printers CUPS can see, from `lpinfo -l -v`."""
    result = run(["lpinfo", "-l", "-v", "--include-schemes", "usb"], capture_output=True, text=True, timeout=60)
    printers, current = [], None
    for line in result.stdout.splitlines():
        key, _, value = line.strip().partition(" = ")
        if key == "Device: uri":
            current = {"uri": value}
            printers.append(current)
        elif current is not None:
            current[key] = value
    return [(p["uri"], p.get("make-and-model", ""), p.get("device-id", "")) for p in printers
            if p["uri"].startswith("usb://")]


def provision_printer(root: Path, out: Outcome, config, live: bool, run=subprocess.run) -> None:
    """The CUPS queue for the thermal printer: created on the Pi (live), described in a scratch root."""
    queue = config.printer.queue if config else ""
    if not queue:
        out.add("printer", SKIPPED, 'printer.queue is "": PDF mode, no printer; receipts are saved as PDF files.',
                'printer.queue để trống: không dùng máy in, phiếu được lưu thành tệp PDF.', "tdp.toml [printer]")
        return
    options = ["-o", f"media={PAPER_MEDIA[config.printer.paper]}", "-o", "printer-is-shared=false"]
    if not live:
        plan = (f"lpadmin -p {queue} -E -v <USB printer found at boot> -m <CUPS driver for its device ID> "
                + " ".join(options) + "\n")
        changed = write_if_changed(inside(root, "var/lib/tdp/firstboot/lpadmin.txt"), plan)
        out.add("printer", CHANGED if changed else UNCHANGED,
                f"CUPS queue {queue!r} will be created on the Pi: {plan.strip()}",
                f"Hàng in CUPS {queue!r} sẽ được tạo trên máy Pi.", "/var/lib/tdp/firstboot/lpadmin.txt")
        return
    if run(["lpstat", "-v", queue], capture_output=True, timeout=30).returncode == 0:
        out.add("printer", UNCHANGED, f"CUPS queue {queue!r} already exists.", f"Hàng in {queue!r} đã có.", queue)
        return
    printers = _usb_printers(run)
    if not printers:
        out.add("printer", WARNING, f"No USB printer found for queue {queue!r}: plug it in and reboot. "
                "Until then receipts are saved as PDF and the kiosk works.",
                f"Không thấy máy in USB cho hàng in {queue!r}: cắm máy in rồi khởi động lại. "
                "Trong lúc đó phiếu được lưu PDF, kiosk vẫn chạy.", queue)
        return
    uri, model, device_id = printers[0]
    drivers = run(["lpinfo", "--device-id", device_id, "-m"], capture_output=True, text=True, timeout=60)
    driver = drivers.stdout.split()[0] if drivers.stdout.split() else ""
    if not driver:
        out.add("printer", WARNING, f"No CUPS driver for {model or uri}: install the printer's driver package, "
                "then run `tdp firstboot` again.", f"Chưa có trình điều khiển CUPS cho {model or uri}: "
                "cài trình điều khiển máy in rồi chạy lại `tdp firstboot`.", uri)
        return
    result = run(["lpadmin", "-p", queue, "-E", "-v", uri, "-m", driver, *options],
                 capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        out.add("printer", FAILED, f"lpadmin failed for {queue!r}: {result.stderr.strip()}",
                f"Không tạo được hàng in {queue!r}: {result.stderr.strip()}", uri)
        return
    out.add("printer", CHANGED, f"CUPS queue {queue!r} created for {model or uri}.",
            f"Đã tạo hàng in {queue!r} cho {model or uri}.", uri)


def provision_services(root: Path, out: Outcome, config) -> None:
    """Install the units into /etc/systemd/system and enable them (the symlinks `systemctl enable` makes)."""
    system = inside(root, "etc/systemd/system")
    enabled = {"tdp-firstboot.service", "tdp-gateway.service", "tdp-kiosk.service", "tdp-remind.timer",
               "tdp-backup.timer"}
    if config and config.hub.url:
        enabled.add("tdp-upgrade.timer")
    if config and config.hub.url:
        enabled.add("tdp-sync.service")
    changed = False
    for unit in SERVICES:
        changed |= write_if_changed(system / unit, (UNITS_DIR / unit).read_bytes())
        # timers are wanted by timers.target, services by multi-user.target (their [Install])
        link = system / ("timers.target.wants" if unit.endswith(".timer") else "multi-user.target.wants") / unit
        if unit in enabled:
            changed |= symlink_if_changed(link, f"/etc/systemd/system/{unit}")
        elif link.is_symlink():
            link.unlink()
            changed = True
    # the kiosk owns tty1: a login prompt there would fight it for the screen
    changed |= symlink_if_changed(system / "getty@tty1.service", "/dev/null")
    names = ", ".join(sorted(enabled))
    out.add("services", CHANGED if changed else UNCHANGED, f"Services enabled: {names}.",
            f"Dịch vụ được bật: {names}.", "/etc/systemd/system")


def _summary(report) -> str:
    """One line saying what an import did, from whatever report object the importer returns."""
    text = getattr(report, "text", None)
    if callable(text):
        first = str(text()).splitlines()[0]
        return re.sub(r"^[^:]*: (imported )?", "", first)   # "contacts.xlsx: imported 2 added, …"
    data = report.as_dict() if callable(getattr(report, "as_dict", None)) else report
    if isinstance(data, dict):
        return ", ".join(f"{k} {v}" for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool))
    return str(report)


def _rejected_rows(report) -> list[str]:
    rejected = getattr(report, "rejected", None)
    if isinstance(report, dict):
        rejected = report.get("rejects") or report.get("rejected")
    if not isinstance(rejected, list):
        return []
    return [f"{getattr(r, 'row', '')}: {getattr(r, 'reason', r)}" if not isinstance(r, dict)
            else f"{r.get('row', '')}: {r.get('reason', '')}" for r in rejected]


def _importer(module_name: str, names: tuple[str, ...]):
    """The list importer a domain module offers, or None when this version has none."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return next((getattr(module, n) for n in names if callable(getattr(module, n, None))), None)


def _call_importer(importer, database, file: Path, config, rejects_dir: Path):
    wanted = {"residential_group": config.site.residential_group, "rejects_dir": rejects_dir}
    accepted = inspect.signature(importer).parameters
    return importer(database, file, **{k: v for k, v in wanted.items() if k in accepted})


LISTS = (("contacts.xlsx", "kiosk.directory.contacts", ("import_contacts", "import_file"), "contacts"),
         ("volunteers.xlsx", "kiosk.volunteers.people", ("import_volunteers", "import_file"), "volunteers"))


def provision_lists(boot: Path, root: Path, out: Outcome, config, state: dict) -> None:
    """Import contacts.xlsx and volunteers.xlsx once per distinct file (by SHA-256)."""
    # lexists: a list that is a symlink to a device is refused below, not silently skipped.
    wanted = [entry for entry in LISTS if os.path.lexists(boot / entry[0])]
    if not wanted:
        out.add("lists", SKIPPED, "No contacts.xlsx or volunteers.xlsx on the boot partition.",
                "Không có danh bạ (contacts.xlsx) hay danh sách tình nguyện viên (volunteers.xlsx).", boot)
        return
    if config is None:
        out.add("lists", FAILED, "Lists not imported: fix tdp.toml first.",
                "Chưa nhập danh sách: cần sửa tdp.toml trước.", boot)
        return
    from kiosk.appliance.store import open_store
    from kiosk.tabular import read_bounded
    store_path = inside(root, config.storage.path)
    database = None
    try:
        for name, module_name, names, part in wanted:
            file = boot / name
            try:
                digest = hashlib.sha256(read_bounded(file)).hexdigest()
            except TdpError as exc:
                # One bad list must not stall first boot: say why on the boot partition, go on.
                out.add(part, FAILED, f"{name} refused, nothing imported: {exc}",
                        f"{name} bị từ chối, chưa nhập gì: {exc}", file)
                continue
            if state.get(name) == digest:
                out.add(part, UNCHANGED, f"{name} already imported.", f"{name} đã được nhập từ trước.", file)
                continue
            importer = _importer(module_name, names)
            if importer is None:
                out.add(part, WARNING, f"This version cannot import {name} yet: add the entries with `tdp {part}`.",
                        f"Phiên bản này chưa nhập được {name}: nhập bằng lệnh `tdp {part}`.", file)
                continue
            try:
                if database is None:
                    database = open_store(store_path)
                report = _call_importer(importer, database, file, config, store_path.parent)
            except TdpError as exc:
                out.add(part, FAILED, f"{name} refused, nothing imported: {exc}",
                        f"{name} bị từ chối, chưa nhập gì: {exc}", file)
                continue
            state[name] = digest
            bad = _rejected_rows(report)
            status = WARNING if bad else CHANGED
            shown = "; ".join(str(b) for b in bad[:10]) + (" …" if len(bad) > 10 else "")
            out.add(part, status, f"{name} imported ({_summary(report)})." + (f" Rows refused: {shown}" if bad else ""),
                    f"Đã nhập {name} ({_summary(report)})." + (f" Dòng bị từ chối: {shown}" if bad else ""), file)
    finally:
        if database is not None:
            database.close()
        owner = _lookup(root, "etc/passwd", "tdp"), _lookup(root, "etc/group", "tdp")
        for path in store_path.parent.glob(store_path.name + "*"):
            _chown(path, *owner)


def prepare_data_dir(root: Path, out: Outcome, config) -> None:
    """The data directory (on the writable partition), owned by the user the services run as."""
    data_dir = inside(root, config.storage.path if config else APPLIANCE_STORE).parent
    data_dir.mkdir(parents=True, exist_ok=True)
    uid, gid = _lookup(root, "etc/passwd", "tdp"), _lookup(root, "etc/group", "tdp")
    _chown(data_dir, uid, gid)
    if uid is None:
        out.add("user", WARNING, "User tdp does not exist: the image build creates it (images/stage-tdp).",
                "Chưa có người dùng tdp: bản cài đặt (image) tạo người dùng này.", "/etc/passwd")


# --- the whole run -----------------------------------------------------------------------------

def render_report(out: Outcome, when: datetime) -> str:
    """The plain-text report for the boot partition (CRLF, so Windows Notepad shows it right)."""
    failed = [s for s in out.steps if s.status == FAILED]
    if failed:
        verdict = (f"{len(failed)} phần bị LỖI, cần sửa rồi khởi động lại / "
                   f"{len(failed)} part(s) FAILED: fix them and reboot")
    elif out.changed:
        verdict = "Hoàn tất / Done"
    else:
        verdict = "Không có gì thay đổi (đã cài từ trước) / Nothing changed (already provisioned)"
    lines = ["TDP Kiosk - Báo cáo cài đặt lần đầu / First-boot report",
             f"Thời gian / Time: {when:%Y-%m-%d %H:%M:%S %z}", f"Kết quả / Result: {verdict}"]
    if out.reboot_required:
        lines.append("Máy sẽ tự khởi động lại một lần / The kiosk reboots once to apply the changes")
    for step in out.steps:
        lines += ["", f"[{LABELS[step.status]}] {step.part}" + (f"  ({step.where})" if step.where else ""),
                  f"  VI: {step.vi}", f"  EN: {step.en}"]
    lines += ["", "Kiểm tra toàn bộ máy: tdp doctor / Check the whole appliance: tdp doctor", ""]
    return "\r\n".join(lines)


def _guard(out: Outcome, part: str, function, *args):
    """Run one part; an unexpected error fails that part only, so the report is still written."""
    try:
        return function(*args)
    except Exception as exc:  # noqa: BLE001 - the official must get a report whatever broke
        message = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        out.add(part, FAILED, f"Internal error ({message}); run `tdp firstboot` by hand with DEBUG=1 and report it.",
                f"Lỗi phần mềm ({message}); báo cho kỹ thuật viên.")
        if os.environ.get("DEBUG") not in (None, "", "0"):
            raise
        return None


def provision(boot: str | Path, root: str | Path = "/", *, live: bool | None = None,
              now: datetime | None = None) -> Outcome:
    """Run every part of first boot; `live` (default: ROOT is /) also runs lpadmin and nmcli."""
    boot, root = Path(boot), Path(root)
    if live is None:
        live = root.resolve() == Path("/")
    out = Outcome(str(boot), str(root))
    if not boot.is_dir():
        raise TdpError(f"boot partition {boot} not found (give --boot DIR)")
    config = _guard(out, "config", provision_config, boot, root, out)
    _guard(out, "user", prepare_data_dir, root, out, config)
    owner = _lookup(root, "etc/passwd", "tdp"), _lookup(root, "etc/group", "tdp")
    _guard(out, "restore", provision_restore, boot, root, out, config, lambda path: _chown(path, *owner))
    country = _guard(out, "wifi", provision_wifi, boot, root, out, live)
    _guard(out, "timezone", provision_timezone, root, out, config.site.timezone if config else "Asia/Ho_Chi_Minh")
    _guard(out, "uart", provision_uart, root, out, country)
    _guard(out, "printer", provision_printer, root, out, config, live)
    _guard(out, "services", provision_services, root, out, config)
    state_path = inside(root, STATE_FILE)
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    _guard(out, "lists", provision_lists, boot, root, out, config, state)
    write_if_changed(state_path, json.dumps(state, indent=1, sort_keys=True) + "\n", 0o640)
    if out.reboot_required:
        write_if_changed(inside(root, REBOOT_FLAG), "config.txt or cmdline.txt changed\n")
    tz = zoneinfo.ZoneInfo(config.site.timezone if config else "Asia/Ho_Chi_Minh")
    when = now or datetime.now(tz)
    try:
        write_if_changed(boot / REPORT_NAME, render_report(out, when.astimezone(tz)))
    except OSError as exc:
        out.add("report", WARNING, f"Could not write the report to {boot}: {exc.strerror}",
                f"Không ghi được báo cáo vào {boot}: {exc.strerror}", boot / REPORT_NAME)
    return out
