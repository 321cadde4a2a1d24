"""Issue 22's "Done when", in Debian's Chromium with phone emulation (393×851, touch) against a real
`tdp hub serve`, kiosks with emulated modems and their real SMS gateways.

Set TDP_SCREENSHOTS=docs/img to write the phone-size screenshots docs/hub.md shows.
"""
from __future__ import annotations

import os
import re
from datetime import datetime
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from kiosk.appliance import config as config_module
from kiosk.directory import residents as directory
from kiosk.notices import board
from kiosk.relay import router as relay
from kiosk.sync import Sync
from sms.inbox import InboundMessage

from .conftest import wait_for
from .test_e2e import PASSWORD, chromium, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PHONE = {"viewport": {"width": 393, "height": 851}, "device_scale_factor": 2.75, "is_mobile": True,
         "has_touch": True, "locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh"}
OFFICIAL_PHONE, RELAY_PIN = "0912999001", "2468"
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|UTC|\+00:00")
_ids = count(1)
# Every target a finger can tap: links, buttons, fields, and the rows that hold a checkbox.
TARGETS_JS = """() => Array.from(document.querySelectorAll(
    'a, button, select, textarea, input:not([type=hidden]):not([type=checkbox]), label.check, summary'))
  .filter(e => e.offsetParent !== null && !e.closest('label.check:not(:scope)') || e.matches('label.check'))
  .filter(e => e.offsetParent !== null)
  .map(e => { const r = e.getBoundingClientRect();
              return {what: (e.tagName + ' ' + (e.textContent || e.name || '')).trim().slice(0, 40),
                      w: r.width, h: r.height}; })
  .filter(t => t.w < 44 || t.h < 44)"""
