"""The resident directory: households, residents, groups, consent, contact import/export, phones.

Modules:
- residents: households, residents, groups and memberships, the consent log (owns those tables).
- contacts: import of officials' lists (xlsx/docx/csv through kiosk.tabular) and export.
- registration: a household registering itself at the kiosk with an SMS code (owns its OTP table).
- phone: the one phone normaliser (E.164, the 2018 prefix table), pure.

May import: kiosk foundations (errors, text, tabular, clock, appliance.config) and sms (outbox).
Never imports dossiers, relay, notices, volunteers or the UI.
"""
