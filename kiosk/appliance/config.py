"""Typed configuration: one TOML file parsed with tomllib into dataclasses.

The file is chosen by `--config FILE`, else `$TDP_CONFIG`, else the built-in demo defaults.
Every field documents its unit and default in `doc=`; `tdp config show` and the example file
in provisioning/ are generated from the same metadata, so they cannot drift apart.
An unknown key or a wrong type is a ConfigError naming the key and the file.
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import stat
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.errors import ConfigError

DEFAULT_DATA_DIR = "~/.local/share/tdp"


def setting(default, doc: str, **kwargs):
    """A config field: its default and a one-line description with its unit."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"doc": doc}, **kwargs)
    return field(default=default, metadata={"doc": doc}, **kwargs)


@dataclass
class Site:
    ward: str = setting("Phường Demo", "Ward name, as printed on receipts and notices.")
    residential_group: str = setting("Tổ dân phố số 1", "Residential group (tổ dân phố) this kiosk serves.")
    kiosk_name: str = setting("kiosk-demo", "Short name of this kiosk; used as its hub identity and in logs.")
    timezone: str = setting("Asia/Ho_Chi_Minh", "IANA time zone for quiet hours, rota and reports.")


@dataclass
class Storage:
    path: str = setting(DEFAULT_DATA_DIR + "/tdp.sqlite3",
                        "SQLite file shared by the kiosk, gateway and CLI; its folder is the data directory.")

    @property
    def data_dir(self) -> Path:
        """Folder holding the database, saved receipts, rejects and caches."""
        return Path(self.path).expanduser().parent


@dataclass
class Modem:
    port: str = setting("emulator", '"emulator" (in-process simulated SIM7600) or a pyserial URL/path, e.g. /dev/ttyUSB2.')
    extra_ports: list[str] = setting([], "More modem ports; each runs its own modem on the one outbox queue.")
    baudrate: int = setting(115200, "Serial speed in bits per second.")
    rtscts: bool = setting(False, "Hardware (RTS/CTS) flow control; most HAT UARTs do not wire it.")
    sim_pin: str = setting("", "SIM PIN to enter when the SIM asks for one; empty if none.")


@dataclass
class Sms:
    quiet_start: str = setting("21:00", "Start of quiet hours (HH:MM local); non-urgent messages wait.")
    quiet_end: str = setting("06:00", "End of quiet hours (HH:MM local).")
    parts_per_minute: int = setting(0, "Rate limit in SMS parts per minute per modem; 0 means no limit.")
    max_parts: int = setting(10, "Messages longer than this many parts are refused unless forced.")
    max_attempts: int = setting(5, "Attempts per part before a transient error becomes a failure.")
    validity_hours: int = setting(24, "SMS validity period asked of the network, in hours.")
    price_per_part: int = setting(350, "Estimated carrier price of one SMS part, in VND, for reports.")
    retry_seconds: float = setting(15.0, "Wait before resending a part after a transient error, in seconds; doubles each attempt (max 15 min).")
    send_timeout_seconds: float = setting(60.0, "Longest wait for the modem to accept one part (AT+CMGS), in seconds.")
    recovery_seconds: float = setting(2.0, "Pause before the first modem recovery step, in seconds; later steps wait 5x and 15x, a dead modem 150x.")
    incomplete_after_minutes: float = setting(10.0, "Minutes to wait for the missing parts of a received message before delivering it flagged incomplete.")
    retention_days: float = setting(40.0, "Days finished outbox messages and handled inbox messages are kept before the gateway purges them (personal data); at least 31 keeps the whole month the SMS budget counts; 0 keeps them forever.")


@dataclass
class Printer:
    queue: str = setting("", 'CUPS queue name; "" saves receipts as PDF files in the data directory.')
    paper: str = setting("80mm", "Receipt paper: 58mm, 80mm (thermal, 203 dpi), a5 or a4.")
    job_timeout: int = setting(60, "Seconds to follow a print job before it counts as failed (kept for reprint).")
    kiosk_number: str = setting("", 'Kiosk SIM number printed on receipts for "HS <code>" status texts; "" omits it.')


