"""First boot against a fake root directory laid out like Raspberry Pi OS."""
from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

import pytest

from kiosk.appliance import firstboot

CONFIG = """
[site]
ward = "Phường Hòa Bình"
kiosk_name = "kiosk-hoa-binh"

[printer]
queue = "receipts"
paper = "80mm"

[[relay.officials]]
name = "Nguyễn Văn A"
phone = "0912345678"
pin = "2468"
"""


@pytest.fixture
def pi_root(tmp_path) -> Path:
    root = tmp_path / "root"
    boot = root / "boot" / "firmware"
    boot.mkdir(parents=True)
    (boot / "config.txt").write_text("# Pi OS defaults\ndtparam=audio=on\n[pi4]\narm_boost=1\n[all]\nenable_uart=0\n")
    (boot / "cmdline.txt").write_text("console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 "
                                      "fsck.repair=yes rootwait\n")
    (boot / "tdp.toml").write_text(CONFIG, encoding="utf-8")
    (boot / "wifi.txt").write_text("# Wi-Fi of the cultural house\nssid=Nha Van Hoa;TDP 1\npassword=matkhau123\n"
                                   "country=VN\n", encoding="utf-8")
    (root / "etc").mkdir()
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\ntdp:x:%d:%d::/var/lib/tdp:/usr/sbin/nologin\n"
                                     % (os.getuid(), os.getgid()))
    (root / "etc/group").write_text("root:x:0:\ntdp:x:%d:\n" % os.getgid())
    return root


def run(tdp, root: Path, *extra):
    return tdp("firstboot", "--root", root, "--json", *extra)


def report(root: Path) -> str:
    return (root / "boot/firmware" / firstboot.REPORT_NAME).read_text(encoding="utf-8")


def statuses(result) -> dict[str, str]:
    return {s["part"]: s["status"] for s in result.data["steps"]}


def test_first_run_provisions_everything(tdp, pi_root):
    result = run(tdp, pi_root)
    assert result.code == 0, result.out + result.err
    assert statuses(result) | {} == {"config": "changed", "wifi": "changed", "timezone": "changed", "uart": "changed",
                                    "printer": "changed", "services": "changed", "lists": "skipped",
                                    "restore": "skipped"}
    installed = tomllib.loads((pi_root / "etc/tdp/tdp.toml").read_text(encoding="utf-8"))
    assert installed["site"]["ward"] == "Phường Hòa Bình"
    assert installed["storage"]["path"] == "/var/lib/tdp/tdp.sqlite3"
    assert stat.S_IMODE((pi_root / "etc/tdp/tdp.toml").stat().st_mode) == 0o640   # holds PINs and tokens

    keyfile = pi_root / "etc/NetworkManager/system-connections/tdp-wifi.nmconnection"
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    text = keyfile.read_text()
    assert "ssid=Nha Van Hoa\\;TDP 1" in text and "psk=matkhau123" in text and "key-mgmt=wpa-psk" in text

    assert (pi_root / "etc/timezone").read_text() == "Asia/Ho_Chi_Minh\n"
    assert os.readlink(pi_root / "etc/localtime") == "/usr/share/zoneinfo/Asia/Ho_Chi_Minh"

    config_txt = (pi_root / "boot/firmware/config.txt").read_text()
    assert "enable_uart=0" not in config_txt
    assert config_txt.rstrip().endswith("enable_uart=1\ndtoverlay=disable-bt")
    assert "arm_boost=1" in config_txt
    cmdline = (pi_root / "boot/firmware/cmdline.txt").read_text()
    assert "console=serial0" not in cmdline and "console=tty1" in cmdline and cmdline.count("\n") == 1
    assert "cfg80211.ieee80211_regdom=VN" in cmdline

    wants = pi_root / "etc/systemd/system/multi-user.target.wants"
    assert sorted(p.name for p in wants.iterdir()) == ["tdp-firstboot.service", "tdp-gateway.service",
                                                       "tdp-kiosk.service"]     # no hub: no sync
    assert os.readlink(wants / "tdp-kiosk.service") == "/etc/systemd/system/tdp-kiosk.service"
    assert (pi_root / "etc/systemd/system/tdp-kiosk.service").is_file()
    assert "lpadmin -p receipts -E" in (pi_root / "var/lib/tdp/firstboot/lpadmin.txt").read_text()
    assert result.data["reboot_required"] and (pi_root / firstboot.REBOOT_FLAG).exists()
    text = report(pi_root)
    assert "Hoàn tất / Done" in text and "Múi giờ Asia/Ho_Chi_Minh" in text
    assert "matkhau123" not in text and "2468" not in text          # no secrets on the FAT partition


