"""The officials' web console (Vietnamese, usable on a phone): login, Kiosks, Compose, Notices, Report, Audit.

Sessions are random tokens in an HttpOnly, SameSite=Strict cookie (Secure when the request came
over HTTPS, e.g. through the TLS proxy); every form carries the session's CSRF token and every
POST checks it. A ward official acts on the kiosks of their ward (all kiosks if their ward is
empty); a group leader only on their own kiosk. Every action is written to the audit log.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.templating import Jinja2Templates

from . import admin, auth, console_view as view, db, notices, releases, report, times
from .api import read_json
from .contract import EVERYONE_CODE
from .guard import BoundedStaticFiles
from .errors import HubError, InvalidInput

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
SESSION_COOKIE = "tdp_session"
LOGIN_CSRF_COOKIE = "tdp_login_csrf"
DEVICE_COOKIE = "tdp_device"
SECURITY_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
                    # A phone shared in the family must not show the list again through Back after logout.
                    "Cache-Control": "no-store"}
STALE_FORM = "Trang này đã mở quá lâu. Vui lòng tải lại trang rồi thử lại."
NEXT_PAGES = ("/compose", "/notices", "/kiosks", "/report", "/audit")


def _hub(request: Request):
    return request.app.state.hub


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def render(request: Request, name: str, context: dict, status: int = 200) -> Response:
    settings = _hub(request).settings
    context = {"settings": settings, "view": view, "zone": settings.timezone, "path": request.url.path, **context}
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def _filters(env) -> None:
    env.filters["local"] = lambda value, zone: times.display(value, zone)
    env.filters["clock"] = lambda value, zone: times.clock_of(value, zone)
    env.filters["day"] = times.day
    env.filters["wall"] = times.wall
    env.filters["money"] = lambda value: f"{int(value):,}".replace(",", ".")


_filters(templates.env)


async def error_page(request: Request, status: int):
    official = await _official(request)
    return render(request, "error.html", {"official": official, "status": status,
                                          "message": "Không tìm thấy trang" if status == 404 else "Yêu cầu không hợp lệ"},
                  status)


async def _official(request: Request) -> dict | None:
    hub = _hub(request)
    return await run_in_threadpool(auth.session_official, hub.engine, request.cookies.get(SESSION_COOKIE))


def page(handler):
    """A console page that needs a logged-in official; POSTs must carry the session's CSRF token."""
    async def endpoint(request: Request):
        official = await _official(request)
        if official is None:
            if request.url.path.startswith("/console/api/"):
                return JSONResponse({"error": "Phiên đăng nhập đã hết. Nội dung vẫn được giữ – hãy đăng nhập lại.",
                                     "login": True}, status_code=401)
            target = request.url.path if request.url.path in NEXT_PAGES else ""
            return RedirectResponse("/login" + (f"?next={target}" if target else ""), status_code=303)
        form = None
        if request.url.path.startswith("/console/api/"):
            if not auth.csrf_ok(official["csrf"], request.headers.get("x-csrf-token")):
                return JSONResponse({"error": STALE_FORM}, status_code=403)
        elif request.method == "POST":
            form = await request.form()
            if not auth.csrf_ok(official["csrf"], form.get("csrf")):
                return render(request, "error.html", {"official": official, "status": 403, "message": STALE_FORM}, 403)
        return await handler(request, official, form)
    return endpoint


def _scope(hub, official) -> tuple[list[dict], set[int]]:
    """The kiosks an official may act on (as shown) and their ids (for the permission checks)."""
    return (admin.visible_kiosks(hub.engine, hub.settings, official),
            admin.visible_kiosk_ids(hub.engine, official))


async def _audit(request: Request, actor: str, action: str, detail, official: dict | None = None) -> None:
    """Audit a console action in the ward of `official` (None: hub-wide, seen by hub-wide officials)."""
    def write():
        with db.write(_hub(request).engine) as conn:
            admin.record(conn, actor, action, detail, ward=admin.ward_of(conn, official) if official else None)
    await run_in_threadpool(write)


