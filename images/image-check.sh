#!/bin/bash
# `make image-check`: the image's install steps and first boot, run for real in a debootstrap'd
# Debian Bookworm root (the closest thing to Raspberry Pi OS Lite this side of a Pi build host).
# Installs the project with images/stage-tdp exactly as pi-gen would, drops a tdp.toml, a
# contact list and wifi.txt on a fake boot partition, runs `tdp firstboot` twice inside the root,
# and checks what it did. Needs root and the Debian mirror; takes several minutes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/.." && pwd)
work=${IMAGE_CHECK_DIR:-$project/build/image-check}
root=$work/root
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "image-check: run as root (debootstrap, chroot)" >&2; exit 1; }

mounted=()
cleanup() {
    local i
    for (( i=${#mounted[@]}-1; i>=0; i-- )); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
# --rbind brings /dev/pts along (the emulated modem needs a pty); rslave keeps our unmounts
# from propagating back to the host's /dev.
bind() { mount --rbind "$1" "$2"; mount --make-rslave "$2"; mounted+=("$2"); }

if [ ! -x "$root/usr/bin/python3" ]; then
    rm -rf "$root"
    mkdir -p "$work"
    echo "image-check: debootstrap bookworm into $root"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$mirror" >/dev/null
fi
mount -t proc proc "$root/proc"; mounted+=("$root/proc")
bind /dev "$root/dev"
bind /sys "$root/sys"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# Trust the same extra CAs as the host (a proxy in front of the package registries, if any).
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1 || true
fi
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"
# Package scripts must not start daemons (cupsd…) inside the chroot: the standard policy-rc.d.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

echo "image-check: Debian packages of the stage (those Raspberry Pi OS has and Debian has too)"
packages=$(grep -v -e '^python3-lgpio$' -e '^liblgpio-dev$' "$here/stage-tdp/00-install/00-packages" | tr '\n' ' ')
# shellcheck disable=SC2086 # word splitting of the package list is intended
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $packages systemd adduser >/dev/null

echo "image-check: the stage's host and chroot steps"
stage=$work/stage-tdp
rm -rf "$stage"
cp -a "$here/stage-tdp" "$stage"
printf '%s\n' "$project" > "$stage/PROJECT_DIR"
printf '0\n' > "$stage/READONLY_ROOT"
ROOTFS_DIR=$root bash "$stage/00-install/00-run.sh"
cp "$stage/00-install/00-run-chroot.sh" "$root/tmp/00-run-chroot.sh"
chroot "$root" bash -e /tmp/00-run-chroot.sh

echo "image-check: a boot partition as an official prepares it"
boot=$root/boot/firmware
mkdir -p "$boot"
printf 'dtparam=audio=on\n' > "$boot/config.txt"
printf 'console=serial0,115200 console=tty1 root=PARTUUID=abcd-02 rootwait\n' > "$boot/cmdline.txt"
printf '[site]\nward = "Phường Hòa Bình"\n[printer]\nqueue = "receipts"\n' > "$boot/tdp.toml"
printf 'ssid=Nha Van Hoa\npassword=matkhau123\ncountry=VN\n' > "$boot/wifi.txt"
printf 'ngo-hoa-binh-2026\n' > "$boot/tdp-backup-passphrase.txt"
chroot "$root" /opt/tdp/.venv/bin/python - <<'PY'
from openpyxl import Workbook
book = Workbook()
book.active.append(["Họ và tên", "Số điện thoại", "Phân nhóm"])
book.active.append(["Trần Thị Bình", "0987654321", "Hội Phụ nữ"])
book.save("/boot/firmware/contacts.xlsx")
PY
# a re-run of image-check starts from a never-booted state again
rm -rf "$boot/tdp-firstboot-report.txt" "$root/etc/tdp/tdp.toml" "$root/run/tdp-firstboot.reboot" \
    "$root"/var/lib/tdp/* "$root"/var/lib/tdp/.[!.]* "$root/etc/NetworkManager/system-connections/tdp-wifi.nmconnection" \
    "$root/media/TDP-BACKUP"

fail() { echo "image-check: FAILED: $*" >&2; exit 1; }
echo "image-check: first boot"
chroot "$root" env TDP=/opt/tdp/.venv/bin/tdp BOOT=/boot/firmware TDP_NO_REBOOT=1 /opt/tdp/provisioning/firstboot \
    > "$work/firstboot-1.txt" 2>&1 || fail "tdp firstboot exited $? (see $work/firstboot-1.txt)"
report=$boot/tdp-firstboot-report.txt
grep -q 'Hoàn tất / Done' "$report" || fail "report does not say Done: $(cat "$report")"
grep -q 'contacts.xlsx imported (1 added' "$report" || fail "contacts not imported: $(cat "$report")"
grep -q '^enable_uart=1' "$boot/config.txt" || fail "UART not enabled"
grep -q 'console=serial0' "$boot/cmdline.txt" && fail "serial console still on"
[ "$(stat -c %a "$root/etc/NetworkManager/system-connections/tdp-wifi.nmconnection")" = 600 ] || fail "keyfile mode"
[ -L "$root/etc/systemd/system/multi-user.target.wants/tdp-gateway.service" ] || fail "gateway not enabled"
[ -e "$root/run/tdp-firstboot.reboot" ] || fail "no reboot requested after the UART change"
[ "$(chroot "$root" stat -c %U /var/lib/tdp/tdp.sqlite3)" = tdp ] || fail "store not owned by tdp"
chroot "$root" systemd-analyze verify tdp-gateway.service tdp-kiosk.service tdp-sync.service \
    tdp-firstboot.service tdp-remind.service tdp-remind.timer tdp-backup.service tdp-backup.timer \
    tdp-upgrade.service tdp-upgrade.timer || fail "systemd-analyze verify inside the image"

echo "image-check: second boot changes nothing"
chroot "$root" /opt/tdp/.venv/bin/tdp firstboot --root / > "$work/firstboot-2.txt" 2>&1 || fail "second run"
grep -q 'Nothing changed' "$report" || fail "second run changed something: $(cat "$report")"

echo "image-check: the card dies; a fresh one is restored from the stick at first boot"
mkdir -p "$root/media/TDP-BACKUP"
: > "$root/media/TDP-BACKUP/tdp-backup.marker"
chroot "$root" chown tdp:tdp /media/TDP-BACKUP
chroot "$root" runuser -u tdp -- env TDP_CONFIG=/etc/tdp/tdp.toml /opt/tdp/.venv/bin/tdp backup now --json \
    > "$work/backup.json" 2>&1 || fail "tdp backup now inside the image: $(cat "$work/backup.json")"
grep -q '"destination": "usb"' "$work/backup.json" || fail "backup did not go to the stick: $(cat "$work/backup.json")"
cmp -s "$boot/tdp-backup-passphrase.txt" "$root/var/lib/tdp/backup.key" || fail "passphrase from the boot partition not installed"
rm -rf "$root"/var/lib/tdp/* "$root"/var/lib/tdp/.[!.]* "$boot/tdp-firstboot-report.txt"
chroot "$root" env TDP=/opt/tdp/.venv/bin/tdp BOOT=/boot/firmware TDP_NO_REBOOT=1 /opt/tdp/provisioning/firstboot \
    > "$work/firstboot-3.txt" 2>&1 || fail "first boot of the fresh card exited $? (see $work/firstboot-3.txt)"
grep -q 'Restored backup tdp-' "$report" || fail "fresh card not restored: $(cat "$report")"
restored=$(chroot "$root" /opt/tdp/.venv/bin/python -c 'import sqlite3; c = sqlite3.connect("/var/lib/tdp/tdp.sqlite3")
print(c.execute("SELECT full_name FROM residents").fetchone()[0], c.execute("SELECT COUNT(*) FROM consent_log").fetchone()[0],
      c.execute("PRAGMA integrity_check").fetchone()[0])')
[ "$restored" = "Trần Thị Bình 1 ok" ] || fail "restored store holds: $restored"
[ "$(chroot "$root" stat -c %U /var/lib/tdp/tdp.sqlite3)" = tdp ] || fail "restored store not owned by tdp"

echo "image-check: tdp doctor inside the image"
chroot "$root" env TDP_CONFIG=/etc/tdp/tdp.toml /opt/tdp/.venv/bin/tdp doctor > "$work/doctor.txt" 2>&1 || true
grep -q 'modem' "$work/doctor.txt" || fail "doctor printed no modem line: $(cat "$work/doctor.txt")"
cat "$report"
echo "image-check: OK"