def test_second_run_changes_nothing_and_says_so(tdp, pi_root):
    assert run(tdp, pi_root).code == 0
    before = {p: (p.read_bytes() if p.is_file() and not p.is_symlink() else os.readlink(p) if p.is_symlink() else None)
              for p in pi_root.rglob("*") if p.name != firstboot.REPORT_NAME}
    second = run(tdp, pi_root)
    assert second.code == 0
    assert set(statuses(second).values()) <= {"unchanged", "skipped"}
    assert not second.data["changed"] and not second.data["reboot_required"]
    after = {p: (p.read_bytes() if p.is_file() and not p.is_symlink() else os.readlink(p) if p.is_symlink() else None)
             for p in pi_root.rglob("*") if p.name != firstboot.REPORT_NAME}
    assert after == before
    assert "Nothing changed" in report(pi_root)


def test_broken_config_is_refused_and_reported_with_where(tdp, pi_root):
    (pi_root / "boot/firmware/tdp.toml").write_text('[printer]\nqueue = "receipts"\npaper = "76mm"\n'
                                                    '[relay]\npolice_phone = "12345"\n[site]\nwrd = "x"\n')
    result = run(tdp, pi_root)
    assert result.code == 1
    assert statuses(result)["config"] == "failed"
    assert statuses(result)["wifi"] == "changed"          # the valid parts still run
    assert not (pi_root / "etc/tdp/tdp.toml").exists()
    text = report(pi_root)
    assert "LỖI / FAILED" in text and "tdp.toml" in text
    assert "site.wrd" in text and "did you mean ward" in text

    (pi_root / "boot/firmware/tdp.toml").write_text('[printer]\npaper = "76mm"\n[relay]\npolice_phone = "12345"\n')
    result = run(tdp, pi_root)
    text = report(pi_root)
    assert "printer.paper" in text and "relay.police_phone" in text

    (pi_root / "boot/firmware/tdp.toml").write_text('[site\nward = "x"\n')
    run(tdp, pi_root)
    assert "not valid TOML" in report(pi_root) and "line 1" in report(pi_root)


def test_broken_config_keeps_the_previous_one(tdp, pi_root):
    assert run(tdp, pi_root).code == 0
    installed = (pi_root / "etc/tdp/tdp.toml").read_bytes()
    (pi_root / "boot/firmware/tdp.toml").write_text('[ui]\nrotation = 45\n')
    result = run(tdp, pi_root)
    assert result.code == 1 and "ui.rotation" in report(pi_root)
    assert "previous config stays in force" in report(pi_root)
    assert (pi_root / "etc/tdp/tdp.toml").read_bytes() == installed


def test_bad_wifi_is_refused_without_writing_a_keyfile(tdp, pi_root):
    (pi_root / "boot/firmware/wifi.txt").unlink()
    (pi_root / "boot/firmware/wifi.toml").write_text('ssid = "NVH"\npassword = "short"\ncountry = "vn"\n')
    result = run(tdp, pi_root)
    assert statuses(result)["wifi"] == "failed"
    assert not (pi_root / "etc/NetworkManager/system-connections/tdp-wifi.nmconnection").exists()
    text = report(pi_root)
    assert "wifi.toml" in text and "8-63" in text and "two-letter" in text


def test_hub_url_enables_sync_and_removing_it_disables(tdp, pi_root):
    boot_config = pi_root / "boot/firmware/tdp.toml"
    boot_config.write_text(CONFIG + '\n[hub]\nurl = "https://hub.phuong.example"\n', encoding="utf-8")
    run(tdp, pi_root)
    wants = pi_root / "etc/systemd/system/multi-user.target.wants"
    assert (wants / "tdp-sync.service").is_symlink()
    boot_config.write_text(CONFIG, encoding="utf-8")
    result = run(tdp, pi_root)
    assert statuses(result)["services"] == "changed"
    assert not (wants / "tdp-sync.service").exists()


def test_missing_boot_dir_is_a_one_line_error(tdp, tmp_path):
    result = tdp("firstboot", "--root", tmp_path, "--boot", tmp_path / "nope")
    assert result.code == 1 and "not found" in result.err and "Traceback" not in result.err


