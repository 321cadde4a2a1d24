"""The request desk: procedures, requests (dossiers) and their tracking codes, receipts' data.

Modules:
- procedures: the ward's procedures as validated TOML data (kiosk/data/procedures.toml).
- lifecycle: a request from the kiosk to its result, with an SMS at each change (owns dossiers tables).
- tracking: tracking codes with their check character, pure.
- receipts: what a slip carries (its data and QR payload); rendering is hardware.receipts.

May import: kiosk foundations, kiosk.directory, sms (outbox), hardware (receipts, printer).
"""