# --- login -------------------------------------------------------------------------------------
def _next(value) -> str:
    """Where to go after login: only our own pages (never an address from outside)."""
    value = str(value or "")
    return value if value in NEXT_PAGES else "/compose"


async def login_form(request: Request):
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or auth.new_token()
    response = render(request, "login.html", {"official": None, "csrf": token, "error": None, "login": "",
                                              "next": _next(request.query_params.get("next"))})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                        max_age=3600)
    return response


async def login_submit(request: Request):
    hub = _hub(request)
    form = await request.form()
    login_name = str(form.get("login", "")).strip()
    target = _next(form.get("next"))
    context = {"official": None, "login": login_name[:80], "next": target}
    if not auth.csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form.get("csrf")):
        return render(request, "login.html", {**context, "login": "", "csrf": request.cookies.get(LOGIN_CSRF_COOKIE, ""),
                                              "error": "Trang đăng nhập đã mở quá lâu, vui lòng thử lại."}, 403)
    try:
        official = await run_in_threadpool(auth.login, hub.engine, hub.settings, login_name,
                                           str(form.get("password", "")), request.client.host if request.client else "",
                                           request.cookies.get(DEVICE_COOKIE))
    except auth.LoginRefused as exc:
        await _audit(request, f"login:{login_name[:60]}", "console.login_failed", {"reason": exc.reason}, exc.official)
        return render(request, "login.html", {**context, "csrf": request.cookies.get(LOGIN_CSRF_COOKIE),
                                              "error": str(exc).capitalize()}, 401)
    token, _ = await run_in_threadpool(auth.open_session, hub.engine, hub.settings, official["id"])
    device = await run_in_threadpool(auth.remember_device, hub.engine, official["id"], request.cookies.get(DEVICE_COOKIE))
    await _audit(request, official["login"], "console.login", {}, official)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                        max_age=hub.settings.session_hours * 3600)
    response.set_cookie(DEVICE_COOKIE, device, httponly=True, samesite="strict", secure=_secure(request),
                        max_age=auth.DEVICE_DAYS * 86400)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@page
async def logout(request: Request, official: dict, form):
    await run_in_threadpool(auth.close_session, _hub(request).engine, request.cookies.get(SESSION_COOKIE))
    await _audit(request, official["login"], "console.logout", {}, official)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def home(request: Request):
    return RedirectResponse("/compose", status_code=303)


# --- pages -------------------------------------------------------------------------------------
@page
async def kiosks_page(request: Request, official: dict, form):
    hub = _hub(request)
    kiosks = await run_in_threadpool(admin.visible_kiosks, hub.engine, hub.settings, official)
    offered = await run_in_threadpool(releases.offered, hub.engine)
    return render(request, "kiosks.html", {"official": official, "kiosks": kiosks,
                                           "versions": releases.versions_in_use(kiosks), "offered": offered})


def _compose_context(hub, official: dict, kiosks: list[dict], values: dict, error: str | None = None) -> dict:
    wards: dict[str, list[str]] = {}
    for kiosk in kiosks:
        if not kiosk["revoked"]:
            wards.setdefault(kiosk["ward"] or "", []).append(kiosk["name"])
    quiet = times.in_quiet_hours(hub.settings.timezone, hub.settings.quiet_start, hub.settings.quiet_end)
    return {"official": official, "kiosks": kiosks, "error": error, "form": values,
            "groups": view.group_choices(kiosks), "wards": {w: n for w, n in wards.items() if len(n) > 1},
            "quiet": quiet, "quiet_end": times.spoken_hour(hub.settings.quiet_end),
            "form_token": values.get("form_token") or auth.new_token()}


