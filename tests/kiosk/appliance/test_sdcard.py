"""SD-card health in `tdp doctor`, from a scratch /proc/self/mounts and /sys laid out like a Pi's."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.appliance import config as config_module
from kiosk.appliance import doctor


@pytest.fixture
def pi(tmp_path, config_path):
    """The store's folder, and a /sys block stat for the file system it is really on."""
    data = tmp_path / "data"
    data.mkdir()
    device = os.stat(data).st_dev
    stat = tmp_path / "sys" / "dev" / "block" / f"{os.major(device)}:{os.minor(device)}" / "stat"
    stat.parent.mkdir(parents=True)
    (tmp_path / "uptime").write_text("86400.00 170000.00\n")
    return config_module.load(config_path), data, stat


def check(pi, tmp_path, mounts: str, sectors_written: int = 2_000_000):
    config, data, stat = pi
    stat.write_text(f"   1000 0 20000 300 2000 0 {sectors_written} 4000 0 5000 6000\n")
    table = tmp_path / "mounts"
    table.write_text(mounts.format(data=data))
    return doctor.check_sdcard(config, mounts_file=table, sys_root=tmp_path / "sys", uptime_file=tmp_path / "uptime")


ROOT_RW = "/dev/mmcblk0p2 / ext4 rw,noatime 0 0\n/dev/mmcblk0p1 /boot/firmware vfat rw,relatime 0 0\n"


def test_healthy_card_reports_write_rate_and_overlayroot_off(pi, tmp_path):
    result = check(pi, tmp_path, ROOT_RW + "/dev/mmcblk0p3 {data} ext4 rw,noatime 0 0\n")
    assert result.status == "ok"
    assert "overlayroot off" in result.en and "977 MiB/day" in result.en      # 2e6 sectors * 512 B in one day
    assert result.details["write"]["bytes_since_boot"] == 2_000_000 * 512


def test_card_remounted_read_only_after_io_errors_fails_with_the_fix(pi, tmp_path):
    result = check(pi, tmp_path, ROOT_RW + "/dev/mmcblk0p3 {data} ext4 ro,noatime,errors=remount-ro 0 0\n")
    assert result.status == "fail" and "read-only" in result.en and "tdp backup now" in result.fix_en


def test_overlayroot_with_the_store_on_the_overlay_would_lose_everything_at_reboot(pi, tmp_path):
    overlay = ("overlayroot / overlay rw,relatime,lowerdir=/media/root-ro,upperdir=/media/root-rw/overlay 0 0\n"
               "/dev/mmcblk0p2 /media/root-ro ext4 ro,relatime 0 0\n")
    lost = check(pi, tmp_path, overlay + "overlayroot {data} overlay rw 0 0\n")
    assert lost.status == "fail" and "lost at the next reboot" in lost.en
    kept = check(pi, tmp_path, overlay + "/dev/mmcblk0p3 {data} ext4 rw,noatime 0 0\n")
    assert kept.status == "ok" and "overlayroot on" in kept.en


def test_a_runaway_writer_wearing_the_card_is_a_warning(pi, tmp_path):
    result = check(pi, tmp_path, ROOT_RW + "/dev/mmcblk0p3 {data} ext4 rw 0 0\n", sectors_written=20_000_000)
    assert result.status == "warn" and "GiB a day" in result.en
