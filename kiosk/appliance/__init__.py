"""The appliance itself: config, the store, devices, health, first boot, and process wiring.

Modules:
- config: typed TOML config (dataclasses, every field documented with unit and default).
- config_checks: values typing cannot catch (times, zones, ranges, PINs, hub URL), one line each.
- store: the one SQLite file and the list of every package's migrations.
- wiring: builds each process (SMS gateway, kiosk devices, sync) from config; the one place that
  joins sms/, hardware/ and the domain.
- devices: the GPIO devices from config (help button, LEDs, modem power key).
- status: the one health aggregator (modem, printer, hub, disk) for Home, the LEDs and sync.
- doctor: `tdp doctor`'s checks.  firstboot, bootfiles: the first boot of a fresh card.
- sdnotify: systemd's READY/WATCHDOG protocol.

May import: every kiosk package (wiring and doctor join them), sms, hardware. Domain packages
import only appliance.config and appliance.store from here.
"""