@page
async def compose_page(request: Request, official: dict, form):
    hub = _hub(request)
    kiosks, ids = await run_in_threadpool(_scope, hub, official)
    values: dict = {}
    correct = request.query_params.get("correct", "")
    if correct.isdigit():
        try:
            original = await run_in_threadpool(notices.show, hub.engine, int(correct), kiosk_ids=ids)
        except HubError:
            return await error_page(request, 404)
        values = {"text": f"ĐÍNH CHÍNH thông báo ngày {times.display(original['created_at'], hub.settings.timezone)}: "
                          + original["text"],
                  "group": original["group"], "urgent": original["urgent"], "unaccented": original["unaccented"],
                  "kiosk": [k["name"] for k in original["kiosks"]], "replaces": original["id"]}
    return render(request, "compose.html", _compose_context(hub, official, kiosks, values))


def _form_values(form) -> dict:
    replaces = str(form.get("replaces", "")).strip()
    return {"text": str(form.get("text", "")), "group": str(form.get("group", "")).strip().upper(),
            "urgent": form.get("urgent") == "1", "unaccented": form.get("unaccented") == "1",
            "expires": str(form.get("expires", "")).strip(), "kiosk": [str(k) for k in form.getlist("kiosk")],
            "form_token": str(form.get("form_token", ""))[:64], "replaces": int(replaces) if replaces.isdigit() else None,
            "everyone_ok": form.get("everyone_ok") == "1", "test_phone": str(form.get("test_phone", "")).strip(),
            "at": str(form.get("at", "")).strip().replace("T", " "), "every": str(form.get("every", "")),
            "ask": str(form.get("ask", ""))}


def _expiry(values: dict) -> float | None:
    if not values["expires"]:
        return None
    try:
        return float(values["expires"])
    except ValueError:
        raise InvalidInput("expiry is not a number", "Thời hạn phải là một số giờ, ví dụ 24") from None


def _review(hub, kiosks: list[dict], values: dict) -> dict:
    """What the confirmation shows: per kiosk the group and its size, parts, total and cost, warnings."""
    if not values["group"]:
        raise InvalidInput("choose a group", "Hãy chọn nhóm nhận tin")
    notices.clean_group(values["group"])
    if not values["kiosk"]:
        raise InvalidInput("choose at least one kiosk", "Hãy chọn ít nhất một kiosk")
    text, parts = notices.check_text(values["text"], hub.settings, values["unaccented"])
    at, every = notices.check_schedule(values["at"], values["every"])
    notices.check_ask(values["ask"])
    expires = _expiry(values)
    if expires is not None and not 0 < expires <= notices.MAX_EXPIRY_HOURS:
        raise InvalidInput("bad expiry", f"Thời hạn phải từ 1 đến {notices.MAX_EXPIRY_HOURS} giờ")
    by_name = {k["name"]: k for k in kiosks}
    unknown = [name for name in values["kiosk"] if name not in by_name]
    if unknown:
        # Another ward's kiosk and a name that does not exist get the same answer: nothing leaks.
        raise InvalidInput("not one of this official's kiosks", "Anh/chị chỉ được gửi tới kiosk mình quản lý")
    rows, warnings, people = [], [], 0
    for name in values["kiosk"]:
        kiosk = by_name[name]
        count = view.group_count(kiosk, values["group"])
        status = view.kiosk_status(kiosk, hub.settings)
        rows.append({"name": name, "count": count, "status": status})
        people += count or 0
        if count == 0:
            warnings.append(f"Kiosk {name} không có ai trong nhóm {view.group_name(values['group'], kiosks)}.")
        if status["state"] == "offline":
            warnings.append(f"Kiosk {name} mất kết nối từ {status['seen']} ({status['ago']}). "
                            "Thông báo sẽ gửi khi kiosk có mạng lại.")
        elif status["state"] == "never":
            warnings.append(f"Kiosk {name} chưa kết nối lần nào: thông báo chỉ gửi khi kiosk được cài đặt xong.")
    if at:
        warnings.append(f"Thông báo sẽ gửi lúc {datetime.strptime(at, '%Y-%m-%d %H:%M'):%H:%M ngày %d/%m/%Y} "
                        "(giờ của kiosk)" + (f", lặp lại {view.EVERY_WORDS[every]}" if every else "") + ".")
    elif not values["urgent"] and times.in_quiet_hours(hub.settings.timezone, hub.settings.quiet_start,
                                                      hub.settings.quiet_end):
        warnings.append(f"Bây giờ là giờ nghỉ đêm: tin sẽ gửi lúc {times.spoken_hour(hub.settings.quiet_end)}. "
                        "Chọn Tin khẩn nếu cần gửi ngay.")
    segments = notices.preview(text, values["unaccented"])
    return {"text": text, "parts": parts, "people": people, "messages": people * parts,
            "cost": people * parts * hub.settings.price_per_part, "rows": rows, "warnings": warnings,
            "group_name": view.group_name(values["group"], kiosks), "everyone": values["group"] == EVERYONE_CODE,
            "preview": segments}


