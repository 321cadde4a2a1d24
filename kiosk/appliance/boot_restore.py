"""First boot on a freshly flashed card: set the backup key and bring the ward's data back.

BOOT/tdp-backup-passphrase.txt (one line, from the leader's slip) becomes the appliance's backup
key, so the nightly backups stay readable with that slip. When the store is missing or holds no
ward data yet, the newest backup of this kiosk (by [site] kiosk_name; else the newest at all) is
looked for on the USB stick (provisioning/firstboot mounts the one labelled TDP-BACKUP) and in
[backup] folder, decrypted with that passphrase, checked and restored. The report on the boot
partition says which backup it was and how many households and consent records came back.
"""
from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Callable

from kiosk.appliance import backup, backup_places
from kiosk.errors import TdpError

PASSPHRASE_NAME = "tdp-backup-passphrase.txt"
WARD_TABLES = ("households", "residents", "consent_log", "dossiers")

CHANGED, UNCHANGED, SKIPPED, WARNING, FAILED = "changed", "unchanged", "skipped", "warning", "failed"


def _inside(root: Path, path: str | Path) -> Path:
    return root / str(path).lstrip("/")


def mapped(config, root: Path):
    """The config with its paths as seen from outside ROOT (the same on a live system)."""
    storage = dataclasses.replace(config.storage, path=str(_inside(root, Path(config.storage.path))))
    chosen = config.backup.passphrase_file
    options = dataclasses.replace(
        config.backup, media_roots=[str(_inside(root, r)) for r in config.backup.media_roots],
        folder=str(_inside(root, config.backup.folder)) if config.backup.folder else "",
        passphrase_file=str(_inside(root, chosen)) if chosen else "")
    return dataclasses.replace(config, storage=storage, backup=options)


def holds_ward_data(store: Path) -> bool:
    if not store.is_file():
        return False
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return any(conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() for t in WARD_TABLES if t in names)
    except sqlite3.DatabaseError:
        return True         # unreadable: never overwrite what a person may still rescue
    finally:
        conn.close()


def newest_backup(config) -> backup.BackupInfo | None:
    found = backup_places.list_backups(config)
    own = [b for b in found if b.kiosk == config.site.kiosk_name]
    return (own or found or [None])[0]


def install_passphrase(boot: Path, config, out, chown: Callable[[Path], None]) -> bool:
    """Copy the boot partition's passphrase to the key file; True when a key is in place."""
    source, target = boot / PASSPHRASE_NAME, backup.key_path(config)
    if not source.is_file():
        return target.is_file()
    try:
        passphrase = backup.read_passphrase(source)
    except TdpError as exc:
        out.add("backup-key", FAILED, f"{PASSPHRASE_NAME} refused: {exc}", f"Tệp {PASSPHRASE_NAME} bị từ chối: {exc}",
                source)
        return target.is_file()
    if target.is_file() and backup.read_passphrase(target) == passphrase:
        out.add("backup-key", UNCHANGED, "Backup passphrase already installed.", "Mật khẩu sao lưu đã được cài.", source)
        return True
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.new")
    temporary.write_text(passphrase + "\n", encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(target)
    chown(target)
    out.add("backup-key", CHANGED, f"Backup passphrase from {PASSPHRASE_NAME} installed: backups use it from now on.",
            f"Đã cài mật khẩu sao lưu từ {PASSPHRASE_NAME}: các bản sao lưu dùng mật khẩu này.", source)
    return True


def provision_restore(boot: Path, root: Path, out, config, chown: Callable[[Path], None]) -> None:
    """Install the passphrase; restore the newest backup when this card holds no ward data yet."""
    if config is None:
        out.add("restore", SKIPPED, "No restore: fix tdp.toml first.", "Chưa khôi phục: cần sửa tdp.toml trước.", boot)
        return
    local = mapped(config, root)
    has_key = install_passphrase(boot, local, out, chown)
    store = Path(local.storage.path)
    if holds_ward_data(store):
        out.add("restore", UNCHANGED, "This card already holds the ward's data: nothing restored.",
                "Thẻ nhớ đã có dữ liệu của tổ: không khôi phục.", store)
        return
    found = newest_backup(local)
    if found is None:
        out.add("restore", SKIPPED, "No backup found on a USB stick or in the backup folder: starting empty.",
                "Không thấy bản sao lưu trên USB: bắt đầu với dữ liệu trống.", boot)
        return
    if not has_key:
        out.add("restore", FAILED, f"Backup {Path(found.path).name} found but no passphrase: put the passphrase from "
                f"the leader's slip in {PASSPHRASE_NAME} on this card and boot again.",
                f"Có bản sao lưu nhưng thiếu mật khẩu: ghi mật khẩu trên phiếu của tổ trưởng vào tệp "
                f"{PASSPHRASE_NAME} trên thẻ nhớ rồi khởi động lại.", found.path)
        return
    try:
        result = backup.restore(local, Path(found.path))
    except TdpError as exc:
        out.add("restore", FAILED, f"Backup {Path(found.path).name} not restored: {exc}",
                f"Không khôi phục được bản sao lưu {Path(found.path).name}: {exc}", found.path)
        return
    for path in store.parent.glob(store.name + "*"):
        chown(path)
    n = result["counts"]
    summary = (f"{n.get('households', 0)} households, {n.get('residents', 0)} residents, "
               f"{n.get('consent_log', 0)} consent records, {n.get('dossiers', 0)} requests")
    summary_vi = (f"{n.get('households', 0)} hộ, {n.get('residents', 0)} người, "
                  f"{n.get('consent_log', 0)} bản ghi đồng ý, {n.get('dossiers', 0)} hồ sơ")
    out.add("restore", CHANGED, f"Restored backup {Path(found.path).name} taken {found.created} "
            f"on {found.kiosk}: {summary}.",
            f"Đã khôi phục bản sao lưu {Path(found.path).name} ({found.created}): {summary_vi}.", found.path)
