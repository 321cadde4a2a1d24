#!/bin/bash -e
# pi-gen, inside the image: the tdp user, the venv, the units, and optionally a read-only root.
# Also run by `make image-check` in a debootstrap'd Debian root, so it must not assume a Pi.

if ! id tdp >/dev/null 2>&1; then
	adduser --system --group --home /var/lib/tdp --no-create-home tdp
fi
for group in video input render audio dialout gpio; do
	getent group "$group" >/dev/null || groupadd --system "$group"
	usermod -a -G "$group" tdp
done
install -d -o tdp -g tdp -m 750 /var/lib/tdp
install -d -o root -g tdp -m 750 /etc/tdp

# The project in its own venv; lgpio gives gpiozero the Pi's GPIO through /dev/gpiochip*.
python3 -m venv /opt/tdp/.venv
/opt/tdp/.venv/bin/pip install --quiet --upgrade pip
/opt/tdp/.venv/bin/pip install --quiet -e /opt/tdp
/opt/tdp/.venv/bin/pip install --quiet lgpio || echo "lgpio not installed: GPIO will be unavailable" >&2

# Units: first boot enables the daemons once it has read tdp.toml from the boot partition.
install -m 644 /opt/tdp/provisioning/systemd/*.service /opt/tdp/provisioning/systemd/*.timer /etc/systemd/system/
install -d /etc/systemd/system/multi-user.target.wants
ln -sf /etc/systemd/system/tdp-firstboot.service /etc/systemd/system/multi-user.target.wants/
chmod 755 /opt/tdp/provisioning/firstboot
install -m 644 /opt/tdp/provisioning/tdp.example.toml /etc/tdp/tdp.example.toml

# Optional read-only root: overlayroot on tmpfs for /, but recurse=0 leaves other mounts
# (the TDPDATA partition at /var/lib/tdp, see images/add-data-partition.sh) writable.
if [ "$(cat /opt/tdp/images/READONLY_ROOT 2>/dev/null || echo 0)" = 1 ]; then
	echo 'overlayroot="tmpfs:recurse=0"' > /etc/overlayroot.local.conf
	if ! grep -q 'LABEL=TDPDATA' /etc/fstab; then
		echo 'LABEL=TDPDATA /var/lib/tdp ext4 defaults,noatime,commit=60 0 2' >> /etc/fstab
	fi
fi