@page
async def compose_submit(request: Request, official: dict, form):
    """Compose's three steps in one form: review (the confirmation), edit (back), send."""
    hub = _hub(request)
    kiosks, ids = await run_in_threadpool(_scope, hub, official)
    values = _form_values(form)
    step = str(form.get("step", "review"))
    if step == "edit":
        return render(request, "compose.html", _compose_context(hub, official, kiosks, values))
    try:
        review = _review(hub, kiosks, values)
    except HubError as exc:
        return render(request, "compose.html", _compose_context(hub, official, kiosks, values, exc.vietnamese), 400)
    confirm = {**_compose_context(hub, official, kiosks, values), "review": review}
    if step == "review":
        return render(request, "compose_confirm.html", confirm)
    if step == "test":
        online = [name for name in values["kiosk"] if {k["name"]: k for k in kiosks}[name]["online"]]
        try:
            result = await run_in_threadpool(lambda: notices.send(
                hub.engine, hub.settings, review["text"], kiosks=(online or values["kiosk"])[:1], group=values["group"],
                urgent=True, unaccented=values["unaccented"], actor=official["login"], allowed_kiosk_ids=ids,
                test_phone=values["test_phone"]))
        except HubError as exc:
            return render(request, "compose_confirm.html", {**confirm, "test_error": exc.vietnamese}, 400)
        return render(request, "compose_confirm.html", {**confirm, "test_sent": result["id"],
                                                        "form_token": values["form_token"]})
    if review["everyone"] and not values["everyone_ok"]:
        return render(request, "compose_confirm.html",
                      {**confirm, "error": "Thông báo này gửi cho TẤT CẢ người đăng ký: hãy đánh dấu ô xác nhận bên dưới."},
                      400)
    try:
        result = await run_in_threadpool(
            lambda: notices.send(hub.engine, hub.settings, review["text"], kiosks=values["kiosk"], group=values["group"],
                                 urgent=values["urgent"], unaccented=values["unaccented"],
                                 expires_in_hours=_expiry(values), actor=official["login"], allowed_kiosk_ids=ids,
                                 at=values["at"], every=values["every"], ask=values["ask"],
                                 form_token=values["form_token"] or None, replaces=values["replaces"]))
    except HubError as exc:
        return render(request, "compose.html", _compose_context(hub, official, kiosks, values, exc.vietnamese), 400)
    return RedirectResponse(f"/notices/{result['id']}?sent=1", status_code=303)


