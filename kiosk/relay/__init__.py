"""The SMS relay: every text that reaches the kiosk's SIM is routed here.

Modules:
- officials: officials' commands (TB, KC, XN, HUY, TT, NHOM) with PIN, lockout and audit log.
- residents: residents' keywords (DK, HUY and every way of saying stop, HS, HOTRO, TAMTRU),
  forwarding to the leader, and the inbox handler the gateway calls (make_handler).

May import: kiosk foundations, kiosk.directory, kiosk.dossiers, kiosk.notices, kiosk.volunteers,
sms (outbox, inbox). Nothing imports relay except the wiring and the CLI.
"""
