"""SMS PDUs (3GPP TS 23.040, ex GSM 03.40): encode SMS-SUBMIT, decode DELIVER / STATUS-REPORT / SUBMIT.

Pure functions, no I/O. Hex strings are what `AT+CMGS`, `AT+CMGR`, `+CMGL` and `+CMT` carry in
PDU mode: the SMSC information (length octet, then the address) comes first, then the TPDU.
Every malformed input raises `PduError` with a one-line message that says what is wrong and where.

`encode_deliver` and `encode_status_report` build what a network would send; the modem
emulator and the tests use them to feed the real decoder.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

from . import gsm7
from .errors import SmsError
from .segments import GSM7, UCS2, segment

EIGHT_BIT = "8bit"

MTI_DELIVER, MTI_SUBMIT, MTI_STATUS_REPORT = 0, 1, 2
IEI_CONCAT_8, IEI_CONCAT_16 = 0x00, 0x08
MAX_USER_DATA_OCTETS = 140
MAX_ADDRESS_DIGITS = 20
MAX_SMSC_OCTETS = 11  # type octet + 10 octets of digits (TS 24.011 RP address)
MAX_VALIDITY_MINUTES = 63 * 7 * 24 * 60

_TON_NAMES = {1: "international", 2: "national", 5: "alphanumeric"}


class PduError(SmsError, ValueError):
    """A PDU cannot be built or parsed; the message says what is wrong (truncated, bad length…)."""


@dataclass
class Deliver:
    """An SMS-DELIVER: a message a phone sent to us. `timestamp` is the SMSC's, timezone-aware.

    `encoding` is "gsm7", "ucs2" or "8bit" (then `text` is the data as hex and `data` the bytes).
    `concat` is (reference, total, sequence) when the message is one part of several.
    """
    smsc: str | None
    sender: str
    sender_type: str
    timestamp: datetime
    text: str
    encoding: str
    concat: tuple[int, int, int] | None = None
    pid: int = 0
    dcs: int = 0
    udh: bytes = b""
    data: bytes = b""
    message_class: int | None = None
    status_report_indicated: bool = False

    kind = "deliver"

    def as_dict(self) -> dict:
        return _as_dict(self)


@dataclass
class StatusReport:
    """An SMS-STATUS-REPORT about a message we sent with reference `message_ref` (0–255).

    `status` is TP-ST: 0x00–0x1F completed (0x00–0x02 delivered), 0x20–0x3F temporary error
    with the SMSC still trying, 0x40 and above failed for good.
    """
    smsc: str | None
    message_ref: int
    recipient: str
    recipient_type: str
    service_timestamp: datetime
    discharge_timestamp: datetime
    status: int

    kind = "status_report"

    @property
    def delivered(self) -> bool:
        """True when the recipient's phone received the message (or the SMSC replaced it)."""
        return 0x00 <= self.status <= 0x02

    @property
    def final(self) -> bool:
        """False while the SMSC is still trying (temporary errors 0x20–0x3F); True otherwise."""
        return not 0x20 <= self.status <= 0x3F

    def as_dict(self) -> dict:
        return {**_as_dict(self), "delivered": self.delivered, "final": self.final}


@dataclass
class Submit:
    """An SMS-SUBMIT: what the driver handed the modem (or a sent message read back from the SIM).

    `validity` is minutes (relative), an aware datetime (absolute) or None (absent/enhanced).
    """
    number: str
    number_type: str
    text: str
    encoding: str
    concat: tuple[int, int, int] | None
    message_ref: int
    status_report_requested: bool
    validity: int | datetime | None
    smsc: str | None = None
    pid: int = 0
    dcs: int = 0
    udh: bytes = b""
    data: bytes = b""
    reject_duplicates: bool = False

    kind = "submit"

    def as_dict(self) -> dict:
        return _as_dict(self)


def _as_dict(message) -> dict:
    data = {"kind": message.kind, **asdict(message)}
    for key, value in data.items():
        if isinstance(value, bytes):
            data[key] = value.hex().upper()
        elif isinstance(value, datetime):
            data[key] = value.isoformat()
        elif isinstance(value, tuple):
            data[key] = list(value)
    return data


# ---------------------------------------------------------------- encoding

