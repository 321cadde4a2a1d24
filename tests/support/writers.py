"""A process that keeps writing to the store through the domain functions, as the appliance does.

`python -m tests.support.writers KIND STORE SEED` writes forever (until killed) and prints one
line per committed transaction, after the commit returned: `KIND TABLE ID` for each row it
wrote. A test that kills it with -9 then knows every row that was committed before the kill.
Kinds: households (household + resident + consent), requests (dossiers with their events),
audit (the relay's audit log), broadcasts (SMS to many recipients), imports (a contact list).
"""
from __future__ import annotations

import sys
from pathlib import Path


def _print(*fields) -> None:
    sys.stdout.write(" ".join(str(f) for f in fields) + "\n")
    sys.stdout.flush()


def households(db, seed: int, n: int) -> None:
    from kiosk.directory import residents
    household = residents.add_household(db, f"Số {n} ngõ {seed} phố Hòa Bình", "Tổ 1")
    phone = f"09{seed % 10}{n % 10_000_000:07d}"
    resident, _ = residents.upsert_resident(db, f"Nguyễn Thị Ánh {seed}-{n}", phone, household_id=household,
                                            consent=residents.Consent(True, "kiosk", f"writer {seed}"))
    _print("households", "households", household)
    _print("households", "residents", resident)


def requests(db, seed: int, n: int) -> None:
    from kiosk.dossiers import lifecycle
    dossier = lifecycle.create(db, procedure_code="HT-KS", full_name=f"Lê Văn Đức {seed}-{n}",
                               phone=f"08{seed % 10}{n % 10_000_000:07d}")
    _print("requests", "dossiers", dossier.id)


def audit(db, seed: int, n: int) -> None:
    with db.transaction() as conn:
        row = conn.execute("INSERT INTO relay_audit (at, sender, official, command, outcome, detail) "
                           "VALUES (datetime('now'), ?, 'Trần Văn Bình', 'TB', 'accepted', ?)",
                           (f"+8491{seed:03d}{n % 10000:04d}", f"thông báo {n}")).lastrowid
    _print("audit", "relay_audit", row)


def broadcasts(db, seed: int, n: int) -> None:
    from sms import outbox
    recipients = [f"+8493{seed % 10}{(n * 20 + i) % 1_000_000:06d}" for i in range(20)]
    for message in outbox.enqueue_many(db, recipients, f"Thông báo họp tổ dân phố số {n}", key_prefix=f"w{seed}:{n}:"):
        _print("broadcasts", "outbox_messages", message)


def imports(db, seed: int, n: int, folder: Path) -> None:
    from kiosk.directory import contacts
    from tests.support.contact_lists import write_xlsx
    phones = [f"07{seed % 10}{(n * 10 + i) % 10_000_000:07d}" for i in range(1, 11)]
    path = write_xlsx(folder / f"list-{seed}-{n % 2}.xlsx",
                      [[i, f"Phạm Thị Hoa {n}-{i}", "Hội viên", "Hội Phụ nữ", phone] for i, phone in enumerate(phones, 1)])
    contacts.import_contacts(db, path, residential_group="Tổ 1")
    for phone in phones:
        _print("imports", "residents.phone", "+84" + phone[1:])


def main(kind: str, store: str, seed: int) -> None:
    from kiosk.appliance.store import open_store
    db = open_store(store)
    write = {"households": households, "requests": requests, "audit": audit, "broadcasts": broadcasts}.get(kind)
    n = 0
    _print("ready", kind, 0)
    while True:
        n += 1
        if kind == "imports":
            imports(db, seed, n, Path(store).parent)
        else:
            write(db, seed, n)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
