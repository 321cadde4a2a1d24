"""The kiosk–hub wire contract, imported by both sides (kiosk/sync.py and hub/).

Pure data: no SQLAlchemy, no HTTP. A field renamed here changes both ends at once; a field
renamed on one side only breaks tests/hub/test_contract.py instead of silently dropping data.
The API itself is described in docs/hub-api.md.
"""
from __future__ import annotations

import re

API_VERSION = 1
API_PREFIX = f"/api/v{API_VERSION}"

# Heartbeat (kiosk → hub): device health and counts only, never anything personal.
# One row per modem, the gateway's health row reduced to these fields.
MODEM_FIELDS = ("port", "state", "operator", "signal", "registration", "sent", "updated_at")
MODEM_LIMIT = 8
# Text fields with their maximum length (longer text is cut), and non-negative numbers.
HEARTBEAT_TEXT = {"version": 40, "printer": 60, "hub_state": 40, "sim_number": 20,
                  # The volunteer on duty whom an official can call about an offline kiosk: first name
                  # and phone only, and only of a volunteer (never of a resident).
                  "duty_name": 40, "duty_phone": 20}
HEARTBEAT_NUMBERS = ("uptime_s", "queue_depth", "disk_free_mb")
# The kiosk's groups with their consenting-member counts, so officials can pick a group.
GROUP_FIELDS = ("code", "name", "consenting")
GROUP_LIMIT = 50
GROUP_CODE_RE = re.compile(r"^[A-Z0-9]{1,20}$")
GROUP_NAME_LIMIT = 60

PRINTER_STATES = ("ready", "pdf", "offline", "stopped")

# The code meaning "every consenting resident" on both sides (and in officials' SMS commands).
EVERYONE_CODE = "TATCA"

# A kiosk's report on one notice (kiosk → hub).
# "relayed": the kiosk had already sent this notice from an official's SMS relay command (same text
# and group within RELAY_MATCH_HOURS), so it did not send the hub's copy; the counts are the relay's.
REPORT_STATES = ("queued", "done", "expired", "cancelled", "relayed")
RELAY_MATCH_HOURS = 24
# A test notice (hub → kiosk) goes to this one phone, the official's own, and is not put on the board.
NOTICE_TEST_PHONE = "test_phone"
MAX_COUNT = 10 ** 9

# Daily totals (kiosk → hub): one entry per local day.
DAY_FIELDS = ("day", "requests", "requests_online", "help_tickets", "sms_parts")
