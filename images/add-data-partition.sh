#!/bin/bash
# Appends the writable data partition (ext4, label TDPDATA, mounted at /var/lib/tdp) to a
# built image, for the read-only-root variant. Usage: add-data-partition.sh IMAGE.img [SIZE_MB]
set -euo pipefail

image=${1:?usage: add-data-partition.sh IMAGE.img [SIZE_MB]}
size_mb=${2:-1024}
[ -f "$image" ] || { echo "add-data-partition.sh: $image not found" >&2; exit 1; }

if parted -s "$image" print | grep -q '^ 3 '; then
    echo "add-data-partition.sh: $image already has a third partition"
    exit 0
fi
start_mb=$(( ($(stat -c %s "$image") / 1048576) + 1 ))
truncate -s "$(( (start_mb + size_mb) * 1048576 ))" "$image"
parted -s "$image" mkpart primary ext4 "${start_mb}MiB" "$(( start_mb + size_mb ))MiB"
loop=$(losetup --find --show --partscan "$image")
trap 'losetup -d "$loop"' EXIT
mkfs.ext4 -q -L TDPDATA "${loop}p3"
echo "add-data-partition.sh: TDPDATA (${size_mb} MiB) added to $image"