@page
async def segments_api(request: Request, official: dict, form):
    """Live part count, the exact SMS text (preview), and the SMS relay command, as JSON."""
    hub = _hub(request)
    try:
        body = await read_json(request, hub.settings.max_body_bytes)
        text = notices.clean_text(str(body.get("text", "")))
        unaccented = bool(body.get("unaccented"))
        info = notices.parts_of(text, unaccented) if text else {"parts": 0, "encoding": "gsm7", "chars": 0}
        preview = notices.preview(text, unaccented) if text else []
        relay = notices.relay_command(text, str(body.get("group", "")) or EVERYONE_CODE, bool(body.get("urgent", True)),
                                      unaccented) if text else None
    except HubError as exc:
        return JSONResponse({"error": exc.vietnamese}, status_code=exc.status)
    return JSONResponse({**info, "max_parts": hub.settings.max_parts, "too_long": info["parts"] > hub.settings.max_parts,
                         "cost_per_recipient": info["parts"] * hub.settings.price_per_part,
                         "price_per_part": hub.settings.price_per_part, "currency": "VND",
                         "preview": preview, "relay": relay})


def _relay_for(hub, notice: dict, kiosks: list[dict]) -> list[dict]:
    """Offline target kiosks of a notice still waiting for them, each with the SMS relay command."""
    if notice["cancelled"] or notice["test"]:
        return []
    offline = {k["name"]: k for k in kiosks if not k["online"]}
    command = notices.relay_command(notice["text"], notice["group"], urgent=notice["urgent"],
                                    unaccented=notice["unaccented"])
    return [{"name": k["name"], "sim": offline[k["name"]]["sim_number"],
             "sim_spaced": view.phone_spaced(offline[k["name"]]["sim_number"]),
             "status": view.kiosk_status(offline[k["name"]], hub.settings), **command}
            for k in notice["kiosks"] if k["name"] in offline and k["state"] in ("pending", "fetched")]


@page
async def notices_page(request: Request, official: dict, form):
    hub = _hub(request)
    kiosks, ids = await run_in_threadpool(_scope, hub, official)
    every_kiosk = official["role"] == "ward" and not official["ward"]
    rows = await run_in_threadpool(lambda: notices.recent(hub.engine, kiosk_ids=None if every_kiosk else ids))
    return render(request, "notices.html", {"official": official, "notices": rows, "kiosks": kiosks})


async def _notice_context(request: Request, official: dict):
    hub = _hub(request)
    kiosks, ids = await run_in_threadpool(_scope, hub, official)
    notice = await run_in_threadpool(notices.show, hub.engine, request.path_params["notice_id"], kiosk_ids=ids)
    names = await run_in_threadpool(admin.official_names, hub.engine)
    by_name = {k["name"]: k for k in kiosks}
    for delivery in notice["kiosks"]:
        delivery["word"] = view.delivery_word(delivery, notice, by_name.get(delivery["name"]), hub.settings)
    return {"official": official, "notice": notice, "kiosks": kiosks, "relay": _relay_for(hub, notice, kiosks),
            "group_name": view.group_name(notice["group"], kiosks), "totals": view.totals(notice),
            "author": names.get(notice["created_by"], notice["created_by"])}


@page
async def notice_page(request: Request, official: dict, form):
    try:
        context = await _notice_context(request, official)
    except HubError:
        return await error_page(request, 404)
    return render(request, "notice.html", {**context, "just_sent": request.query_params.get("sent") == "1"})


@page
async def notice_counts(request: Request, official: dict, form):
    """The notice's counts table alone: the page swaps it in place (no reload, selections survive)."""
    try:
        context = await _notice_context(request, official)
    except HubError:
        return await error_page(request, 404)
    return render(request, "_counts.html", {**context, "n": context["notice"]})


@page
async def notice_cancel_form(request: Request, official: dict, form):
    try:
        context = await _notice_context(request, official)
    except HubError:
        return await error_page(request, 404)
    return render(request, "cancel.html", context)


@page
async def notice_cancel(request: Request, official: dict, form):
    hub = _hub(request)
    kiosks, ids = await run_in_threadpool(_scope, hub, official)
    notice_id = request.path_params["notice_id"]
    try:
        await run_in_threadpool(lambda: notices.cancel(hub.engine, notice_id, actor=official["login"], kiosk_ids=ids))
    except HubError as exc:
        return render(request, "error.html", {"official": official, "status": exc.status,
                                              "message": exc.vietnamese}, exc.status)
    return RedirectResponse(f"/notices/{notice_id}", status_code=303)