def test_pdf_mode_skips_the_printer(tdp, pi_root):
    (pi_root / "boot/firmware/tdp.toml").write_text('[printer]\nqueue = ""\n')
    result = run(tdp, pi_root)
    assert statuses(result)["printer"] == "skipped"
    assert "PDF" in report(pi_root)
    assert json.loads(result.out)["ok"]


def write_contacts(path: Path, rows):
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(["Họ và tên", "Chức vụ", "Phân nhóm", "Số điện thoại"])
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_contacts_are_imported_once_and_bad_rows_reported(tdp, pi_root):
    from kiosk.appliance.store import open_store
    write_contacts(pi_root / "boot/firmware/contacts.xlsx", [
        ["Trần Thị Bình", "Tổ trưởng", "Hội Phụ nữ", "0987 654 321"],
        ["Lê Văn Cường", "", "Hội Cựu chiến binh", "0912 000 111"],
        ["Phạm Văn Dũng", "", "", "12345"],
    ])
    result = run(tdp, pi_root)
    assert statuses(result)["contacts"] == "warning"          # two imported, one row refused
    text = report(pi_root)
    assert "2 added" in text and "12345" not in text or "row" in text.lower()
    assert "Dòng bị từ chối" in text
    database = open_store(pi_root / "var/lib/tdp/tdp.sqlite3")
    try:
        names = {r["full_name"] for r in database.query("SELECT full_name FROM residents")}
    finally:
        database.close()
    assert names == {"Trần Thị Bình", "Lê Văn Cường"}
    again = run(tdp, pi_root)
    assert statuses(again)["contacts"] == "unchanged"


class FakeCups:
    """The CUPS command-line tools as seen with (or without) a USB thermal printer plugged in."""

    def __init__(self, printer: bool):
        self.printer = printer
        self.commands = []

    def __call__(self, argv, **kwargs):
        import subprocess
        self.commands.append(argv)
        out, code = "", 0
        if argv[0] == "lpstat":
            code = 1                                             # the queue does not exist yet
        elif argv[:3] == ["lpinfo", "-l", "-v"] and self.printer:
            out = ("Device: uri = usb://EPSON/TM-T20II?serial=X1\n        class = direct\n"
                   "        make-and-model = EPSON TM-T20II\n        device-id = MFG:EPSON;MDL:TM-T20II;\n"
                   "Device: uri = socket\n        class = network\n")
        elif argv[:2] == ["lpinfo", "--device-id"]:
            out = "epson-tm-t20ii.ppd EPSON TM-T20II\n"
        return subprocess.CompletedProcess(argv, code, out, "")


def test_live_printer_queue_is_created_for_the_usb_printer(tmp_path):
    from kiosk.appliance import config as config_module
    config = config_module.from_dict({"printer": {"queue": "receipts", "paper": "58mm"}})
    cups = FakeCups(printer=True)
    out = firstboot.Outcome(str(tmp_path), str(tmp_path))
    firstboot.provision_printer(tmp_path, out, config, live=True, run=cups)
    assert out.steps[-1].status == "changed"
    assert cups.commands[-1] == ["lpadmin", "-p", "receipts", "-E", "-v", "usb://EPSON/TM-T20II?serial=X1",
                                 "-m", "epson-tm-t20ii.ppd", "-o", "media=Custom.58x297mm",
                                 "-o", "printer-is-shared=false"]

    unplugged = FakeCups(printer=False)
    out = firstboot.Outcome(str(tmp_path), str(tmp_path))
    firstboot.provision_printer(tmp_path, out, config, live=True, run=unplugged)
    assert out.steps[-1].status == "warning" and "kiosk works" in out.steps[-1].en
    assert not any(c[0] == "lpadmin" for c in unplugged.commands)


def test_volunteers_list_is_imported(tdp, pi_root):
    from kiosk.appliance.store import open_store
    write_contacts(pi_root / "boot/firmware/contacts.xlsx", [["Trần Thị Bình", "", "", "0987 654 321"]])
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(["Họ và tên", "Số điện thoại", "Kỹ năng"])
    book.active.append(["Hoàng Minh Em", "0903 111 222", "dịch vụ công"])
    book.active.append(["Vũ Thị Giang", "not a phone", ""])
    book.save(pi_root / "boot/firmware/volunteers.xlsx")
    result = run(tdp, pi_root)
    steps = {s["part"]: s for s in result.data["steps"]}
    assert steps["volunteers"]["status"] == "warning"
    assert "added 1" in steps["volunteers"]["en"] and "Rows refused" in steps["volunteers"]["en"]
    database = open_store(pi_root / "var/lib/tdp/tdp.sqlite3")
    try:
        assert database.scalar("SELECT count(*) FROM volunteers") == 1
    finally:
        database.close()