def encode_submit(number: str, text: str, *, encoding: str, concat: tuple[int, int, int] | None = None,
                  ref16: bool = False, status_report: bool = True, validity_minutes: int | None = 1440,
                  message_ref: int = 0) -> tuple[str, int]:
    """Build one SMS-SUBMIT part.

    `number`: "+84912345678" (international) or digits (national number or short code); normalise
    it first (kiosk.directory.phone). `text` is sent exactly as given, in `encoding` ("gsm7" or "ucs2").
    `concat`: (reference, total, sequence) adds a concatenation header (16-bit reference if `ref16`).
    `validity_minutes`: relative validity, rounded up to the next value TS 23.040 can express.
    Returns (hex PDU starting "00" = the SIM's SMSC, TPDU length in octets for AT+CMGS=<len>).
    """
    _check_byte(message_ref, "message reference")
    udh = _concat_header(concat, ref16) if concat else b""
    udl, user_data = _user_data(text, encoding, udh)
    first = MTI_SUBMIT | (0x20 if status_report else 0) | (0x40 if udh else 0)
    validity = b""
    if validity_minutes is not None:
        first |= 0x10  # TP-VPF = 10: relative, one octet
        validity = bytes([relative_validity(validity_minutes)])
    tpdu = (bytes([first, message_ref]) + encode_address(number)
            + bytes([0x00, _DCS[encoding]]) + validity + bytes([udl]) + user_data)
    return "00" + tpdu.hex().upper(), len(tpdu)


def encode_message(number: str, text: str, *, unaccented: bool = False, reference: int,
                   status_report: bool = True, validity_minutes: int | None = 1440,
                   ref16: bool = False) -> list[tuple[str, int]]:
    """Segment `text` and build one SMS-SUBMIT per part; a header only when there are several.

    `reference` (0–255, or 0–65535 with `ref16`) ties the parts together on the phone.
    Returns [(hex PDU, TPDU length)…] in sending order. Empty text raises SegmentError.
    """
    limit = 0xFFFF if ref16 else 0xFF
    if not isinstance(reference, int) or not 0 <= reference <= limit:
        raise PduError(f"concatenation reference must be 0–{limit}, not {reference!r}")
    parts = segment(text, unaccented=unaccented, ref16=ref16)
    if parts.count > 255:
        raise PduError(f"message needs {parts.count} parts; SMS concatenation allows at most 255")
    if parts.count == 1:
        return [encode_submit(number, parts.text, encoding=parts.encoding, status_report=status_report,
                              validity_minutes=validity_minutes)]
    return [encode_submit(number, part, encoding=parts.encoding, concat=(reference, parts.count, seq),
                          ref16=ref16, status_report=status_report, validity_minutes=validity_minutes)
            for seq, part in enumerate(parts.parts, 1)]


def encode_deliver(sender: str, text: str, *, timestamp: datetime, encoding: str | None = None,
                   concat: tuple[int, int, int] | None = None, ref16: bool = False,
                   smsc: str | None = "+84900000000", status_report_indicated: bool = False) -> str:
    """Build an SMS-DELIVER as a modem would report it (+CMT/+CMGR), SMSC information first.

    `encoding` defaults to the cheapest one for `text`; `timestamp` must be timezone-aware.
    """
    encoding = encoding or segment(text).encoding
    udh = _concat_header(concat, ref16) if concat else b""
    udl, user_data = _user_data(text, encoding, udh)
    first = MTI_DELIVER | 0x04 | (0x20 if status_report_indicated else 0) | (0x40 if udh else 0)
    tpdu = (bytes([first]) + encode_address(sender, alphanumeric=True) + bytes([0x00, _DCS[encoding]])
            + encode_timestamp(timestamp) + bytes([udl]) + user_data)
    return (_encode_smsc(smsc) + tpdu).hex().upper()


def encode_status_report(message_ref: int, recipient: str, *, status: int, service_timestamp: datetime,
                         discharge_timestamp: datetime, smsc: str | None = "+84900000000") -> str:
    """Build an SMS-STATUS-REPORT (+CDS / +CMGR) for the message with reference `message_ref`."""
    _check_byte(message_ref, "message reference")
    _check_byte(status, "status")
    tpdu = (bytes([MTI_STATUS_REPORT, message_ref]) + encode_address(recipient)
            + encode_timestamp(service_timestamp) + encode_timestamp(discharge_timestamp) + bytes([status]))
    return (_encode_smsc(smsc) + tpdu).hex().upper()


