"""The request desk end to end: kiosk request → portal dossier → documents missing → result ready →
collected, each step one SMS through the real gateway and the emulated modem on a pty, plus the
reminder the evening before the official appointment."""
from contextlib import ExitStack
from datetime import timedelta

from kiosk import clock
from kiosk.appliance import config as config_module
from kiosk.appliance.wiring import build_gateway
from kiosk.dossiers import lifecycle
from sms.emulator import Emulator
from tests.support.waiting import wait_until

PHONE = "0912 345 678"
E164 = "+84912345678"


def _configure(config_path):
    config_path.write_text(config_path.read_text(encoding="utf-8") + """
[site]
ward = "Phường Nam Hà"
residential_group = "Tổ dân phố số 1"
[sms]
quiet_start = "00:00"
quiet_end = "00:00"
[requests]
reminder_hour = 0
filing_days = 1
""", encoding="utf-8")
    return config_module.load(config_path)


def test_one_sms_at_every_step_from_kiosk_to_collected(tdp, config_path, store):
    config = _configure(config_path)
    with ExitStack() as stack:
        emulator = Emulator()
        port = emulator.start()
        stack.callback(emulator.stop)
        gateway = build_gateway(config, config.storage.path, [port], stack, handlers=[], sweep_seconds=1.0,
                                reminder_every=0.5)
        gateway.start()
        stack.callback(gateway.stop, 10)

        def texts():
            return emulator.sent_texts(E164)

        created = tdp("request", "new", "--procedure", "HT-KS", "--name", "Hồ Bá Vỹ", "--phone", PHONE, "--json")
        assert created.code == 0, created.err
        code = created.data["code"]
        wait_until(lambda: len(texts()) == 1, timeout=30)
        assert texts()[0].startswith("TDP số 1: đã ghi nhận yêu cầu " + code)
        assert clock.display_date(created.data["appointment_date"]) in texts()[0]

        today = clock.local_today(config.site.timezone)
        tomorrow = today + timedelta(days=1)
        official = f"000.24.35.H42-{today:%y%m%d}-0001"
        filed = tdp("request", "portal", code, "--portal-code", official, "--appointment", tomorrow.isoformat(),
                    "--where", "Trung tâm Phục vụ hành chính công phường Nam Hà", "--by", "Trần Văn Sơn", "--json")
        assert filed.code == 0, filed.err
        assert filed.data["status"] == "forwarded" and filed.data["portal_code"] == official
        # the portal SMS, then (the appointment is tomorrow, reminders from 00:00) the reminder
        wait_until(lambda: len(texts()) == 3, timeout=30)
        portal_sms, reminder = texts()[1:3]
        assert official in portal_sms and clock.display_date(tomorrow.isoformat()) in portal_sms
        assert reminder.startswith("TDP số 1: nhắc") and "ngày mai" in reminder and official in reminder
        assert "thẻ căn cước" in reminder

        # found by the portal code too, and recording the same values again sends nothing
        shown = tdp("request", "show", official, "--json")
        assert shown.code == 0 and shown.data["code"] == code
        assert tdp("request", "portal", code, "--portal-code", official, "--json").code == 0

        missing = tdp("request", "update", official, "--status", "needs_more_documents", "--document", "2",
                      "--document", "3", "--by", "Trần Văn Sơn", "--json")
        assert missing.code == 0, missing.err
        wait_until(lambda: len(texts()) == 4, timeout=30)
        assert "cần bổ sung: Giấy chứng sinh; Thẻ căn cước của người đi đăng ký" in texts()[3]

        for status in ("forwarded", "result_ready", "picked_up"):
            assert tdp("request", "update", code, "--status", status, "--json").code == 0
        wait_until(lambda: len(texts()) == 7, timeout=60)
        ready = texts()[5]
        assert "đã có kết quả" in ready and "Trung tâm Phục vụ hành chính công phường Nam Hà" in ready
        assert "mang thẻ căn cước" in ready
        assert "đã nhận kết quả" in texts()[6]
        assert all(text.startswith("TDP số 1: ") for text in texts())

    # the reminder went once, however often the housekeeping ran
    assert sum("nhắc" in t for t in emulator.sent_texts(E164)) == 1
    assert lifecycle.send_reminders(store, prefix="TDP1", evening_hour=0) == []
