#!/bin/bash
# Builds the flashable TDP Kiosk image with pi-gen: Raspberry Pi OS Lite (Bookworm, arm64)
# plus images/stage-tdp (the project in a venv, Kivy's SDL2 libraries, CUPS, the systemd units).
#
# Run it on a Raspberry Pi OS / Debian Bookworm build host (an arm64 Pi 4/5 is fastest; an
# x86-64 host works through qemu-user-static) with about 20 GB free:
#
#   sudo apt-get install git coreutils quilt parted qemu-user-static debootstrap zerofree zip \
#        dosfstools libarchive-tools libcap2-bin grep rsync xz-utils file curl bc gpg pigz \
#        xxd arch-test kmod
#   git clone --depth 1 --branch arm64 https://github.com/RPi-Distro/pi-gen.git ~/pi-gen
#   sudo PIGEN_DIR=~/pi-gen images/build.sh                 # writes ~/pi-gen/deploy/*.img.xz
#   sudo PIGEN_DIR=~/pi-gen TDP_READONLY_ROOT=1 images/build.sh   # read-only root variant
#
# Options (environment): PIGEN_DIR (pi-gen checkout, required), TDP_READONLY_ROOT=1 (overlayroot
# with recurse=0 and /var/lib/tdp on a third, writable partition), TDP_DATA_MB (its size, 1024).
# Then flash deploy/*.img.xz with Raspberry Pi Imager and follow docs/appliance.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/.." && pwd)
pigen=${PIGEN_DIR:?set PIGEN_DIR to a pi-gen checkout (branch arm64)}
[ "$(id -u)" = 0 ] || { echo "build.sh: run as root (pi-gen needs it)" >&2; exit 1; }
[ -x "$pigen/build.sh" ] || { echo "build.sh: $pigen is not a pi-gen checkout" >&2; exit 1; }

# pi-gen only exports images from stages with EXPORT_IMAGE: skip the plain Lite image.
touch "$pigen/stage2/SKIP_IMAGES"
rm -rf "$pigen/stage-tdp"
cp -a "$here/stage-tdp" "$pigen/stage-tdp"
# The stage copies the project from here (see 00-install/00-run.sh).
printf '%s\n' "$project" > "$pigen/stage-tdp/PROJECT_DIR"
printf '%s\n' "${TDP_READONLY_ROOT:-0}" > "$pigen/stage-tdp/READONLY_ROOT"
cp "$here/config" "$pigen/config"
if [ "${TDP_READONLY_ROOT:-0}" = 1 ]; then
    # the data partition is added to the raw image, so compress only afterwards
    echo 'DEPLOY_COMPRESSION="none"' >> "$pigen/config"
fi

(cd "$pigen" && ./build.sh -c config)

if [ "${TDP_READONLY_ROOT:-0}" = 1 ]; then
    image=$(find "$pigen/deploy" -maxdepth 1 -name '*tdp*.img' -printf '%T@ %p\n' | sort -rn | head -n 1 | cut -d' ' -f2-)
    [ -n "$image" ] || { echo "build.sh: no image found in $pigen/deploy" >&2; exit 1; }
    "$here/add-data-partition.sh" "$image" "${TDP_DATA_MB:-1024}"
    xz -T0 -f "$image"
fi
echo "Image(s) in $pigen/deploy/"
