"""The officials' hub: kiosk API (/api/v1), web console and admin operations.

It never imports `kiosk/`: the kiosk talks to it over HTTP only, and the hub stores notice
texts, group codes and counts, never a resident's name or phone number.
"""
