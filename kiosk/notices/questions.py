"""Questions with counted replies: a notice sent with `--ask "C=Có;K=Không"`.

The SMS tells recipients how to answer. A reply is matched to the newest open question sent to
that number, with case, diacritics, punctuation and extra words ignored: "c", "C.", "Có ạ" and
"co nhe" all count as C. A later answer from the same number replaces its earlier one. A question
closes `notices.question_hours` after it went out; the official who asked then gets the tally by
SMS (and at any time with `TT <PIN>`). Counts may go to the hub; who answered what (names) stays
on the kiosk.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sms import outbox
from sms.storage import Database, Migration

from kiosk import clock
from kiosk.directory import residents as directory
from kiosk.errors import InvalidInput
from kiosk.text import clean, fold

MIGRATIONS = [
    Migration("0001_questions", """
        CREATE TABLE notice_questions (
            id INTEGER PRIMARY KEY,
            send_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            options TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            closes_at TEXT NOT NULL,
            closed_at TEXT,
            report_to TEXT NOT NULL DEFAULT '',
            UNIQUE (send_id, seq)
        );
        CREATE INDEX notice_questions_open ON notice_questions(closed_at, closes_at);
        CREATE TABLE question_targets (
            question_id INTEGER NOT NULL REFERENCES notice_questions(id) ON DELETE CASCADE,
            phone TEXT NOT NULL,
            PRIMARY KEY (phone, question_id)
        );
        CREATE TABLE question_answers (
            question_id INTEGER NOT NULL REFERENCES notice_questions(id) ON DELETE CASCADE,
            phone TEXT NOT NULL,
            answer TEXT NOT NULL,
            text TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (question_id, phone)
        );
    """),
]

MAX_OPTIONS = 9
_CODE = re.compile(r"^[A-Za-z0-9]{1,3}$")


class QuestionError(InvalidInput):
    """An --ask that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Answer:
    question_id: int
    send_id: int
    code: str
    label: str


def parse_options(spec: str) -> list[tuple[str, str]]:
    """'C=Có;K=Không' → [('C', 'Có'), ('K', 'Không')]; QuestionError when malformed."""
    options = []
    for piece in clean(spec).split(";"):
        if not piece.strip():
            continue
        code, sep, label = piece.partition("=")
        code, label = code.strip().upper(), clean(label)
        if not sep or not _CODE.match(code) or not label or len(label) > 30:
            raise QuestionError(f"--ask must look like \"C=Có;K=Không\" (a code of 1-3 letters or digits = an answer "
                                f"of at most 30 characters), got {piece.strip()!r}",
                                "Câu hỏi phải có dạng C=Có;K=Không")
        options.append((code, label))
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise QuestionError(f"--ask needs 2 to {MAX_OPTIONS} answers", "Câu hỏi cần từ 2 đến 9 câu trả lời")
    if len(set(fold(c) for c, _ in options)) != len(options) or len(set(fold(l) for _, l in options)) != len(options):
        raise QuestionError("--ask answers must differ in their codes and their words", "Các câu trả lời trùng nhau")
    return options


def format_options(options: list[tuple[str, str]]) -> str:
    return ";".join(f"{c}={l}" for c, l in options)


def instructions(options: list[tuple[str, str]]) -> str:
    """The line added to the SMS: how to answer."""
    return " Trả lời: nhắn " + ", ".join(f"{c} ({l})" for c, l in options) + "."


def match(options: list[tuple[str, str]], text: str) -> tuple[str, str] | None:
    """The option a reply means, or None. The first word may be the code or the answer's first
    word; or the whole reply may start with a whole answer ("khong di duoc" → Không)."""
    words = [fold(w) for w in clean(text).split()]
    words = [w for w in words if w]
    if not words:
        return None
    for code, label in options:
        if words[0] == fold(code):
            return code, label
    whole = "".join(words)
    by_label = sorted(options, key=lambda o: -len(fold(o[1])))
    for code, label in by_label:
        if len(clean(label).split()) > 1 and whole.startswith(fold(label)):
            return code, label
    firsts = [(c, l) for c, l in options if fold(clean(l).split()[0]) == words[0]]
    return firsts[0] if len(firsts) == 1 else None


