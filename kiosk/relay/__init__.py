"""The SMS relay: every text that reaches the kiosk's SIM is routed here (docs/relay.md).

Modules:
- router: the inbox handler the gateway calls (make_handler): who a message is from, the PIN
  masked in the inbox, replies queued within the budget, simulate, purge.
- officials: officials' commands (TB, KC, XN, HUY, TT, NHOM) with PIN, lockout and the audit log.
- residents: residents' keywords (DK, HS, HOTRO, TAMTRU), withdrawals, forwards to the leader.
- stop_words: every way a resident says stop, certain or uncertain.
- budget: automatic SMS per incoming number, granted in one SQL statement.
- texts: every automatic reply as a fixed template with bounded fields.

May import: kiosk foundations, kiosk.directory, kiosk.dossiers, kiosk.notices, kiosk.volunteers,
sms (outbox, inbox). Nothing imports relay except the wiring and the CLI.
"""
