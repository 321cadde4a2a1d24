"""The notice board and the notices sent to residents.

Modules:
- board: notices shown at the kiosk and broadcast by SMS (owns the notices table).

May import: kiosk foundations, kiosk.directory (recipients), sms (outbox).
"""
