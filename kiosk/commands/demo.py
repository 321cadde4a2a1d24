"""`tdp demo`: the main job of `make run`. A demo ward in a fresh data directory, the SMS gateway on
the emulated modem, PDF receipts, and the kiosk screen (on a virtual display when there is none)."""
from __future__ import annotations

import shutil
import threading
from contextlib import ExitStack
from pathlib import Path

from kiosk.appliance import config as config_module
from ..errors import InvalidInput
from kiosk import clock
from kiosk.volunteers import duty

MARKER = ".tdp-demo"


def register(cli) -> None:
    parser = cli.command("demo", _demo, help="seed a demo ward in a fresh data directory and start the appliance",
                         json=True)
    parser.add_argument("--data", default="tdp-data/demo", metavar="DIR",
                        help="demo data directory, wiped and re-seeded (default: tdp-data/demo)")
    parser.add_argument("--no-ui", action="store_true", help="run the SMS gateway only, without the kiosk screen")
    parser.add_argument("--seconds", type=float, default=0,
                        help="stop after this many seconds (default: run until Ctrl-C or the window closes)")


def prepare(data_dir: Path) -> Path:
    """Wipe (only if it is ours) and create the demo directory; write its config; return the config path."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / MARKER).exists():
            raise InvalidInput(f"{data_dir} is not empty and is not a demo directory; choose another --data")
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).write_text("created by `tdp demo`; wiped by the next run\n", encoding="utf-8")
    config_path = data_dir / "tdp.toml"
    config_path.write_text(DEMO_CONFIG.format(db=(data_dir / "tdp.sqlite3").resolve()), encoding="utf-8")
    return config_path


DEMO_CONFIG = """# Written by `tdp demo`. A demo ward on the emulated modem, receipts saved as PDF files.
[site]
ward = "Phường Bách Khoa"
residential_group = "Tổ dân phố số 1"
kiosk_name = "demo"

[storage]
path = "{db}"

[modem]
port = "emulator"

[printer]
queue = ""

[relay]
group_leader_phone = "0912 000 001"
police_phone = "0912 000 113"

[[relay.officials]]
name = "Trần Văn Tổ (tổ trưởng, demo)"
phone = "0912 000 001"
pin = "2468"
"""


def _demo(ctx):
    from ..demo import seed
    from kiosk.appliance.store import open_store

    data_dir = Path(ctx.args.data).expanduser().resolve()
    config_path = prepare(data_dir)
    config = config_module.load(config_path)
    store = open_store(config.storage.path)
    try:
        counts = seed(store, config)
        counts.update(seed_activity(store, config))
    finally:
        store.close()
    screenshots = data_dir / "screenshots"
    summary = {"data_dir": str(data_dir), "config": str(config_path), "seeded": counts,
               "screenshots": None if ctx.args.no_ui else str(screenshots)}
    from kiosk.appliance.wiring import build_gateway
    with ExitStack() as stack:
        gateway = build_gateway(config, config.storage.path, None, stack)
        gateway.start()
        stack.callback(gateway.stop, 10)
        print(f"tdp demo: ward seeded in {data_dir} ({_describe(counts)}); SMS gateway running on the "
              f"emulated modem; receipts go to {data_dir}/receipts as PDF.", file=ctx.stdout, flush=True)
        print(f"  Try in another terminal: TDP_CONFIG={config_path} tdp sms outbox\n"
              f"  or an official's SMS command: TDP_CONFIG={config_path} tdp relay simulate "
              f"--from 0912000001 --text 'TB 2468 HPN Họp chi hội 19h thứ Sáu'", file=ctx.stdout, flush=True)
        if ctx.args.no_ui:
            threading.Event().wait(ctx.args.seconds or None)
        else:
            from kiosk.ui.launch import run
            from ..ui.display import needs_virtual_display
            headless = needs_virtual_display()
            if headless:
                print(f"  No display here: the kiosk runs on a virtual display (Xvfb); screenshots of every "
                      f"screen are saved in {screenshots}", file=ctx.stdout, flush=True)
            run(config, tour_dir=screenshots, stop_after=ctx.args.seconds)
    if ctx.json:
        ctx.emit(summary)
    return 0


DEMO_PIN = "2468"
DEMO_VOLUNTEERS = [
    ("Đỗ Minh Tâm", "0966 100 201", "leader", ("vneid", "cu_tru"), "T2-CN sáng chiều tối"),
    ("Phạm Thu Hà", "0966 100 202", "member", ("bao_tro_xa_hoi",), "T2-T6 tối; T7 CN sáng"),
    ("Nguyễn Đức Huy", "0966 100 203", "member", ("vneid",), "T2-CN sáng chiều tối"),
    ("Lê Ngọc Anh", "0966 100 204", "member", ("dat_dai", "ho_tich"), "T7 CN sáng chiều"),
    ("Vũ Hồng Nhung", "0966 100 205", "member", ("vneid", "ho_tich"), "T2-T6 chiều tối"),
]
DEMO_NOTICES = [
    ("Mời các hộ dự họp tổ dân phố lúc 19h30 thứ Sáu tại Nhà văn hóa.", False),
    ("Cắt điện từ 8h đến 11h sáng Chủ nhật để bảo dưỡng trạm biến áp.", True),
    ("Hạn nộp thuế sử dụng đất phi nông nghiệp năm nay là ngày 31/12.", False),
]


def seed_activity(store, config) -> dict:
    """What a ward in use has besides residents: volunteers (PIN 2468), this week's rota, a few
    requests at different stages and notices on the board."""
    from datetime import timedelta

    from kiosk.dossiers import lifecycle as dossiers
    from kiosk.notices import board as notices
    from kiosk.volunteers import rota
    from kiosk.dossiers import tracking
    from kiosk.volunteers import people as volunteers

    for name, phone, role, skills, availability in DEMO_VOLUNTEERS:
        volunteers.upsert(store, volunteers.NewVolunteer(name, phone, "Tổ CNS số 1", role, skills, availability))
        volunteers.set_pin(store, phone, DEMO_PIN)
    today = clock.local_today(config.site.timezone)
    rota.plan(store, config, today, today + timedelta(days=6))
    duty.check_in(store, DEMO_VOLUNTEERS[0][1], DEMO_PIN, config.volunteers)
    prefix = tracking.prefix_for(config.site.residential_group)
    requests = [("CT-TAMTRU", "Hoàng Văn Nam", "0977 200 301", []),
                ("HT-KS", "Bùi Thị Thảo", "0977 200 302", ["forwarded"]),
                ("BTXH-HUUTRI", "Ngô Văn Lộc", "0977 200 303", ["forwarded", "result_ready"])]
    for procedure, name, phone, steps in requests:
        dossier = dossiers.create(store, procedure_code=procedure, full_name=name, phone=phone, prefix=prefix,
                                  timezone=config.site.timezone, volunteer=DEMO_VOLUNTEERS[0][0])
        for status in steps:
            dossiers.update_status(store, dossier.code, status, by=DEMO_VOLUNTEERS[0][0], prefix=prefix)
    for text, urgent in DEMO_NOTICES:
        notices.post(store, text, source="local", urgent=urgent, posted_by="Tổ trưởng")
    return {"volunteers": len(DEMO_VOLUNTEERS), "requests": len(requests), "notices": len(DEMO_NOTICES)}


def _describe(counts: dict) -> str:
    return ", ".join(f"{value} {key}" for key, value in counts.items() if isinstance(value, int))
