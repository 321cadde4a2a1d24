"""Scenarios run by tests/ui/pilot.py inside the real kiosk app (see tests/ui/test_*.py)."""
from __future__ import annotations


def _fits(widget, window) -> bool:
    x, y = widget.to_window(widget.x, widget.y)
    return x >= -1 and y >= -1 and x + widget.width <= window.width + 1 and y + widget.height <= window.height + 1


def home_tiles_fit(ui):
    """Every Home tile and button is on screen, at least a touch target big, texts not cut off."""
    from kivy.core.window import Window
    yield from ui.wait_screen("home")
    yield None
    ids = ["tile_register", "tile_guides", "tile_request", "tile_check", "tile_notices", "tile_call",
           "large_text", "language", "read_aloud", "volunteer_mode"]
    ui.result["large_default"] = ui.app.large_text
    report = {}
    for widget_id in ids:
        widget = ui.find(widget_id)
        widget.texture_update()
        report[widget_id] = {
            "fits": _fits(widget, Window),
            "big_enough": min(widget.size) >= ui.app.target() - 1,
            "text_inside": widget.texture_size[0] <= widget.width + 1 and widget.texture_size[1] <= widget.height + 1,
        }
    ui.result["widgets"] = report
    yield from ui.tap("large_text")
    yield None
    yield None
    large = {}
    for widget_id in ids:
        widget = ui.find(widget_id)
        widget.texture_update()
        large[widget_id] = _fits(widget, Window) and widget.texture_size[1] <= widget.height + 1
    ui.result["large_text_on"] = ui.app.large_text
    ui.result["large"] = large


def idle_reset(ui):
    """A+ turned on, then no touch: the countdown appears, then Home returns with A+ off."""
    yield from ui.wait_screen("home")
    yield from ui.tap("large_text")
    ui.result["large_before"] = ui.app.large_text
    yield from ui.wait(lambda: ui.app._countdown_view is not None, 10, "idle countdown")
    ui.result["countdown_shown"] = True
    yield from ui.wait(lambda: not ui.app.large_text, 10, "idle reset")
    ui.result["large_after"] = ui.app.large_text
    ui.result["countdown_after"] = ui.app._countdown_view is not None


def more_time(ui):
    """'I need more time' dismisses the countdown and keeps what the resident was doing."""
    yield from ui.wait_screen("home")
    yield from ui.tap("large_text")
    yield from ui.wait(lambda: ui.app._countdown_view is not None, 10, "idle countdown")
    yield None
    yield from ui.tap("more_time")
    ui.result["dismissed"] = ui.app._countdown_view is None
    ui.result["large_kept"] = ui.app.large_text


def language_switch(ui):
    yield from ui.wait_screen("home")
    before = ui.find("tile_register").text
    yield from ui.tap("language")
    yield None
    ui.result["before"] = before
    ui.result["after"] = ui.find("tile_register").text


def _first_child_button(container):
    return list(reversed(container.children))[0]


def hand_in_request(ui):
    """Home → Hand in a request → first procedure → name by Telex → phone → skip ID → confirm twice."""
    yield from ui.wait_screen("home")
    yield from ui.tap("tile_request")
    yield from ui.wait_screen("request")
    screen = ui.screen
    yield from ui.wait(lambda: len(screen.ids.procedure_list.children) > 0, 10, "procedure list")
    yield from ui.tap(_first_child_button(screen.ids.procedure_list))
    yield from ui.wait(lambda: screen.step == "name", 5, "name step")
    yield from ui.type_keys("nguyeenx vawn an")
    ui.result["typed_name"] = screen.ids.name_input.text
    yield from ui.tap("name_next")
    yield from ui.wait(lambda: screen.step == "phone", 5, "phone step")
    for digit in "0912345678":
        yield from ui.tap(f"num_{digit}")
    yield from ui.tap("phone_next")
    yield from ui.wait(lambda: screen.step == "citizen_id", 5, "citizen id step")
    for digit in "001234567890":
        yield from ui.tap(f"num_{digit}")
    ui.result["typed_id"] = screen.ids.cid_input.text
    yield from ui.tap("cid_next")
    yield from ui.wait(lambda: screen.step == "confirm", 5, "confirm step")
    ui.result["summary"] = screen.ids.summary.text
    confirm = ui.find("confirm")
    # A resident taps "Hand in" three times in a row: only one dossier may come of it.
    yield from ui.tap(confirm)
    yield from ui.tap(confirm)
    yield from ui.tap(confirm)
    yield from ui.wait(lambda: screen.step == "done", 15, "tracking code")
    ui.result["code"] = screen.ids.tracking_code.text
    yield from ui.wait(lambda: ui.app.print_message not in ("", ui.app.t("busy")), 30, "receipt")
    ui.result["print_message"] = ui.app.print_message
    yield from ui.wait(screen.settled, 5, "the done step to settle")
    yield from ui.tap("finish")
    yield from ui.wait_screen("rating")
    yield from ui.tap("face_2")
    yield from ui.wait_screen("home")
    ui.result["code_after_home"] = ui.app.screen("request").code