def test_empty_storage_table_gets_the_appliance_store(tdp, pi_root):
    (pi_root / "boot/firmware/tdp.toml").write_text('[storage]\n\n[site]\nward = "Phường 1"\n', encoding="utf-8")
    assert run(tdp, pi_root).code == 0
    installed = tomllib.loads((pi_root / "etc/tdp/tdp.toml").read_text(encoding="utf-8"))
    assert installed["storage"]["path"] == "/var/lib/tdp/tdp.sqlite3" and installed["site"]["ward"] == "Phường 1"


def _old_card_backup(tmp_path: Path, passphrase: str) -> tuple[Path, dict]:
    """The ward's data on the card that died, and a backup of it taken there with the leader's passphrase."""
    from kiosk.appliance import backup, config as config_module
    from kiosk.appliance.store import open_store
    from kiosk.directory import residents
    old = tmp_path / "old-card"
    (old / "key.txt").parent.mkdir(parents=True)
    (old / "key.txt").write_text(passphrase + "\n")
    config = config_module.from_dict({"site": {"kiosk_name": "kiosk-hoa-binh"},
                                      "storage": {"path": str(old / "tdp.sqlite3")},
                                      "backup": {"passphrase_file": str(old / "key.txt")}})
    with open_store(config.storage.path) as db:
        household = residents.add_household(db, "Số 7 ngõ 2 phố Hòa Bình", "Tổ 1")
        residents.upsert_resident(db, "Đặng Thị Lan", "0912345670", household_id=household,
                                  consent=residents.Consent(True, "kiosk", "màn hình"))
    taken = backup.take(config, "nightly", destination=old / "stick")
    rows = {t: open_store(config.storage.path).query(f"SELECT * FROM {t}") for t in ("households", "consent_log")}
    return Path(taken["file"]), rows


def test_fresh_card_restores_the_newest_backup_from_the_stick(tdp, pi_root, tmp_path):
    from kiosk.appliance.store import open_store
    file, rows = _old_card_backup(tmp_path, "ngo-hoa-binh-2026")
    stick = pi_root / "media" / "TDP-BACKUP"
    (stick / "tdp-backups").mkdir(parents=True)
    (stick / "tdp-backup.marker").write_text("")
    file.rename(stick / "tdp-backups" / file.name)
    boot = pi_root / "boot/firmware"

    missing = run(tdp, pi_root)
    assert statuses(missing)["restore"] == "failed" and "tdp-backup-passphrase.txt" in report(pi_root)
    store = pi_root / "var/lib/tdp/tdp.sqlite3"
    store.unlink(missing_ok=True)

    (boot / "tdp-backup-passphrase.txt").write_text("ngo-hoa-binh-2026\r\n", encoding="utf-8")
    result = run(tdp, pi_root)
    assert statuses(result)["restore"] == "changed" and statuses(result)["backup-key"] == "changed"
    text = report(pi_root)
    assert file.name in text and "1 households, 1 residents, 1 consent records" in text
    with open_store(store) as db:
        for table, expected in rows.items():
            assert db.query(f"SELECT * FROM {table}") == expected
    assert (pi_root / "var/lib/tdp/backup.key").read_text() == "ngo-hoa-binh-2026\n"
    assert stat.S_IMODE((pi_root / "var/lib/tdp/backup.key").stat().st_mode) == 0o600

    again = run(tdp, pi_root)
    assert statuses(again)["restore"] == "unchanged" and statuses(again)["backup-key"] == "unchanged"


def test_a_wrong_passphrase_restores_nothing_and_says_what_to_do(tdp, pi_root, tmp_path):
    file, _ = _old_card_backup(tmp_path, "ngo-hoa-binh-2026")
    stick = pi_root / "media" / "usb0"
    stick.mkdir(parents=True)
    (stick / "tdp-backup.marker").write_text("")
    (stick / "tdp-backups").mkdir()
    file.rename(stick / "tdp-backups" / file.name)
    (pi_root / "boot/firmware/tdp-backup-passphrase.txt").write_text("sai-mat-khau-99\n")
    result = run(tdp, pi_root)
    assert statuses(result)["restore"] == "failed" and "wrong passphrase" in report(pi_root)
    assert not (pi_root / "var/lib/tdp/tdp.sqlite3").exists()
