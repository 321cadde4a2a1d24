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

# A notice's schedule (hub → kiosk): "at" is a wall-clock time that each kiosk reads in its own
# timezone, "every" repeats it at that local time. Empty: send at once, once.
NOTICE_AT_FORMAT = "%Y-%m-%d %H:%M"
NOTICE_EVERY = ("", "day", "week", "month")
# A question (hub → kiosk): "C=Có;K=Không", answer codes as in ANSWER_CODE_RE; kiosks count replies.
NOTICE_ASK_LIMIT = 200

# A kiosk's report on one notice (kiosk → hub). "refused": the kiosk would not send it (its monthly
# SMS budget is used up), with the reason in REPORT_DETAIL. REPORT_ANSWERS: counts by answer code
# of a question (--ask), never who answered.
# "relayed": the kiosk had already sent this notice from an official's SMS relay command (same text
# and group within RELAY_MATCH_HOURS), so it did not send the hub's copy; the counts are the relay's.
REPORT_STATES = ("queued", "done", "expired", "cancelled", "refused", "relayed")
RELAY_MATCH_HOURS = 24
# A test notice (hub → kiosk) goes to this one phone, the official's own, and is not put on the board.
NOTICE_TEST_PHONE = "test_phone"
REPORT_COUNTS = ("recipients", "sent", "delivered", "failed")
REPORT_DETAIL = "detail"
REPORT_DETAIL_LIMIT = 120
REPORT_ANSWERS = "answers"
ANSWER_CODE_RE = re.compile(r"^[A-Z0-9]{1,3}$")
ANSWER_LIMIT = 9
MAX_COUNT = 10 ** 9

# Daily totals (kiosk → hub): one entry per local day.
DAY_FIELDS = ("day", "requests", "requests_online", "help_tickets", "sms_parts")

# A software release the hub offers (hub → kiosk, in the heartbeat answer under RELEASE_KEY; null
# when none). The kiosk downloads RELEASE_PATH/<version> with its token, checks size and sha256,
# and installs it at night with `tdp upgrade --pending` (docs/appliance.md).
RELEASE_KEY = "release"
RELEASE_FIELDS = ("version", "filename", "sha256", "size")
RELEASE_PATH = "/releases"
RELEASE_MAX_BYTES = 100 * 2**20
RELEASE_FILENAME_RE = re.compile(r"^tdp[_-]kiosk-(?P<version>[0-9][0-9A-Za-z.+!]*)(-[^-/\\]+-[^-/\\]+-[^-/\\]+\.whl|\.tar\.gz)$")
