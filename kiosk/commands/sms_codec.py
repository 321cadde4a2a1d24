"""`tdp sms decode|segments`: look inside a PDU, or see how a text will be split, before sending."""
from __future__ import annotations

from sms.pdu import Deliver, StatusReport, decode
from sms.segments import GSM7, segment

_ENCODING_NAMES = {"gsm7": "GSM 7-bit", "ucs2": "UCS-2", "8bit": "8-bit data"}


def register(cli) -> None:
    group = cli.group("sms", help="send, inspect and debug SMS")
    decoder = group.command("decode", _decode, json=True,
                            help="decode a PDU as read from the modem (AT+CMGR / +CMT), for field debugging")
    decoder.add_argument("hex", nargs="+", metavar="HEX",
                         help="the PDU in hex, SMSC information first (spaces and line breaks anywhere are ignored)")
    segmenter = group.command("segments", _segments, json=True,
                              help="show the encoding, part count and each part's text before sending")
    segmenter.add_argument("text", metavar="TEXT", help="the message text")
    segmenter.add_argument("--unaccented", action="store_true",
                           help="transliterate Vietnamese to plain letters (160/153 characters a part)")


def _decode(ctx):
    # Pasted PDUs come with spaces, tabs or line breaks between octets, in one argument or several.
    message = decode("".join("".join(ctx.args.hex).split()))
    ctx.emit(message.as_dict(), lambda: _describe(message))


def _describe(message) -> str:
    if isinstance(message, StatusReport):
        outcome = "delivered" if message.delivered else ("failed" if message.final else "pending, SMSC still trying")
        return "\n".join([
            f"SMS-STATUS-REPORT for message reference {message.message_ref}",
            f"recipient: {message.recipient} ({message.recipient_type})",
            f"status:    0x{message.status:02X} {outcome}{' (final)' if message.final else ''}",
            f"submitted: {message.service_timestamp.isoformat()}",
            f"outcome at: {message.discharge_timestamp.isoformat()}",
            f"SMSC:      {message.smsc or '-'}",
        ])
    if isinstance(message, Deliver):
        lines = [f"SMS-DELIVER from {message.sender} ({message.sender_type})",
                 f"time:      {message.timestamp.isoformat()}"]
    else:
        validity = message.validity
        lines = [f"SMS-SUBMIT to {message.number} ({message.number_type})",
                 f"reference: {message.message_ref}; status report "
                 f"{'requested' if message.status_report_requested else 'not requested'}",
                 f"validity:  {_validity(validity)}"]
    lines.append(f"SMSC:      {message.smsc or '-'}")
    lines.append(f"encoding:  {_ENCODING_NAMES[message.encoding]} (DCS 0x{message.dcs:02X})")
    if message.concat:
        reference, total, sequence = message.concat
        lines.append(f"part:      {sequence} of {total} (reference {reference})")
    else:
        lines.append("part:      single message")
    label = "data (hex)" if message.encoding == "8bit" else "text"
    lines.append(f"{label}:\n{message.text}")
    return "\n".join(lines)


def _validity(validity) -> str:
    if validity is None:
        return "not set"
    if isinstance(validity, int):
        return f"{validity} minutes" if validity < 1440 else f"{validity / 1440:g} days"
    return validity.isoformat()


def _segments(ctx):
    result = segment(ctx.args.text, unaccented=ctx.args.unaccented)
    data = result.as_dict()
    hint = None
    if result.encoding != GSM7 and not ctx.args.unaccented:
        plain = segment(ctx.args.text, unaccented=True)
        if plain.count < result.count:
            hint = f"tip: --unaccented would send it in {plain.count} part(s) of GSM 7-bit"
            data["unaccented_count"] = plain.count

    def human() -> str:
        lines = [f"encoding: {_ENCODING_NAMES[result.encoding]}"
                 f" ({result.capacity} {result.unit_name} per part)",
                 f"parts:    {result.count} ({result.chars} characters, {result.units} {result.unit_name};"
                 f" {result.remaining} free in the last part)"]
        for number, (part, units) in enumerate(zip(result.parts, result.part_units), 1):
            lines.append(f"--- part {number}/{result.count} ({units} {result.unit_name})")
            lines.append(part)
        if hint:
            lines.append(hint)
        return "\n".join(lines)
    ctx.emit(data, human)