def _type_code(ui, code):
    """Type a tracking code as printed, without its prefix (the kiosk adds it), on the code keyboard."""
    for ch in code.split("-", 1)[1].replace("-", "").lower():
        yield from ui.tap(f"key_{ch}")


def check_request(ui):
    """Check a request by the code on its receipt: status and history, nothing personal."""
    import os
    code = os.environ["TDP_TEST_CODE"]
    yield from ui.wait_screen("home")
    yield from ui.tap("tile_check")
    yield from ui.wait_screen("check")
    screen = ui.screen
    yield from _type_code(ui, code)
    ui.result["typed"] = screen.ids.code_input.text
    yield from ui.tap("code_next")
    yield from ui.wait(lambda: screen.step == "results" or screen.error, 10, "results")
    ui.result["error"] = screen.error
    ui.result["text"] = screen.ids.results.text


def register_household(ui):
    """Register end to end: the OTP is read back from the emulated modem's sent messages."""
    import re

    from contextlib import ExitStack

    from kiosk.appliance.wiring import build_gateway
    from sms.emulator import Emulator

    stack = ExitStack()
    emulator = Emulator()
    stack.callback(emulator.stop)
    gateway = build_gateway(ui.app.tdp_config, ui.app.tdp_config.storage.path, [emulator.start()], stack)
    gateway.start()
    stack.callback(gateway.stop, 10)
    ui.app.bind(on_stop=lambda *_: stack.close())
    yield from ui.wait_screen("home")
    yield from ui.tap("tile_register")
    yield from ui.wait_screen("register")
    screen = ui.screen
    # Consent first: it names the members' names among the data kept.
    ui.result["consent_shown"] = "Nghị định 13/2023" in screen.ids.consent_text.text
    ui.result["consent_names_members"] = "thành viên" in screen.ids.consent_text.text
    yield from ui.tap("agree")
    yield from ui.wait(lambda: screen.step == "name", 5, "name step")
    yield from ui.type_keys("traanf thij lan")
    yield from ui.tap("name_next")
    yield from ui.wait(lambda: screen.step == "phone", 5, "phone step")
    for digit in "02438261234":
        yield from ui.tap(f"num_{digit}")
    yield from ui.tap("phone_next")
    ui.result["landline_error"] = screen.error
    yield from ui.tap("num_back")
    ui.result["error_after_key"] = screen.error  # fixing the number clears the old error
    for _ in range(10):
        yield from ui.tap("num_back")
    yield from _type_phone(ui, screen)
    yield from ui.tap("key_telex")  # this resident knows Telex: she switches it on
    yield from ui.type_keys("so 5 ngox 12")
    yield from ui.tap("address_next")
    yield from ui.wait(lambda: screen.step == "members", 5, "members step")
    yield from ui.type_keys("traanf minh khooi")
    yield from ui.tap("add_member")
    yield from ui.tap("members_next")
    yield from ui.wait(lambda: screen.step == "code", 15, "code step")
    ui.result["idle_on_code_step"] = screen.idle_seconds()
    ui.result["resend_disabled"] = ui.find("resend").disabled
    # A wrong code first: the resident is told how many tries are left.
    for digit in "000000":  # the sixth digit checks it
        yield from ui.tap(f"num_{digit}")
    yield from ui.wait(lambda: bool(screen.error), 10, "wrong-code message")
    ui.result["wrong_code_error"] = screen.error
    yield from ui.wait(lambda: len(emulator.sent) >= 1, 30, "the OTP SMS")
    code = re.search(r"\b(\d{6})\b", emulator.sent_texts("+84987654321")[0]).group(1)
    for digit in code:
        yield from ui.tap(f"num_{digit}")
    yield from ui.wait(lambda: screen.step == "done", 15, "registration done")
    yield from ui.wait(lambda: ui.app.print_message not in ("", ui.app.t("busy")), 20, "receipt")
    ui.result["done_text"] = screen.ids.done_text.text
    ui.result["print_message"] = ui.app.print_message


