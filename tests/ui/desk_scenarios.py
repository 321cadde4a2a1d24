"""UI scenarios of the request desk (issue 18), driven by simulated touches on the real app."""
import os


def _children(container):
    return list(reversed(container.children))


def resident_request(ui):
    """Home → Nhờ làm thủ tục: which procedures are offered, then the done screen's words."""
    yield from ui.wait_screen("home")
    ui.result["tile"] = ui.find("tile_request").text
    yield from ui.tap("tile_request")
    yield from ui.wait_screen("request")
    screen = ui.screen
    yield from ui.wait(lambda: len(screen.ids.procedure_list.children) > 0, 10, "procedure list")
    ui.result["offered"] = [b.code for b in _children(screen.ids.procedure_list)]
    yield from ui.tap(next(b for b in _children(screen.ids.procedure_list) if b.code == "HT-KS"))
    yield from ui.wait(lambda: screen.step == "name", 5, "name step")
    yield from ui.type_keys("hoof bas vyx")
    yield from ui.tap("name_next")
    yield from ui.wait(lambda: screen.step == "phone", 5, "phone step")
    for digit in "0912345678":
        yield from ui.tap(f"num_{digit}")
    yield from ui.tap("phone_next")
    yield from ui.wait(lambda: screen.step == "citizen_id", 5, "citizen id step")
    for digit in "123456789":  # an old 9-digit CMND: refused
        yield from ui.tap(f"num_{digit}")
    yield from ui.tap("cid_next")
    yield from ui.wait(lambda: bool(screen.error), 5, "the ID error")
    ui.result["cmnd_error"] = screen.error
    yield from ui.tap("cid_skip")
    yield from ui.wait(lambda: screen.step == "confirm", 5, "confirm step")
    ui.result["confirm_button"] = ui.find("confirm").text
    yield from ui.tap("confirm")
    yield from ui.wait(lambda: screen.step == "done", 15, "the code")
    ui.result["code"] = screen.ids.tracking_code.text
    ui.result["done_text"] = " ".join(w.text for w in screen.walk(restrict=True) if hasattr(w, "text")
                                      and isinstance(w.text, str))
    yield from ui.wait(lambda: ui.app.print_message not in ("", ui.app.t("busy")), 30, "the slip")


def guide_without_kiosk_request(ui):
    """A guide for a procedure the kiosk does not take offers a volunteer instead, with a ticket."""
    yield from ui.wait_screen("home")
    ui.app.go("guides", code="CT-SAOY")
    yield from ui.wait_screen("guides")
    screen = ui.screen
    yield from ui.wait(lambda: screen.step == "detail", 5, "the guide")
    ui.result["button"] = ui.find("hand_in").text
    ui.result["qr"] = ui.find("portal_qr").texture is not None
    yield from ui.tap("hand_in")
    yield from ui.wait(lambda: bool(screen.ticket_message), 10, "the ticket")
    ui.result["message"] = screen.ticket_message
    ui.result["screen"] = ui.app.manager.current


def check_by_portal_code(ui):
    """The check screen finds a request by the portal's dossier code, typed without dots or dashes."""
    yield from ui.wait_screen("home")
    yield from ui.tap("tile_check")
    yield from ui.wait_screen("check")
    screen = ui.screen
    for ch in os.environ["TDP_TEST_PORTAL"].replace(".", "").replace("-", "").lower():
        yield from ui.tap(f"key_{ch}")
    yield from ui.tap("code_next")
    yield from ui.wait(lambda: screen.step == "results" or screen.error, 10, "results")
    ui.result["error"] = screen.error
    ui.result["text"] = screen.ids.results.text


def _sign_in(ui, screen, pin="2468"):
    yield from ui.wait(lambda: len(screen.ids.who_list.children) > 0, 10, "the volunteers")
    yield from ui.tap(_children(screen.ids.who_list)[0])
    yield from ui.wait(lambda: screen.step == "pin", 5, "PIN step")
    for digit in pin:
        yield from ui.tap(f"num_{digit}")
    yield from ui.tap("pin_next")
    yield from ui.wait(lambda: screen.step == "menu", 10, "menu")