PERIODS = {"7": ("7 ngày", 7), "30": ("30 ngày", 30), "month": ("Tháng này", None), "last": ("Tháng trước", None)}


def _report_data(request: Request, official: dict) -> dict:
    hub = _hub(request)
    choice = request.query_params.get("days", "30")
    today = times.today(hub.settings.timezone)
    if choice == "month":
        start, end = today.replace(day=1), today
    elif choice == "last":
        end = today.replace(day=1) - timedelta(days=1)
        start = end.replace(day=1)
    else:
        try:
            days = min(366, max(1, int(choice)))
        except ValueError:
            days, choice = 30, "30"
        start, end = report.period(days, today)
    kiosks = admin.visible_kiosks(hub.engine, hub.settings, official)
    data = report.build(hub.engine, hub.settings, [k["name"] for k in kiosks], start, end)
    zone = times.zone(hub.settings.timezone)
    since = datetime.combine(start, datetime.min.time(), zone).timestamp()
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).timestamp()
    data["notices"] = notices.count_between(hub.engine, admin.visible_kiosk_ids(hub.engine, official), since, until)
    data["sms_parts"] = sum(k["sms_parts"] for k in data["kiosks"])
    data["sms_cost"] = data["sms_parts"] * hub.settings.price_per_part
    data["days"], data["periods"] = choice, PERIODS
    return data


@page
async def report_page(request: Request, official: dict, form):
    data = await run_in_threadpool(_report_data, request, official)
    return render(request, "report.html", {"official": official, "report": data})


@page
async def report_xlsx(request: Request, official: dict, form):
    data = await run_in_threadpool(_report_data, request, official)
    body = await run_in_threadpool(report.xlsx, data)
    await _audit(request, official["login"], "console.report_download", {"from": data["from"], "to": data["to"]},
                 official)
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="bao-cao-{data["from"]}-{data["to"]}.xlsx"',
                             "Cache-Control": "no-store"})


@page
async def audit_page(request: Request, official: dict, form):
    hub = _hub(request)
    machines = request.query_params.get("kiosk") == "1"
    # The ward's rows only (admin.audit_log scopes them); officials' actions, or on their own tab the kiosks'.
    rows = await run_in_threadpool(lambda: admin.audit_log(hub.engine, official=official, limit=1000))
    names = await run_in_threadpool(admin.official_names, hub.engine)
    entries = []
    for row in rows:
        sentence = view.audit_sentence(row, names)
        if sentence["person"] == machines:
            continue
        entries.append({**sentence, "at": row["at"]})
    return render(request, "audit.html", {"official": official, "rows": entries[:200], "machines": machines})


routes = [
    Route("/", home),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/kiosks", kiosks_page, methods=["GET"]),
    Route("/compose", compose_page, methods=["GET"]),
    Route("/compose", compose_submit, methods=["POST"]),
    Route("/console/api/segments", segments_api, methods=["POST"]),
    Route("/notices", notices_page, methods=["GET"]),
    Route("/notices/{notice_id:id}", notice_page, methods=["GET"]),
    Route("/notices/{notice_id:id}/counts", notice_counts, methods=["GET"]),
    Route("/notices/{notice_id:id}/cancel", notice_cancel_form, methods=["GET"]),
    Route("/notices/{notice_id:id}/cancel", notice_cancel, methods=["POST"]),
    Route("/report", report_page, methods=["GET"]),
    Route("/report.xlsx", report_xlsx, methods=["GET"]),
    Route("/audit", audit_page, methods=["GET"]),
    Mount("/static", BoundedStaticFiles(directory=str(HERE / "static")), name="static"),
]
