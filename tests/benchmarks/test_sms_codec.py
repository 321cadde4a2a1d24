"""Codec benchmarks: (a) PDU encoding throughput, (d) part counts are the minimum possible.

Run with `make bench` (pytest -s) to see the figures.
"""
from __future__ import annotations

import random
import time

from sms.pdu import decode_submit, encode_message
from sms.segments import CAPACITY, segment, unit_costs
from tests.conftest import SHARED
from tests.sms.test_segments import EMOJI, EXTENSION, minimum_parts

MESSAGES = 10_000
ENCODE_TARGET_PER_SECOND = 2_000   # a modem sends < 1 part/s; the codec must never be the bottleneck
RANDOM_TEXTS = 1_000


def vietnamese_messages(count: int, seed: int = 3) -> list[tuple[str, bool]]:
    """`count` (text, unaccented) pairs cut from the real Vietnamese seed documents.

    Lengths 10–700 characters; a third sent unaccented; some carry emoji or GSM extension characters.
    """
    rng = random.Random(seed)
    corpus = " ".join(" ".join(path.read_text(encoding="utf-8").split())
                      for path in sorted((SHARED / "seeds").glob("*.txt")))
    messages = []
    for _ in range(count):
        length = rng.choice([rng.randint(10, 70), rng.randint(70, 200), rng.randint(200, 700)])
        start = rng.randrange(0, len(corpus) - length)
        text = corpus[start:start + length].strip() or "Thông báo"
        if rng.random() < 0.1:
            text += " " + rng.choice(EMOJI)
        if rng.random() < 0.1:
            text += " " + rng.choice(EXTENSION)
        messages.append((text, rng.random() < 1 / 3))
    return messages


def test_a_encode_10000_mixed_vietnamese_messages():
    messages = vietnamese_messages(MESSAGES)
    started = time.perf_counter()
    parts = 0
    for reference, (text, unaccented) in enumerate(messages):
        parts += len(encode_message("+84912345678", text, unaccented=unaccented, reference=reference % 256))
    elapsed = time.perf_counter() - started
    rate = MESSAGES / elapsed
    print(f"\n(a) encoded {MESSAGES} mixed Vietnamese messages ({parts} parts) in {elapsed:.2f} s: "
          f"{rate:,.0f} msgs/s, {parts / elapsed:,.0f} parts/s (target >= {ENCODE_TARGET_PER_SECOND} msgs/s)")
    assert rate >= ENCODE_TARGET_PER_SECOND
    # The output is real: a sample decodes back to the text that was meant.
    for text, unaccented in messages[:200]:
        pdus = encode_message("+84912345678", text, unaccented=unaccented, reference=1)
        expected = segment(text, unaccented=unaccented).text
        assert "".join(decode_submit(pdu).text for pdu, _ in pdus) == expected


def test_d_part_count_is_the_minimum_for_the_chosen_encoding():
    rng = random.Random(4)
    pool = "".join(sorted(set(" ".join(path.read_text(encoding="utf-8")
                                       for path in (SHARED / "seeds").glob("*.txt"))))) + EMOJI + EXTENSION
    started = time.perf_counter()
    parts = checked = 0
    for _ in range(RANDOM_TEXTS):
        alphabet = rng.choice([pool, EXTENSION + "abc ", EMOJI + "aế ", "aăâđêôơư ", pool + EXTENSION * 20])
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 700))).strip() or "x"
        for unaccented, ref16 in ((False, False), (True, False), (False, True)):
            result = segment(text, unaccented=unaccented, ref16=ref16)
            single, concat8, concat16 = CAPACITY[result.encoding]
            best = minimum_parts(unit_costs(result.text, result.encoding), single, concat16 if ref16 else concat8)
            assert result.count == best, (text, unaccented, ref16)
            parts += result.count
            checked += 1
    elapsed = time.perf_counter() - started
    print(f"\n(d) {checked} segmentations of random texts ({parts} parts): every part count equals the "
          f"minimum for its encoding (checked by dynamic programming) [{elapsed:.1f} s]")
