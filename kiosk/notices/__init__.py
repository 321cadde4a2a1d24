"""The notice board and the notices sent to residents.

Modules:
- board: notices shown at the kiosk (owns the notices table).
- schedule: notices sent by SMS now, at a time, or every day/week/month (owns notice_sends and
  notice_occurrences); run_due() is called by the gateway's tick (housekeeping).
- audience of a notice: kiosk.directory.residents.audience (people or households).
- templates: {ho_ten} {dia_chi} {ngay} filled per recipient.
- questions: --ask, replies matched and counted, tallies (owns notice_questions and answers).
- delivery: who got a notice and who did not (the kiosk's view; names never leave it).
- budget: the monthly SMS budget (owns budget_alerts).
- digest: the group leader's evening digest (owns digest_days).
- sms_commands: the officials' HG/HH SMS commands (schedule, cancel a scheduled notice).
- housekeeping: the periodic tick that runs the above.

May import: kiosk foundations, kiosk.directory, sms (outbox); digest reads kiosk.relay and
kiosk.volunteers through their query functions.
"""
