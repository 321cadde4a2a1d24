"""The ward's report and the residents' anonymous ratings.

Modules:
- ward: the report, computed with SQL. It is the one declared cross-table reader: it reads the
  tables of directory, dossiers, volunteers, relay and sms but never writes them.
- export: the report as xlsx (native charts), csv or PDF.
- ratings: anonymous ratings (service, day, score; owns the ratings table).

May import: every domain package (read only), kiosk foundations, hardware (PDF fonts).
"""
