"""The touchscreen kiosk (Kivy 2.3): one .kv file per screen, screens loaded lazily.

Nothing here imports Kivy at package import time: `tdp` must start fast and work without a display.
"""