@dataclass
class Ui:
    fullscreen: bool = setting(False, "Fullscreen (the Pi, SDL2 KMSDRM) or a window (desktop).")
    width: int = setting(1280, "Window width in pixels when not fullscreen.")
    height: int = setting(800, "Window height in pixels when not fullscreen.")
    rotation: int = setting(0, "Screen rotation in degrees: 0, 90, 180 or 270.")
    dpi: int = setting(160, "Screen density in dots per inch, for 9 mm touch targets.")
    idle_seconds: int = setting(90, "Seconds without a touch before the idle countdown starts.")
    countdown_seconds: int = setting(30, "Length of the idle countdown in seconds before Home returns.")
    language: str = setting("vi", "Default language: vi or en.")


@dataclass
class Volunteers:
    min_per_session: int = setting(2, "Minimum volunteers per rota session; fewer is reported as a gap.")
    pin_max_failures: int = setting(5, "Wrong PINs in a row before a volunteer is locked out.")
    lockout_minutes: int = setting(15, "Lockout length in minutes after too many wrong PINs.")
    reminder_hour: int = setting(19, "Hour (local, 0-23) of the evening-before shift reminder SMS.")
    sessions: list[str] = setting(
        ["centre:weekdays:morning", "centre:weekdays:afternoon", "kiosk:weekdays:evening",
         "kiosk:weekend:morning", "home:weekend:afternoon"],
        'Rota template, "place:days:session[:minimum]"; places kiosk|centre|home, days like '
        'weekdays|weekend|daily|t2-t6|sat, sessions morning|afternoon|evening.')
    session_hours: list[str] = setting(
        ["morning=07:30-11:30", "afternoon=13:30-17:00", "evening=18:00-20:30"],
        'Local hours of each session, "session=HH:MM-HH:MM".')


@dataclass
class Report:
    online_target: float = setting(0.8, "Target share (0-1) of dossiers submitted online.")


@dataclass
class Requests:
    filing_days: int = setting(1, "Working days a volunteer needs to key a kiosk request into the national "
                                  "portal; added to each procedure's processing days for the estimated date.")
    reminder_hour: int = setting(18, "Local hour (0-23) from which the evening reminder before an official "
                                     "appointment is sent.")
    lookup_url: str = setting("", "Public page showing a request's status, with {code} for the kiosk code "
                                  "(e.g. a hub status page); empty: the slip's QR uses the portal's lookup "
                                  "once the official code is known, else plain text.")
    portal_lookup_url: str = setting(
        "https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html?ma_ho_so={portal_code}",
        "The national portal's dossier lookup, with {portal_code}; unreviewed: check it on the portal.")


@dataclass
class Notices:
    late_hours: int = setting(48, "A scheduled notice the kiosk missed (switched off) still goes this many hours late; after that it is skipped.")
    question_hours: int = setting(48, "Hours a question (--ask) stays open for replies before the tally is texted to the official.")
    digest_hour: int = setting(20, "Hour (local, 0-23) of the group leader's evening digest SMS; -1 turns it off.")
    budget_parts: int = setting(0, "Monthly SMS budget in parts; 0 means no budget in parts.")
    budget_dong: int = setting(0, "Monthly SMS budget in VND (parts x sms.price_per_part); 0 means none; the lower of the two applies.")
    budget_warn_percent: int = setting(80, "Share of the monthly budget (percent) at which the group leader is warned by SMS.")
    household_price: int = setting(3000, "What Cong dan dien tu charges a household a month, in VND: the ward report's comparison.")


@dataclass
class Official:
    name: str = setting("", "Official's name, used in replies and the audit log.")
    phone: str = setting("", "Official's mobile phone; commands are accepted only from it.")
    pin: str = setting("", "PIN the official puts in every command (caller ID can be spoofed).")


