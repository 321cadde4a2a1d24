"""SMS over a GSM/LTE HAT: AT driver, PDU codec, outbox/inbox, gateway daemon, emulator.

Knows nothing of the kiosk: it is given a store and handlers, never imports them.
"""