SMALL_TEXT_JS = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.offsetParent !== null && Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))
  .filter(e => parseFloat(getComputedStyle(e).fontSize) < 16 && !e.closest('svg'))
  .map(e => e.tagName + ': ' + e.textContent.trim().slice(0, 30))"""


@pytest.fixture
def phone(chromium):  # noqa: F811
    browser, _ = chromium
    context = browser.new_context(**PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    yield context
    context.close()


def shot(page, name: str) -> None:
    folder = os.environ.get("TDP_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        # The bottom menu is fixed to the screen; in a whole-page picture it goes to the end instead.
        page.add_style_tag(content="nav.menu { position: static; }")
        page.screenshot(path=os.path.join(folder, f"hub-{name}.png"), full_page=True)


def log_in(page, url: str, then: str = "/compose") -> None:
    page.goto(url + then)
    page.wait_for_url("**/login**")
    page.fill("#login", "phuong")
    page.fill("#password", PASSWORD)
    page.tap("button[type=submit]")
    page.wait_for_url(f"**{then}")


def compose(page, text: str, kiosks: list[str], group: str, urgent: bool = False) -> None:
    page.fill("#text", text)
    for name in kiosks:
        page.tap(f"label.check:has(input[name=kiosk][value={name}])")
    page.select_option("#group", group)
    if urgent:
        page.tap("label.check:has(#urgent)")
    page.tap("#review")
    page.wait_for_selector("#summary")


def with_relay_official(kiosk) -> None:
    """tdp2's officials list: the official's phone and relay PIN, as `tdp config` would set them."""
    kiosk.config = config_module.from_dict({
        "storage": {"path": str(kiosk.path)},
        "hub": {"url": kiosk.config.hub.url, "token": kiosk.config.hub.token, "poll_seconds": 1},
        "relay": {"officials": [{"name": "Lê Văn Phường", "phone": OFFICIAL_PHONE, "pin": RELAY_PIN}]}})
    kiosk.sync = Sync(kiosk.db, kiosk.config)


def text_in(kiosk, sender: str, text: str) -> None:
    """An SMS arriving at the kiosk, through the handler the gateway calls."""
    message = InboundMessage(id=next(_ids), sender=sender, sender_type="international", text=text, received_at="")
    relay.send(kiosk.db, kiosk.config, message, relay.handle(kiosk.db, kiosk.config, message))


def test_a_relayed_notice_and_its_hub_copy_reach_each_member_once(world, phone):  # noqa: F811
    hub, tdp2 = world["hub"], world["kiosks"]["tdp2"]
    with_relay_official(tdp2)
    page = phone.new_page()
    log_in(page, hub.url)
    text = "Khẩn: mất nước từ 8h đến 17h ngày mai.\nBà con chủ động trữ nước."
    compose(page, text, ["tdp2"], "HPN", urgent=True)         # tdp2 has never connected: it is offline
    page.tap("#send")
    page.wait_for_url("**/notices/*")
    box = page.locator("[data-relay=tdp2]")
    assert "không phải mật khẩu đăng nhập" in box.inner_text() and "XN" in box.inner_text()
    command = box.locator("code.cmd").inner_text()
    assert command.startswith("KC <PIN> HPN Khẩn: mất nước")
    box.locator("button.copy").tap()
    page.wait_for_selector("[data-relay=tdp2] button.copy:has-text('Đã sao chép')")
    assert page.evaluate("navigator.clipboard.readText()") == command
    shot(page, "relay")

    text_in(tdp2, "+84" + OFFICIAL_PHONE[1:], command.replace("<PIN>", RELAY_PIN))   # she texts it from her phone
    members = sorted(directory.recipients(tdp2.db, "HPN"))

    def residents_reached():      # the kiosk's reply to the official is not a resident's SMS
        return [n for n in tdp2.sent_numbers() if n != "+84" + OFFICIAL_PHONE[1:]]
    wait_for(lambda: residents_reached() == members, timeout=60, interval=0.1)

    page.evaluate("window.sameDocument = true")              # counts update in place, never a reload
    tdp2.sync.run_once()                                      # tdp2 is back online

    def relayed():
        tdp2.sync.run_once(full=False)
        return page.locator("tr[data-kiosk=tdp2][data-state=relayed]").count() == 1
    wait_for(relayed, timeout=30, interval=0.3)
    assert page.evaluate("window.sameDocument") is True
    row = page.locator("tr[data-kiosk=tdp2]")
    assert "không gửi lại" in row.inner_text() and row.locator(".sent").inner_text() == str(len(members))
    for _ in range(3):
        tdp2.sync.run_once(full=False)
    assert residents_reached() == members                    # each member: one SMS
    (shown,) = board.current(tdp2.db)                         # the board: one notice
    assert shown["source"] == "sms"


def test_a_double_tapped_send_makes_one_notice_and_everyone_needs_its_own_step(world, phone):  # noqa: F811
    hub, tdp1 = world["hub"], world["kiosks"]["tdp1"]
    tdp1.sync.run_once()
    page = phone.new_page()
    log_in(page, hub.url)
    assert page.locator("#group").input_value() == ""          # no default group
    everyone = len(directory.recipients(tdp1.db))
    assert f"Tất cả người đăng ký nhận tin ({everyone} người)" in page.inner_text("#group")
    compose(page, "Họp toàn tổ lúc 19h thứ Bảy tại nhà văn hóa.", ["tdp1"], "TATCA")
    assert f"× {everyone} người" in page.inner_text("#cost")
    shot(page, "confirm")
    page.tap("#send")                                          # the "Tất cả" box is not ticked
    assert page.locator("#everyone-step").is_visible() and "/notices/" not in page.url
    page.tap("label.check:has(#everyone-ok)")
    form = page.evaluate("""() => { const f = document.getElementById('confirm');
        const d = new URLSearchParams(new FormData(f)); d.set('step', 'send'); return d.toString(); }""")
    page.locator("#send").dblclick()                           # a double tap…
    page.wait_for_url("**/notices/*")
    again = page.request.post(hub.url + "/compose", data=form,   # …and the same form posted once more
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert again.url.split("/notices/")[1].split("?")[0] == page.url.split("/notices/")[1].split("?")[0]
    page.goto(hub.url + "/notices")
    assert page.locator("[data-notice]").count() == 1


def test_a_cancelled_notice_leaves_the_board_even_when_its_sms_are_done(world, phone):  # noqa: F811
    hub, tdp1 = world["hub"], world["kiosks"]["tdp1"]
    tdp1.sync.run_once()
    page = phone.new_page()
    log_in(page, hub.url)
    compose(page, "Họp Hội phụ nữ ngày 12/12 (ghi nhầm ngày)", ["tdp1"], "HPN")
    page.tap("#send")
    page.wait_for_url("**/notices/*")
    members = sorted(directory.recipients(tdp1.db, "HPN"))
    wait_for(lambda: tdp1.sync.run_once(full=False) is not None and tdp1.sent_numbers() == members,
             timeout=60, interval=0.2)
    tdp1.sync.run_once(full=False)
    assert len(board.current(tdp1.db)) >= 1
    page.tap("#cancel")
    assert "Tin đã gửi không thu hồi được" in page.inner_text("#cancel-explain")
    shot(page, "cancel")
    page.tap("#confirm-cancel")
    page.wait_for_selector("#cancelled")
    wait_for(lambda: tdp1.sync.run_once(full=False) is not None and not [
        n for n in board.current(tdp1.db) if n["text"].startswith("Họp Hội phụ nữ ngày 12/12")], timeout=30)
    page.tap("#correct")                                       # a correction, prefilled
    assert "ĐÍNH CHÍNH" in page.locator("#text").input_value()


def test_local_times_a_draft_that_survives_a_relogin_and_big_targets(world, phone):  # noqa: F811
    hub, tdp1 = world["hub"], world["kiosks"]["tdp1"]
    tdp1.sync.run_once()
    page = phone.new_page()
    log_in(page, hub.url)
    compose(page, "Tiêm chủng cho trẻ em sáng Chủ nhật.", ["tdp1"], "HPN")
    page.tap("#send")
    page.wait_for_url("**/notices/*")
    notice_url = page.url.split("?")[0]
    now = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    pages = ["/compose", "/kiosks", "/notices", notice_url.replace(hub.url, ""), "/report", "/audit"]
    for path in pages:
        page.goto(hub.url + path)
        shown = page.inner_text("body")
        assert not ISO_TIME.search(shown), f"{path}: {ISO_TIME.search(shown).group(0)}"
        assert page.evaluate(TARGETS_JS) == [], path
        assert page.evaluate(SMALL_TEXT_JS) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 393, path
        if path != "/compose":
            shot(page, "notice" if path.startswith("/notices/") else path.strip("/"))
    page.goto(notice_url)
    assert now.strftime("%d/%m/%Y") in page.inner_text("main")
    page.goto(hub.url + "/report")
    assert f"đến {now.strftime('%d/%m/%Y')}" in page.inner_text("h1")

    page.goto(hub.url + "/compose")
    draft = "Kính mời bà con dự họp tổ lúc 19h30,\nmang theo sổ hội viên."
    page.fill("#text", draft)
    page.select_option("#group", "HPN")
    phone.clear_cookies()                                      # the login expires while she types
    page.fill("#text", draft + " ")
    page.wait_for_selector("#session-lost:not([hidden])")
    assert "Nội dung vẫn được giữ" in page.inner_text("#session-lost")
    log_in(page, hub.url, "/compose")
    assert page.locator("#text").input_value().strip() == draft
    assert page.locator("#group").input_value() == "HPN"
    assert page.locator("#draft-restored").is_visible()
    page.tap("label.check:has(input[name=kiosk][value=tdp1])")
    page.tap("label.check:has(#unaccented)")                   # the preview shows what residents read
    page.wait_for_selector("#preview-parts .bubble:has-text('so hoi vien')")
    assert "Gửi " in page.inner_text("#total") and " đ" in page.inner_text("#total")
    shot(page, "compose")


def test_an_offline_kiosk_says_since_when_what_to_check_and_whom_to_call(world, phone):  # noqa: F811
    from kiosk.volunteers import duty, people
    hub, tdp1 = world["hub"], world["kiosks"]["tdp1"]
    people.add(tdp1.db, people.NewVolunteer("Trần Thị Thu", "0912777001"))
    people.set_pin(tdp1.db, "0912777001", "2580")
    duty.check_in(tdp1.db, "0912777001", "2580", tdp1.config.volunteers)
    tdp1.sync.run_once()                                       # its last heartbeat, then it goes quiet
    last = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    page = phone.new_page()
    log_in(page, hub.url, "/kiosks")
    # 3 missed heartbeats of 2 s; the cards update in place (no reload) every 4 s.
    page.wait_for_selector("[data-kiosk=tdp1][data-state=offline]", timeout=30_000)
    card = page.locator("[data-kiosk=tdp1]")
    text = card.inner_text()
    assert re.search(rf"Mất kết nối từ {last:%d/%m/%Y} \d\d:\d\d \((vừa xong|\d+ phút trước)\)", text)
    assert "Kiểm tra kiosk còn điện" in text and "4G hoặc wifi" in text and "SIM của kiosk còn tiền" in text
    assert card.locator("a[href='tel:0912777001']").count() == 1 and "Thu" in text
    assert page.evaluate(TARGETS_JS) == []
    shot(page, "kiosks-offline")