_DCS = {GSM7: 0x00, UCS2: 0x08, EIGHT_BIT: 0x04}


def _check_byte(value, what: str) -> None:
    if not isinstance(value, int) or not 0 <= value <= 255:
        raise PduError(f"{what} must be 0–255, not {value!r}")


def _concat_header(concat: tuple[int, int, int], ref16: bool) -> bytes:
    try:
        reference, total, sequence = concat
    except (TypeError, ValueError):
        raise PduError(f"concat must be (reference, total, sequence), not {concat!r}") from None
    limit = 0xFFFF if ref16 else 0xFF
    if not isinstance(reference, int) or not 0 <= reference <= limit:
        raise PduError(f"concatenation reference must be 0–{limit}, not {reference!r}")
    if not (isinstance(total, int) and isinstance(sequence, int) and 1 <= sequence <= total <= 255):
        raise PduError(f"concatenation needs 1 <= sequence <= total <= 255, not {sequence}/{total}")
    if ref16:
        return bytes([6, IEI_CONCAT_16, 4, reference >> 8, reference & 0xFF, total, sequence])
    return bytes([5, IEI_CONCAT_8, 3, reference, total, sequence])


def _user_data(text: str, encoding: str, udh: bytes) -> tuple[int, bytes]:
    """(TP-UDL, TP-UD) for `text` after the header `udh` (UDHL included, or empty)."""
    if not text:
        raise PduError("message text is empty")
    if encoding == GSM7:
        try:
            septets = gsm7.encode_septets(text)
        except ValueError as exc:
            raise PduError(f"cannot encode as GSM 7-bit: {exc}") from None
        header_septets = gsm7.header_septets(len(udh))
        udl = header_septets + len(septets)
        if udl > MAX_USER_DATA_OCTETS * 8 // 7:
            raise PduError(f"text needs {len(septets)} septets but one part holds "
                           f"{MAX_USER_DATA_OCTETS * 8 // 7 - header_septets}: segment it first")
        return udl, udh + gsm7.pack(septets, gsm7.fill_bits_after(len(udh)))
    if encoding == UCS2:
        try:
            body = text.encode("utf-16-be")
        except UnicodeEncodeError:
            raise PduError("text contains an unpaired UTF-16 surrogate") from None
    elif encoding == EIGHT_BIT:
        try:
            body = bytes.fromhex(text)
        except ValueError:
            raise PduError("8-bit data must be given as hex") from None
    else:
        raise PduError(f"unknown encoding {encoding!r}: use 'gsm7' or 'ucs2'")
    if len(udh) + len(body) > MAX_USER_DATA_OCTETS:
        raise PduError(f"text needs {len(body)} octets but one part holds "
                       f"{MAX_USER_DATA_OCTETS - len(udh)}: segment it first")
    return len(udh) + len(body), udh + body