def notice_board(ui):
    yield from ui.wait_screen("home")
    yield from ui.tap("tile_notices")
    yield from ui.wait_screen("notices")
    screen = ui.screen
    yield from ui.wait(lambda: len(screen.ids.notice_list.children) > 0, 10, "notices")
    cards = list(reversed(screen.ids.notice_list.children))
    ui.result["texts"] = [card.notice["text"] for card in cards]
    ui.result["urgent"] = [card.notice["urgent"] for card in cards]


def call_volunteer(ui):
    """Call a volunteer: a queue number; tapping again does not open a second ticket."""
    yield from ui.wait_screen("home")
    # Steady state: while the other screens are still being built after start-up, frames are long.
    yield from ui.wait(lambda: ui.app.preloaded, 30, "the screens to be built")
    yield from ui.tap("tile_call")
    yield from ui.wait_screen("call")
    screen = ui.screen
    button = ui.find("call_button")
    yield from ui.tap(button)
    yield from ui.tap(button)
    yield from ui.wait(lambda: bool(screen.number), 10, "the ticket number")
    ui.result["number"] = screen.ids.ticket_number.text
    ui.result["notified"] = screen.ids.notified.text


def _sign_in(ui, screen, pin):
    """Pick the first volunteer on the sign-in list and type `pin`."""
    yield from ui.wait(lambda: len(screen.ids.who_list.children) > 0, 10, "the volunteers")
    yield from ui.tap(list(reversed(screen.ids.who_list.children))[0])
    yield from ui.wait(lambda: screen.step == "pin", 5, "PIN step")
    for digit in pin:
        yield from ui.tap(f"num_{digit}")
    yield from ui.tap("pin_next")


def volunteer_mode(ui):
    """A volunteer signs in with the PIN (one wrong try), closes the ticket, moves a request on."""
    import os
    code = os.environ["TDP_TEST_CODE"]
    yield from ui.wait_screen("home")
    yield from ui.tap("volunteer_mode")
    yield from ui.wait_screen("volunteer")
    screen = ui.screen
    yield from _sign_in(ui, screen, "1111")
    yield from ui.wait(lambda: bool(screen.error), 10, "wrong PIN message")
    ui.result["wrong_pin"] = screen.error
    for digit in "2468":
        yield from ui.tap(f"num_{digit}")
    yield from ui.tap("pin_next")
    yield from ui.wait(lambda: screen.step == "menu", 10, "menu")
    yield from ui.tap("check_in")
    yield from ui.wait(lambda: "ca" in screen.message and screen.message != "", 10, "check-in")
    ui.result["checked_in"] = screen.message
    yield from ui.tap("menu_tickets")
    yield from ui.wait(lambda: screen.step == "tickets", 10, "tickets")
    ui.result["tickets"] = len(screen.ids.ticket_list.children)
    ui.result["ticket_text"] = list(reversed(screen.ids.ticket_list.children))[0].text
    ui.result["device_status"] = screen.ids.device_status.text
    yield from ui.tap(list(reversed(screen.ids.ticket_list.children))[0])
    yield from ui.wait(lambda: screen.step == "close", 5, "close step")
    yield from ui.tap(list(reversed(screen.ids.close_procedures.children))[1])
    yield from ui.tap("close_online_kiosk")
    yield from ui.wait_screen("rating", 10)
    yield from ui.tap("face_1")
    yield from ui.wait_screen("home")
    # Back in volunteer mode: the request desk.
    yield from ui.tap("volunteer_mode")
    yield from ui.wait_screen("volunteer")
    screen = ui.screen
    yield from _sign_in(ui, screen, "2468")
    yield from ui.wait(lambda: screen.step == "menu", 10, "menu")
    yield from ui.tap("menu_request")
    yield from ui.wait(lambda: screen.step == "request", 5, "request step")
    yield from _type_code(ui, code)
    yield from ui.tap("find_request")
    yield from ui.wait(lambda: screen.dossier is not None, 10, "the request")
    ui.result["dossier_text"] = screen.ids.dossier_text.text
    yield from ui.tap(next(b for b in screen.ids.status_buttons.children if b.action == "forwarded"))
    yield from ui.wait(lambda: screen.dossier.status == "forwarded", 10, "status change")
    yield from ui.tap("reprint")
    yield from ui.wait(lambda: ui.app.print_message not in ("", ui.app.t("busy")), 20, "reprint")
    ui.result["reprint"] = ui.app.print_message



def _open_register(ui):
    """Home → Register with consent given; returns the register screen, on its name step."""
    yield from ui.wait_screen("home")
    yield from ui.tap("tile_register")
    yield from ui.wait_screen("register")
    screen = ui.screen
    yield from ui.tap("agree")
    yield from ui.wait(lambda: screen.step == "name", 5, "name step")
    return screen


