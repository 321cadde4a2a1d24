#!/bin/bash -e
# pi-gen, on the build host: copy the project into the image at /opt/tdp (no venv, no VCS data).
stage_dir=$(cd "$(dirname "$0")/.." && pwd)
project=$(cat "${stage_dir}/PROJECT_DIR")
install -d -m 755 "${ROOTFS_DIR}/opt/tdp"
tar -C "${project}" --exclude=.git --exclude=.venv --exclude=build --exclude='*.egg-info' \
	--exclude=__pycache__ --exclude=tests -cf - . | tar -C "${ROOTFS_DIR}/opt/tdp" -xf -
install -m 644 "${stage_dir}/READONLY_ROOT" "${ROOTFS_DIR}/opt/tdp/images/READONLY_ROOT"
