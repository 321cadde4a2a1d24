"""`tdp sms decode` takes a PDU as pasted: spaces, tabs and line breaks anywhere (issue 17)."""
from __future__ import annotations

PDU = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"


def test_a_pdu_pasted_with_spaces_and_line_breaks_decodes_like_the_plain_one(tdp):
    plain = tdp("sms", "decode", PDU, "--json")
    assert plain.code == 0, plain.err
    spaced = " ".join(PDU[i:i + 2] for i in range(0, len(PDU), 2))
    for pasted in ([spaced], [spaced.replace(" ", "\n", 5) + "\n"], ["\t" + PDU[:20], PDU[20:] + " "]):
        r = tdp("sms", "decode", *pasted, "--json")
        assert r.code == 0 and r.data == plain.data, (pasted, r.err)
    assert "hellohello" in tdp("sms", "decode", spaced).out


def test_a_bad_pdu_is_still_one_line(tdp):
    r = tdp("sms", "decode", "07 91 ZZ")
    assert r.code == 1 and len(r.err.strip().splitlines()) == 1