def _type_phone(ui, screen, digits: str = "0987654321"):
    """The phone step: the digits on the keypad, then on to the address step."""
    for digit in digits:
        yield from ui.tap(f"num_{digit}")
    yield from ui.tap("phone_next")
    yield from ui.wait(lambda: screen.step == "address", 5, "address step")

def _tap_chip(ui, keyboard, wanted):
    """Tap the suggestion chip showing `wanted` (it must be offered)."""
    yield None
    chips = [keyboard.ids[k] for k in keyboard.ids if k.startswith("chip_")]
    chip = next((c for c in chips if c.text == wanted), None)
    if chip is None:
        raise AssertionError(f"no chip {wanted!r}; offered {[c.text for c in chips]}")
    yield from ui.tap(chip)


def request_without_telex(ui):
    """Bà Hoà's request: "Nguyễn Thị Hoà" with plain letters, mark keys and chips only; the taps are
    counted from Home to the tracking code."""
    taps = 0
    original_tap = ui.tap

    def counted(widget):
        nonlocal taps
        taps += 1
        yield from original_tap(widget)
    ui.tap = counted
    yield from ui.wait_screen("home")
    yield from ui.tap("tile_request")
    yield from ui.wait_screen("request")
    screen = ui.screen
    yield from ui.wait(lambda: len(screen.ids.procedure_list.children) > 0, 10, "procedure list")
    yield from ui.tap(_first_child_button(screen.ids.procedure_list))
    yield from ui.wait(lambda: screen.step == "name", 5, "name step")
    keyboard = screen.ids.name_keyboard
    # One letter, then the chip with the whole word: the fewest taps a resident needs.
    yield from ui.type_keys("n")
    yield from _tap_chip(ui, keyboard, "Nguyễn")
    yield from ui.type_keys("t")
    yield from _tap_chip(ui, keyboard, "Thị")
    yield from ui.type_keys("h")
    yield from _tap_chip(ui, keyboard, "Hoà")
    ui.result["typed_name"] = screen.ids.name_input.text
    yield from ui.tap("name_next")
    yield from ui.wait(lambda: screen.step == "phone", 5, "phone step")
    for digit in "0912345678":
        yield from ui.tap(f"num_{digit}")
    yield from ui.tap("phone_next")
    yield from ui.wait(lambda: screen.step == "citizen_id", 5, "citizen id step")
    yield from ui.tap("cid_skip")
    yield from ui.wait(lambda: screen.step == "confirm", 5, "confirm step")
    yield from ui.tap("confirm")
    yield from ui.wait(lambda: screen.step == "done", 15, "tracking code")
    ui.result["taps"] = taps
    ui.result["code"] = screen.ids.tracking_code.text
    yield from ui.wait(lambda: ui.app.print_message not in ("", ui.app.t("busy")), 30, "receipt")


def address_without_telex(ui):
    """An address with digits and / , typed with mark keys only: "Số 5/12, ngõ 3"."""
    screen = yield from _open_register(ui)
    yield from ui.type_keys("tran")
    yield from _tap_chip(ui, screen.ids.name_keyboard, "Trần")
    yield from ui.tap("name_next")
    ui.result["name_error"] = screen.error
    yield from ui.wait(lambda: screen.step == "phone", 5, "phone step")
    yield from _type_phone(ui, screen)
    yield from ui.tap("key_shift")
    yield from ui.type_keys("so")
    yield from ui.tap("mark_hat")
    yield from ui.tap("mark_sac")
    yield from ui.type_keys(" 5")
    yield from ui.tap("key_slash")
    yield from ui.type_keys("12")
    yield from ui.tap("key_comma")
    yield from ui.type_keys(" ngo")
    yield from ui.tap("mark_nga")
    yield from ui.type_keys(" 3")
    ui.result["address"] = screen.ids.address_input.text
    # Back goes one step back and keeps what was typed.
    yield from ui.tap("back_button")
    ui.result["back_step"] = screen.step
    ui.result["phone_kept"] = screen.ids.phone_input.text
    yield from ui.tap("phone_next")
    yield from ui.wait(lambda: screen.step == "address", 5, "address step again")
    ui.result["address_kept"] = screen.ids.address_input.text


def typing_help(ui):
    """"Nhờ tình nguyện viên nhập giúp" on the name step: a help ticket, its number shown."""
    screen = yield from _open_register(ui)
    button = next(w for w in screen.ids.steps.current_screen.walk()
                  if type(w).__name__ == "TypingHelpButton" and not w.disabled)
    yield from ui.tap(button)
    yield from ui.wait_screen("call")
    yield from ui.wait(lambda: bool(ui.screen.number), 10, "the ticket number")
    ui.result["number"] = ui.screen.number