def _action(screen, action):
    return next(b for b in _children(screen.ids.status_buttons) if b.action == action)


def volunteer_desk(ui):
    """A senior volunteer records the portal code and date, ticks missing papers, then rejects with a
    reason and a confirmation."""
    code = os.environ["TDP_TEST_CODE"]
    yield from ui.wait_screen("home")
    yield from ui.tap("volunteer_mode")
    yield from ui.wait_screen("volunteer")
    screen = ui.screen
    yield from _sign_in(ui, screen)
    yield from ui.tap("menu_request")
    yield from ui.wait(lambda: screen.step == "request", 5, "request step")
    for ch in code.split("-", 1)[1].replace("-", "").lower():
        yield from ui.tap(f"key_{ch}")
    yield from ui.tap("find_request")
    yield from ui.wait(lambda: screen.dossier is not None, 10, "the request")
    ui.result["actions_received"] = [b.action for b in _children(screen.ids.status_buttons)]
    yield from ui.tap(_action(screen, "portal"))
    yield from ui.wait(lambda: screen.step == "portal", 5, "portal step")
    typed = os.environ["TDP_TEST_PORTAL"].replace(".", "").replace("-", "").lower()
    for ch in typed[:-5]:
        yield from ui.tap(f"key_{ch}")
    yield from ui.tap("portal_next")  # one digit short of the date: refused
    yield from ui.wait(lambda: bool(screen.error), 5, "the portal code error")
    ui.result["portal_error"] = screen.error
    for ch in typed[-5:]:
        yield from ui.tap(f"key_{ch}")
    ui.result["portal_typed"] = screen.ids.portal_input.text
    yield from ui.tap("portal_next")
    yield from ui.wait(lambda: screen.step == "appointment", 5, "appointment step")
    for digit in os.environ["TDP_TEST_DATE"]:
        yield from ui.tap(f"num_{digit}")
    yield from ui.tap("save_portal")
    yield from ui.wait(lambda: screen.dossier.portal_code is not None and screen.step == "request", 10, "portal saved")
    ui.result["after_portal"] = screen.dossier.status
    yield from ui.tap(_action(screen, "needs_more_documents"))
    yield from ui.wait(lambda: screen.step == "documents", 5, "documents step")
    yield from ui.tap("send_documents")  # nothing ticked: refused
    yield from ui.wait(lambda: bool(screen.error), 5, "the ticking error")
    ui.result["documents_error"] = screen.error
    papers = _children(screen.ids.document_list)
    yield from ui.tap(papers[1])
    yield from ui.tap(papers[2])
    yield from ui.tap(papers[2])  # untick
    ui.result["ticked"] = list(screen.documents)
    yield from ui.tap("send_documents")
    yield from ui.wait(lambda: screen.dossier.status == "needs_more_documents" and screen.step == "request", 10,
                       "documents requested")
    ui.result["actions_missing"] = [b.action for b in _children(screen.ids.status_buttons)]
    yield from ui.tap(_action(screen, "rejected"))
    yield from ui.wait(lambda: screen.step == "reject", 5, "reasons")
    yield from ui.tap(_children(screen.ids.reason_list)[0])
    yield from ui.wait(lambda: screen.step == "reject_confirm", 5, "confirmation")
    yield from ui.tap("reject_cancel")  # changed their mind once
    yield from ui.wait(lambda: screen.step == "reject", 5, "back to reasons")
    ui.result["status_after_cancel"] = screen.dossier.status
    yield from ui.tap(_children(screen.ids.reason_list)[0])
    yield from ui.wait(lambda: screen.step == "reject_confirm", 5, "confirmation")
    yield None
    ui.result["confirm_text"] = " ".join(w.text for w in screen.walk(restrict=True)
                                         if type(w).__name__ == "PromptLabel")
    yield from ui.tap("reject_confirm")
    yield from ui.wait(lambda: screen.dossier.status == "rejected", 10, "rejected")
