"""Devices: GPIO (gpiozero), printer (pycups) and receipt rendering. No domain logic here."""