@dataclass
class Route:
    keyword: str = setting("", "First word of a resident's SMS (case and diacritics ignored), e.g. TAMTRU.")
    forward_to: str = setting("", 'Where it goes: "police", "leader" or a phone number.')
    reply: str = setting("", "Short reply to the sender (one SMS part; unaccented text fits 160 characters).")


@dataclass
class Relay:
    officials: list[Official] = setting([], "Officials allowed to send SMS commands ([[relay.officials]]).")
    routes: list[Route] = setting([], "Keyword routes for residents' SMS ([[relay.routes]]); TAMTRU → police is built in.")
    pin_failures_per_hour: int = setting(5, "Wrong PINs from one number within an hour before it is locked out.")
    reply_interval_seconds: int = setting(60, "At most one automatic reply (and one forward) per resident's number in this many seconds.")
    replies_per_hour: int = setting(10, "Automatic SMS (replies, refusals, forwards, alerts) one incoming number may cause in any hour, officials included; beyond it they are logged, never sent.")
    audit_retention_days: int = setting(180, "Days the relay audit log keeps its lines (kiosk.relay.router.purge).")
    confirm_above: int = setting(50, "Broadcasts to more recipients than this need an XN confirmation.")
    confirm_minutes: int = setting(10, "Minutes a broadcast waits for its XN confirmation.")
    group_leader_phone: str = setting("", "Residential-group leader's phone: unrouted texts and alerts go here.")
    police_phone: str = setting("", "Area police officer's phone: TAMTRU declarations go here.")


@dataclass
class Otp:
    codes_per_phone_per_hour: int = setting(3, "Verification codes texted to one phone in any hour.")
    codes_per_kiosk_per_hour: int = setting(20, "Verification codes this kiosk texts in any hour, to all phones together.")
    cooldown_seconds: int = setting(60, "Seconds between two codes to the same phone (\"Gửi lại mã\").")


@dataclass
class Gpio:
    enabled: bool = setting(False, "Drive GPIO devices (on a Raspberry Pi); off elsewhere.")
    help_button: int = setting(17, "BCM pin of the 'call a volunteer' push button.")
    led_ready: int = setting(5, "BCM pin of the ready LED.")
    led_internet: int = setting(6, "BCM pin of the internet LED.")
    led_modem: int = setting(13, "BCM pin of the modem-registered LED.")
    led_printer: int = setting(19, "BCM pin of the printer LED.")
    buzzer: int = setting(0, "BCM pin of the buzzer; 0 means none.")
    modem_power_key: int = setting(4, "BCM pin wired to the HAT's PWRKEY.")
    power_key_on_ms: int = setting(500, "PWRKEY pulse to power the modem on, in milliseconds.")
    power_key_off_ms: int = setting(2500, "PWRKEY pulse to power the modem off, in milliseconds.")
    power_key_models: list[str] = setting([], 'PWRKEY pulses per model prefix, "MODEL=ON_MS/OFF_MS" (e.g. "SIM800=1200/1500"), over the built-in table (SIM7600, A76, SIM7000, SIM7070, SIM800, EC25); other models use the two above.')
    power_key_active_high: bool = setting(True, "PWRKEY GPIO is active-high (through the HAT's transistor); false for a direct connection.")
    debounce_ms: int = setting(300, "Help-button presses closer together than this many milliseconds count once.")


@dataclass
class Hub:
    url: str = setting("", "Hub base URL (https://…); empty means this kiosk does not sync.")
    token: str = setting("", "This kiosk's token from `tdp hub add-kiosk`.")
    poll_seconds: int = setting(5, "Seconds between polls (or the long-poll wait) for new notices.")
    ca_bundle: str = setting("", "Path to a CA bundle for the hub's TLS; empty uses the system's.")