def open_question(db: Database, send_id: int, seq: int, options: list[tuple[str, str]], phones: list[str],
                  closes: datetime, report_to: str) -> int:
    with db.transaction() as conn:
        question_id = conn.execute(
            "INSERT INTO notice_questions (send_id, seq, options, opened_at, closes_at, report_to) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (send_id, seq, format_options(options), clock.utc_stamp(), clock.utc_stamp(closes), report_to)).lastrowid
        conn.executemany("INSERT OR IGNORE INTO question_targets (question_id, phone) VALUES (?, ?)",
                         [(question_id, p) for p in phones])
    return question_id


def record_reply(db: Database, phone: str, text: str, now: datetime | None = None) -> Answer | None:
    """Count `text` from `phone` as an answer to the newest open question sent to it; None when
    there is none or the text answers nothing (the caller then treats it as an ordinary message)."""
    stamp = clock.utc_stamp(now)
    row = db.query_one("SELECT q.id, q.send_id, q.options FROM notice_questions q JOIN question_targets t "
                       "ON t.question_id = q.id WHERE t.phone = ? AND q.closed_at IS NULL AND q.closes_at > ? "
                       "ORDER BY q.id DESC LIMIT 1", (phone, stamp))
    if row is None:
        return None
    found = match(parse_options(row["options"]), text)
    if found is None:
        return None
    with db.transaction() as conn:
        conn.execute("INSERT INTO question_answers (question_id, phone, answer, text, at) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT (question_id, phone) DO UPDATE SET answer = excluded.answer, text = excluded.text, "
                     "at = excluded.at", (row["id"], phone, found[0], clean(text)[:160], stamp))
    return Answer(row["id"], row["send_id"], *found)


def tally(db: Database, send_id: int) -> dict | None:
    """Counts by answer over the notice's questions (all its occurrences): {"asked", "answered",
    "counts": {code: n}, "options", "open"}; None if the notice asks nothing. No names."""
    questions = db.query("SELECT id, options, closed_at FROM notice_questions WHERE send_id = ? ORDER BY id",
                         (send_id,))
    if not questions:
        return None
    options = parse_options(questions[-1]["options"])
    ids = [q["id"] for q in questions]
    marks = ",".join("?" * len(ids))
    counts = {code: 0 for code, _ in options}
    for r in db.query(f"SELECT answer, COUNT(*) AS n FROM question_answers WHERE question_id IN ({marks}) "
                      "GROUP BY answer", ids):
        counts[r["answer"]] = counts.get(r["answer"], 0) + r["n"]
    asked = db.scalar(f"SELECT COUNT(*) FROM question_targets WHERE question_id IN ({marks})", ids) or 0
    return {"options": [{"code": c, "label": l} for c, l in options], "counts": counts, "asked": asked,
            "answered": sum(counts.values()), "open": any(q["closed_at"] is None for q in questions)}


def who(db: Database, send_id: int) -> list[dict]:
    """Each answer with the resident's name: for the kiosk's CLI only, never for the hub."""
    rows = db.query("SELECT a.phone, a.answer, a.text, a.at FROM question_answers a JOIN notice_questions q "
                    "ON q.id = a.question_id WHERE q.send_id = ? ORDER BY a.answer, a.at", (send_id,))
    for row in rows:
        resident = directory.find_resident_by_phone(db, row["phone"])
        row["name"] = resident["full_name"] if resident else ""
    return rows


def tally_text(send_id: int, result: dict) -> str:
    """The tally as one short unaccented SMS."""
    from sms.vietnamese import unaccent
    pieces = ", ".join(f"{o['code']} ({unaccent(o['label'])}) {result['counts'].get(o['code'], 0)}"
                       for o in result["options"])
    silent = result["asked"] - result["answered"]
    return f"TDP: Ket qua hoi TB so {send_id} ({result['asked']} nguoi): {pieces}, chua tra loi {silent}."


def close_due(db: Database, now: datetime | None = None) -> list[int]:
    """Close questions whose time is up and text each tally to whoever asked; the question ids.
    Each is closed by one UPDATE that only one caller can win, so a tally is never sent twice."""
    stamp = clock.utc_stamp(now)
    closed = []
    for row in db.query("SELECT id, send_id, report_to FROM notice_questions WHERE closed_at IS NULL "
                        "AND closes_at <= ?", (stamp,)):
        with db.transaction() as conn:
            won = conn.execute("UPDATE notice_questions SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                               (stamp, row["id"])).rowcount
            if not won:
                continue
            result = tally(db, row["send_id"])
            if row["report_to"] and result:
                outbox.enqueue(db, row["report_to"], tally_text(row["send_id"], result), priority="normal",
                               key=f"question-tally:{row['id']}", unaccented=True, force=True, source="notice")
        closed.append(row["id"])
    return closed


def summary_for(db: Database, phone: str, limit: int = 2) -> str:
    """The latest questions reported to `phone`, for the `TT <PIN>` reply ('' if none)."""
    rows = db.query("SELECT DISTINCT send_id FROM notice_questions WHERE report_to = ? ORDER BY send_id DESC LIMIT ?",
                    (phone, limit))
    pieces = []
    for row in rows:
        result = tally(db, row["send_id"])
        if result:
            counts = "/".join(f"{c}{result['counts'].get(c, 0)}" for c in (o["code"] for o in result["options"]))
            pieces.append(f"hoi #{row['send_id']} {counts} ({result['answered']}/{result['asked']}"
                          f"{', dang mo' if result['open'] else ''})")
    return "; ".join(pieces)
