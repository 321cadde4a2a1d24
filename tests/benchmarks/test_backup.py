"""Backup benchmark (run by `make bench` with -s; figures printed): a ward-sized store of 5,000
households with a resident and consent each, 20,000 audit rows and 2,000 requests.

Targets: `backup.take` under 10 s and `backup.restore` under 10 s on the 2-core machine (a Pi 4
is about 2-3x slower: still well inside the night), the sealed file under half the store's size.
"""
from __future__ import annotations

import time
from pathlib import Path

from kiosk.appliance import backup, config as config_module
from kiosk.directory import residents
from kiosk.dossiers import lifecycle


def test_backup_and_restore_of_a_ward_sized_store(store, config_path, tmp_path):
    with store.transaction():
        for n in range(5000):
            household = residents.add_household(store, f"Số {n} ngõ {n % 97} phố Hòa Bình", "Tổ 1")
            residents.upsert_resident(store, f"Nguyễn Thị Ánh {n}", f"0912{n:06d}", household_id=household,
                                      consent=residents.Consent(True, "import", "danh-sach.xlsx"))
        store.conn.executemany("INSERT INTO relay_audit (at, sender, official, command, outcome, detail) "
                               "VALUES ('2026-12-01T08:00:00Z', '+84912345678', 'Trần Văn Bình', 'TB', 'accepted', ?)",
                               [(f"thông báo họp số {i}",) for i in range(20_000)])
    for n in range(2000):
        lifecycle.create(store, procedure_code="HT-KS", full_name=f"Lê Văn Đức {n}", phone=f"0813{n:06d}")
    config = config_module.load(config_path)
    size = Path(config.storage.path).stat().st_size

    started = time.perf_counter()
    taken = backup.take(config, destination=tmp_path / "stick")
    took = time.perf_counter() - started
    store.close()
    started = time.perf_counter()
    restored = backup.restore(config, Path(taken["file"]))
    restoring = time.perf_counter() - started
    print(f"\nbackup: store {size / 2**20:.1f} MiB -> sealed {taken['bytes'] / 2**20:.2f} MiB in {took:.2f} s; "
          f"restore {restoring:.2f} s ({restored['counts']['households']} households)")
    assert restored["counts"]["households"] == 5000 and restored["counts"]["dossiers"] == 2000
    assert took < 10 and restoring < 10 and taken["bytes"] < size / 2