def relative_validity(minutes: int) -> int:
    """TP-VP (relative) for at least `minutes` of validity, rounded up (TS 23.040 §9.2.3.12.1)."""
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
        raise PduError(f"validity must be a positive number of minutes, not {minutes!r}")
    if minutes > MAX_VALIDITY_MINUTES:
        raise PduError(f"validity of {minutes} minutes exceeds the SMS maximum of 63 weeks")
    if minutes <= 12 * 60:
        return -(-minutes // 5) - 1
    if minutes <= 24 * 60:
        return 143 + -(-(minutes - 720) // 30)
    if minutes <= 30 * 24 * 60:
        return 166 + -(-minutes // (24 * 60))
    return 192 + -(-minutes // (7 * 24 * 60))


def validity_minutes_of(vp: int) -> int:
    """Minutes of validity a relative TP-VP octet stands for."""
    if vp <= 143:
        return (vp + 1) * 5
    if vp <= 167:
        return 720 + (vp - 143) * 30
    if vp <= 196:
        return (vp - 166) * 24 * 60
    return (vp - 192) * 7 * 24 * 60


def encode_address(number: str, *, alphanumeric: bool = False) -> bytes:
    """TP address (length in digits, type, digits).

    "+…" is international (type 0x91), bare digits are type 0x81 (national number or short code).
    Letters make an alphanumeric address (type 0xD0, up to 11 GSM characters) only where
    `alphanumeric` is allowed: a sender, never a recipient.
    """
    if not isinstance(number, str) or not number.strip():
        raise PduError("phone number is empty")
    raw = number.strip()
    digits = raw[1:] if raw.startswith("+") else raw
    if digits.isascii() and digits.isdigit():
        if len(digits) > MAX_ADDRESS_DIGITS:
            raise PduError(f"number {raw!r} has {len(digits)} digits; an SMS address holds at most 20")
        type_octet = 0x91 if raw.startswith("+") else 0x81
        return bytes([len(digits), type_octet]) + _bcd(digits)
    if raw.startswith("+") or not any(ch.isalpha() for ch in raw):
        raise PduError(f"number {raw!r} must be digits only, optionally after '+' (normalise it first)")
    if not alphanumeric:
        raise PduError(f"cannot send to the alphanumeric address {raw!r}: give a phone number")
    try:
        septets = gsm7.encode_septets(raw)
    except ValueError:
        raise PduError(f"alphanumeric address {raw!r} has characters GSM 7-bit cannot carry") from None
    if len(septets) > 11:
        raise PduError(f"alphanumeric address {raw!r} is longer than 11 characters")
    packed = gsm7.pack(septets)
    return bytes([(len(septets) * 7 + 3) // 4, 0xD0]) + packed


def _bcd(digits: str) -> bytes:
    if len(digits) % 2:
        digits += "F"
    return bytes.fromhex("".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2)))


def _encode_smsc(smsc: str | None) -> bytes:
    if not smsc:
        return b"\x00"
    address = encode_address(smsc)
    return bytes([len(address) - 1]) + address[1:]


def encode_timestamp(moment: datetime) -> bytes:
    """TP-SCTS: 7 swapped-BCD octets, the last the UTC offset in quarter hours (bit 3 = negative)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PduError("timestamp must be timezone-aware")
    quarters = int(moment.utcoffset().total_seconds() // 900)
    fields = [moment.year % 100, moment.month, moment.day, moment.hour, moment.minute, moment.second]
    octets = [(value % 10) << 4 | value // 10 for value in fields]
    zone = abs(quarters)
    octets.append((zone % 10) << 4 | zone // 10 | (0x08 if quarters < 0 else 0))
    return bytes(octets)


# ---------------------------------------------------------------- decoding

class _Reader:
    """Walks a PDU's octets; every read names the field, so truncation errors say what is missing."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, count: int, what: str) -> bytes:
        if self.pos + count > len(self.data):
            raise PduError(f"PDU truncated: {what} needs {count} octet(s) at offset {self.pos} "
                           f"but only {len(self.data) - self.pos} remain")
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def octet(self, what: str) -> int:
        return self.take(1, what)[0]

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos


def parse_hex(hex_pdu: str) -> bytes:
    """The octets of a hex PDU; surrounding blanks and quotes are ignored."""
    if not isinstance(hex_pdu, str):
        raise PduError(f"PDU must be a hex string, not {type(hex_pdu).__name__}")
    cleaned = hex_pdu.strip().strip('"').strip()
    if not cleaned:
        raise PduError("PDU is empty")
    for index, ch in enumerate(cleaned):
        if ch not in "0123456789abcdefABCDEF":
            raise PduError(f"PDU has invalid hex character {ch!r} at position {index}")
    if len(cleaned) % 2:
        raise PduError(f"PDU has an odd number of hex digits ({len(cleaned)}): last octet is cut off")
    return bytes.fromhex(cleaned)


def decode(hex_pdu: str) -> Deliver | StatusReport | Submit:
    """Decode a PDU as read by AT+CMGR / +CMGL / +CMT (SMSC information first), by its TP-MTI.

    Octets after the declared user data are ignored: some modems pad what they store.
    """
    reader = _Reader(parse_hex(hex_pdu))
    smsc = _decode_smsc(reader)
    first = reader.octet("first octet")
    mti = first & 0x03
    if mti == MTI_DELIVER:
        return _decode_deliver(reader, first, smsc)
    if mti == MTI_SUBMIT:
        return _decode_submit(reader, first, smsc)
    if mti == MTI_STATUS_REPORT:
        return _decode_status_report(reader, first, smsc)
    raise PduError(f"first octet 0x{first:02X} has the reserved message type TP-MTI=3")


def decode_submit(hex_pdu: str) -> Submit:
    """Decode an SMS-SUBMIT (as sent with AT+CMGS, SMSC information first); others raise PduError."""
    message = decode(hex_pdu)
    if not isinstance(message, Submit):
        raise PduError(f"PDU is an SMS-{message.kind.upper().replace('_', '-')}, not an SMS-SUBMIT")
    return message


def _decode_smsc(reader: _Reader) -> str | None:
    length = reader.octet("SMSC length")
    if length == 0:
        return None
    if length > MAX_SMSC_OCTETS:
        raise PduError(f"bad SMSC length {length} octets (at most {MAX_SMSC_OCTETS}); "
                       "is the SMSC information missing from this PDU?")
    type_octet = reader.octet("SMSC type")
    body = reader.take(length - 1, "SMSC address")
    number, _ = _address_value(type_octet, body, (length - 1) * 2)
    return number or None


def _decode_address(reader: _Reader, what: str) -> tuple[str, str]:
    digits = reader.octet(f"{what} length")
    if digits > MAX_ADDRESS_DIGITS:
        raise PduError(f"bad {what} length {digits} digits (an address holds at most {MAX_ADDRESS_DIGITS})")
    type_octet = reader.octet(f"{what} type")
    body = reader.take((digits + 1) // 2, f"{what} address")
    return _address_value(type_octet, body, digits)


def _address_value(type_octet: int, body: bytes, digits: int) -> tuple[str, str]:
    ton = (type_octet >> 4) & 0x07
    kind = _TON_NAMES.get(ton, "unknown")
    if kind == "alphanumeric":
        text = gsm7.decode_septets(gsm7.unpack(body, digits * 4 // 7))
        return text.rstrip("@\r"), kind
    swapped = "".join(f"{octet & 0x0F:x}{octet >> 4:x}" for octet in body)[:digits]
    value = swapped.rstrip("f").translate(str.maketrans("abcde", "*#abc"))
    if "f" in value:
        raise PduError(f"address {swapped!r} has a filler digit F in the middle")
    return ("+" + value if kind == "international" else value), kind


def _decode_timestamp(reader: _Reader, what: str) -> datetime:
    raw = reader.take(7, what)
    swapped = [(octet & 0x0F, octet >> 4) for octet in raw]
    if any(tens > 9 or units > 9 for tens, units in swapped[:6]) or swapped[6][1] > 9:
        raise PduError(f"{what} {raw.hex().upper()} is not valid BCD")
    year, month, day, hour, minute, second = (tens * 10 + units for tens, units in swapped[:6])
    zone_tens, zone_units = swapped[6]
    quarters = (zone_tens & 0x07) * 10 + zone_units
    if zone_tens & 0x08:
        quarters = -quarters
    try:
        zone = timezone(timedelta(minutes=15 * quarters))
        return datetime(2000 + year if year < 90 else 1900 + year, month, day, hour, minute, second,
                        tzinfo=zone)
    except ValueError as exc:
        raise PduError(f"{what} {raw.hex().upper()} is not a valid date: {exc}") from None


def _coding(dcs: int) -> tuple[str, int | None]:
    """(encoding, message class) from TP-DCS (TS 23.038 §4); compressed text is refused."""
    group = dcs >> 4
    message_class = (dcs & 0x03) if dcs & 0x10 or group == 0x0F else None
    if group <= 0x07:
        if dcs & 0x20:
            raise PduError(f"data coding 0x{dcs:02X} marks compressed text (TS 23.042), which is not supported")
        alphabet = (dcs >> 2) & 0x03
        return {1: EIGHT_BIT, 2: UCS2}.get(alphabet, GSM7), message_class
    if group == 0x0E:
        return UCS2, None
    if group == 0x0F:
        return (EIGHT_BIT if dcs & 0x04 else GSM7), message_class
    return GSM7, None  # message-waiting groups and reserved groups use the default alphabet


def _decode_user_data(reader: _Reader, dcs: int, has_header: bool):
    """(text, encoding, concat, udh, data, class) from TP-DCS, TP-UDL and TP-UD."""
    encoding, message_class = _coding(dcs)
    udl = reader.octet("user data length")
    if encoding == GSM7:
        if udl > 160:
            raise PduError(f"bad user data length {udl} septets (GSM 7-bit holds at most 160)")
        user_data = reader.take((udl * 7 + 7) // 8, f"user data of {udl} septets")
    else:
        if udl > MAX_USER_DATA_OCTETS:
            raise PduError(f"bad user data length {udl} octets (at most {MAX_USER_DATA_OCTETS})")
        user_data = reader.take(udl, f"user data of {udl} octets")
    udh, concat = b"", None
    if has_header and udl:
        udh_length = user_data[0]
        udh = user_data[:1 + udh_length]
        if len(udh) < 1 + udh_length:
            raise PduError(f"user data header of {udh_length} octets overruns the user data")
        concat = _parse_header(udh[1:])
    if encoding == GSM7:
        skip = gsm7.header_septets(len(udh)) if udh else 0
        if skip > udl:
            raise PduError(f"user data header of {len(udh)} octets is longer than the {udl} septets of user data")
        septets = gsm7.unpack(user_data[len(udh):], udl - skip, gsm7.fill_bits_after(len(udh)) if udh else 0)
        return gsm7.decode_septets(septets), encoding, concat, udh, b"", message_class
    body = user_data[len(udh):]
    if encoding == UCS2:
        if len(body) % 2:
            raise PduError(f"UCS-2 text has an odd number of octets ({len(body)})")
        return body.decode("utf-16-be", errors="replace"), encoding, concat, udh, b"", message_class
    return body.hex().upper(), encoding, concat, udh, body, message_class


def _parse_header(header: bytes) -> tuple[int, int, int] | None:
    """The concatenation (reference, total, sequence) in a UDH, if any; other elements are skipped."""
    concat, pos = None, 0
    while pos < len(header):
        if pos + 2 > len(header):
            raise PduError(f"user data header element at offset {pos} is truncated")
        iei, length = header[pos], header[pos + 1]
        value = header[pos + 2:pos + 2 + length]
        if len(value) < length:
            raise PduError(f"user data header element 0x{iei:02X} claims {length} octets but has {len(value)}")
        if iei == IEI_CONCAT_8 and length == 3:
            concat = (value[0], value[1], value[2])
        elif iei == IEI_CONCAT_16 and length == 4:
            concat = ((value[0] << 8) | value[1], value[2], value[3])
        pos += 2 + length
    if concat and not 1 <= concat[2] <= concat[1]:
        raise PduError(f"concatenation header says part {concat[2]} of {concat[1]}")
    return concat


def _decode_deliver(reader: _Reader, first: int, smsc: str | None) -> Deliver:
    sender, sender_type = _decode_address(reader, "sender")
    pid = reader.octet("protocol identifier")
    dcs = reader.octet("data coding scheme")
    timestamp = _decode_timestamp(reader, "service centre timestamp")
    text, encoding, concat, udh, data, message_class = _decode_user_data(reader, dcs, bool(first & 0x40))
    return Deliver(smsc, sender, sender_type, timestamp, text, encoding, concat, pid, dcs, udh, data,
                   message_class, bool(first & 0x20))


def _decode_submit(reader: _Reader, first: int, smsc: str | None) -> Submit:
    message_ref = reader.octet("message reference")
    number, number_type = _decode_address(reader, "destination")
    pid = reader.octet("protocol identifier")
    dcs = reader.octet("data coding scheme")
    vpf = (first >> 3) & 0x03
    validity: int | datetime | None = None
    if vpf == 2:
        validity = validity_minutes_of(reader.octet("validity period"))
    elif vpf == 3:
        validity = _decode_timestamp(reader, "validity period")
    elif vpf == 1:
        reader.take(7, "enhanced validity period")
    text, encoding, concat, udh, data, _ = _decode_user_data(reader, dcs, bool(first & 0x40))
    return Submit(number, number_type, text, encoding, concat, message_ref, bool(first & 0x20), validity,
                  smsc, pid, dcs, udh, data, bool(first & 0x04))


def _decode_status_report(reader: _Reader, first: int, smsc: str | None) -> StatusReport:
    message_ref = reader.octet("message reference")
    recipient, recipient_type = _decode_address(reader, "recipient")
    service = _decode_timestamp(reader, "service centre timestamp")
    discharge = _decode_timestamp(reader, "discharge time")
    status = reader.octet("status")
    return StatusReport(smsc, message_ref, recipient, recipient_type, service, discharge, status)