@dataclass
class HubServer:
    database: str = setting("", "SQLAlchemy URL; empty means an SQLite file beside the config.")
    host: str = setting("127.0.0.1", "Address `tdp hub serve` listens on.")
    port: int = setting(8080, "TCP port `tdp hub serve` listens on.")
    heartbeat_seconds: int = setting(30, "Seconds between kiosk heartbeats.")
    offline_after_missed: int = setting(3, "Missed heartbeats after which a kiosk counts as offline.")
    login_max_failures: int = setting(5, "Failed console logins from one address before that address is locked out.")
    account_max_failures: int = setting(20, "Failed console logins to one account, from any address, before the account is locked (known browsers still get in).")
    lockout_minutes: int = setting(15, "First console lockout in minutes; each repeat within a day doubles it.")


@dataclass
class Voice:
    engine: str = setting("espeak-ng", 'Speech engine: "espeak-ng" or "none".')
    rate: int = setting(130, "Speaking rate in words per minute (espeak's default is 175).")
    volume: int = setting(100, "Volume, 0-200 (espeak scale).")
    player: str = setting("auto", 'How speech is played: "aplay" (ALSA), "kivy" (Kivy/SDL audio), "auto" (aplay if installed) or "none".')
    device: str = setting("default", 'ALSA device for aplay, e.g. "default", "plughw:1,0"; "null" discards the sound.')


@dataclass
class Backup:
    passphrase_file: str = setting("", 'File holding the backup passphrase (one line); "" means backup.key beside the store, generated by the first backup (print it for the group leader).')
    usb_label: str = setting("TDP-BACKUP", "File-system label of the USB stick backups go to when it is plugged in (FAT/exFAT).")
    media_roots: list[str] = setting(["/media", "/run/media", "/mnt"], "Folders searched (two levels deep) for a mounted stick with that label or a tdp-backup.marker file.")
    folder: str = setting("", 'Backup folder when no stick is plugged in, ideally on another partition or disk; "" means backups/ beside the store.')
    daily: int = setting(7, "Nightly backups kept (the newest of each day).")
    weekly: int = setting(4, "Weekly backups kept (the newest of each ISO week) besides the daily ones.")
    warn_after_hours: int = setting(48, "tdp doctor warns when the last good backup is older than this many hours.")


@dataclass
class Upgrade:
    versions_dir: str = setting("/opt/tdp/versions", "Folder holding one installed version (a venv) per subfolder.")
    current: str = setting("/opt/tdp/.venv", "Path the services run (bin/tdp): a symlink into versions_dir, switched atomically by `tdp upgrade`.")
    services: list[str] = setting(["tdp-gateway.service", "tdp-kiosk.service", "tdp-sync.service"],
                                  "Services stopped during an upgrade and started (and health-checked) after it.")
    night_start: str = setting("01:00", "Start (HH:MM local) of the window in which a release offered by the hub is installed.")
    night_end: str = setting("04:00", "End (HH:MM local) of that window.")


@dataclass
class Config:
    site: Site = field(default_factory=Site)
    storage: Storage = field(default_factory=Storage)
    modem: Modem = field(default_factory=Modem)
    sms: Sms = field(default_factory=Sms)
    printer: Printer = field(default_factory=Printer)
    ui: Ui = field(default_factory=Ui)
    volunteers: Volunteers = field(default_factory=Volunteers)
    report: Report = field(default_factory=Report)
    requests: Requests = field(default_factory=Requests)
    relay: Relay = field(default_factory=Relay)
    otp: Otp = field(default_factory=Otp)
    notices: Notices = field(default_factory=Notices)
    gpio: Gpio = field(default_factory=Gpio)
    hub: Hub = field(default_factory=Hub)
    hub_server: HubServer = field(default_factory=HubServer)
    voice: Voice = field(default_factory=Voice)
    backup: Backup = field(default_factory=Backup)
    upgrade: Upgrade = field(default_factory=Upgrade)
    source: str = field(default="(built-in defaults)", metadata={"internal": True})


