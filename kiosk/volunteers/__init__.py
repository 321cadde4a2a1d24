"""Volunteers, their rota and the help tickets they answer.

Modules:
- people: volunteers, PINs, availability, check-in/out (owns volunteers and attendance tables).
- rota: fair shift planning and who is on duty (owns rota tables).
- rota_sheet: the weekly printable rota (PDF).
- help_tickets: calls for help from the kiosk, by SMS or for a home visit (owns help_tickets).

May import: kiosk foundations, kiosk.directory.phone, sms (outbox), hardware (PDF fonts).
"""