def load(path: str | os.PathLike | None = None) -> Config:
    """Load the config from `path`, else $TDP_CONFIG, else return the built-in demo defaults."""
    chosen = path or os.environ.get("TDP_CONFIG") or None
    if chosen is None:
        return Config()
    file = Path(chosen).expanduser()
    try:
        raw = tomllib.loads(read_bounded(file).decode("utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: config file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    config = _build(Config, raw, str(file), "")
    config.source = str(file)
    return config


MAX_CONFIG_BYTES = 256 * 1024


def read_bounded(file: Path, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; ConfigError for a device, FIFO or
    folder (a symlink to /dev/zero would otherwise be read forever) or a file too large."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore the flag.
    descriptor = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise ConfigError(f"{file}: not a regular file (a device, pipe or folder cannot be a config)")
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ConfigError(f"{file}: over {limit // 1024} KB; a config file is a few KB of TOML")
    return data


def from_dict(raw: dict, source: str = "(dict)") -> Config:
    """Build a Config from an already-parsed mapping (tests, first boot), with the same checks."""
    config = _build(Config, raw, source, "")
    config.source = source
    return config


def _public_fields(cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}


def _build(cls, raw, source: str, where: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [{where}] must be a table")
    known = _public_fields(cls)
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in raw.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(known)})"
            raise ConfigError(f"{source}: unknown key {_name(where, key)}{hint}")
        values[key] = _coerce(hints[key], value, source, _name(where, key))
    return cls(**values)


def _name(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _coerce(kind, value, source: str, key: str):
    if dataclasses.is_dataclass(kind):
        return _build(kind, value, source, key)
    origin = typing.get_origin(kind)
    if origin is list:
        (item,) = typing.get_args(kind)
        if not isinstance(value, list):
            raise ConfigError(f"{source}: {key} must be a list, got {value!r}")
        return [_coerce(item, v, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"{source}: {key}: unsupported type")  # no optional fields by design
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
        raise ConfigError(f"{source}: {key} must be {names.get(kind, kind.__name__)}, got {value!r}")
    return value


def describe(cls=Config, prefix: str = "") -> list[tuple[str, object, str]]:
    """Every documented field as (dotted key, default, doc), for `tdp config show` and docs."""
    hints = typing.get_type_hints(cls)
    rows = []
    for name, f in _public_fields(cls).items():
        key = _name(prefix, name)
        if dataclasses.is_dataclass(hints[name]):
            rows.extend(describe(hints[name], key))
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        rows.append((key, default, f.metadata.get("doc", "")))
    return rows


def as_dict(config: Config) -> dict:
    """The config as plain data (for `--json`), without internal fields."""
    data = dataclasses.asdict(config)
    data.pop("source", None)
    return data


# Commented examples for the lists of tables, which have no meaningful default to print.
TABLE_EXAMPLES = {
    "relay.officials": ['name = "Nguyễn Văn A"', 'phone = "0912345678"', 'pin = "2468"'],
    "relay.routes": ['keyword = "DIEN"', 'forward_to = "leader"', 'reply = "TDP: Da chuyen bao hong dien."'],
}


def example_toml() -> str:
    """A commented TOML file with every key at its default (provisioning/tdp.example.toml)."""
    lines = ["# TDP Kiosk configuration. Every key is optional; shown here at its default.",
             "# Copy to /etc/tdp/tdp.toml (or the boot partition as tdp.toml before first boot).", ""]
    section = None
    for key, default, doc in describe():
        head, _, name = key.rpartition(".")
        if head != section:
            section = head
            lines += [f"[{head}]"]
        if key in TABLE_EXAMPLES:
            lines += [f"# {doc}", f"# [[{key}]]", *(f"# {line}" for line in TABLE_EXAMPLES[key]), ""]
            continue
        lines += [f"# {doc}", f"{name} = {toml_value(default)}", ""]
    return "\n".join(lines)


def toml_value(value) -> str:
    """A str, bool, number or list of them written as TOML (for generated config files)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)
