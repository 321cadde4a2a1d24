"""The officials' web console (Vietnamese, usable on a phone): login, Kiosks, Compose, Notices, Report, Audit.

Sessions are random tokens in an HttpOnly, SameSite=Strict cookie (Secure when the request came
over HTTPS, e.g. through the TLS proxy); every form carries the session's CSRF token and every
POST checks it. A ward official acts on the kiosks of their ward (all kiosks if their ward is
empty); a group leader only on their own kiosk. Every action is written to the audit log.
"""
from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.templating import Jinja2Templates

from . import admin, auth, db, notices, releases, report
from .api import read_json
from .guard import BoundedStaticFiles
from .errors import HubError

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
SESSION_COOKIE = "tdp_session"
LOGIN_CSRF_COOKIE = "tdp_login_csrf"
DEVICE_COOKIE = "tdp_device"
SECURITY_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"}
GROUPS = [("TATCA", "Tất cả"), ("HPN", "Hội phụ nữ"), ("CB", "Chi bộ"), ("TV", "Tự vệ"),
          ("DTN", "Đoàn thanh niên"), ("CCB", "Hội cựu chiến binh"), ("NCT", "Hội người cao tuổi")]


def _hub(request: Request):
    return request.app.state.hub


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def groups_of(kiosks: list[dict]) -> list[tuple[str, str]]:
    """Group choices for Compose: everyone, then the groups the kiosks reported (else the usual ones)."""
    reported: dict[str, str] = {}
    for kiosk in kiosks:
        for group in kiosk["heartbeat"].get("groups", []):
            reported.setdefault(group["code"], group["name"])
    if not reported:
        return GROUPS
    return [GROUPS[0]] + sorted(reported.items())


def render(request: Request, name: str, context: dict, status: int = 200) -> Response:
    context = {**context, "groups": groups_of(context["kiosks"]) if "kiosks" in context else GROUPS}
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


async def error_page(request: Request, status: int):
    return render(request, "error.html", {"official": None, "status": status,
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
                return JSONResponse({"error": "chưa đăng nhập"}, status_code=401)
            return RedirectResponse("/login", status_code=303)
        form = None
        if request.url.path.startswith("/console/api/"):
            if not auth.csrf_ok(official["csrf"], request.headers.get("x-csrf-token")):
                return JSONResponse({"error": "thiếu mã CSRF"}, status_code=403)
        elif request.method == "POST":
            form = await request.form()
            if not auth.csrf_ok(official["csrf"], form.get("csrf")):
                return render(request, "error.html", {"official": official, "status": 403,
                                                      "message": "Phiên làm việc không hợp lệ (CSRF). Tải lại trang."},
                              403)
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
async def login_form(request: Request):
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or auth.new_token()
    response = render(request, "login.html", {"official": None, "csrf": token, "error": None})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                        max_age=3600)
    return response


async def login_submit(request: Request):
    hub = _hub(request)
    form = await request.form()
    login_name = str(form.get("login", "")).strip()
    if not auth.csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form.get("csrf")):
        return render(request, "login.html", {"official": None, "csrf": request.cookies.get(LOGIN_CSRF_COOKIE, ""),
                                              "error": "Phiên đăng nhập hết hạn, vui lòng thử lại."}, 403)
    try:
        official = await run_in_threadpool(auth.login, hub.engine, hub.settings, login_name,
                                           str(form.get("password", "")), request.client.host if request.client else "",
                                           request.cookies.get(DEVICE_COOKIE))
    except auth.LoginRefused as exc:
        await _audit(request, f"login:{login_name[:60]}", "console.login_failed", {"reason": exc.reason}, exc.official)
        return render(request, "login.html", {"official": None, "csrf": request.cookies.get(LOGIN_CSRF_COOKIE),
                                              "error": str(exc).capitalize()}, 401)
    token, _ = await run_in_threadpool(auth.open_session, hub.engine, hub.settings, official["id"])
    device = await run_in_threadpool(auth.remember_device, hub.engine, official["id"], request.cookies.get(DEVICE_COOKIE))
    await _audit(request, official["login"], "console.login", {}, official)
    response = RedirectResponse("/kiosks", status_code=303)
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
    return RedirectResponse("/kiosks", status_code=303)


# --- pages -------------------------------------------------------------------------------------
@page
async def kiosks_page(request: Request, official: dict, form):
    hub = _hub(request)
    kiosks = await run_in_threadpool(admin.visible_kiosks, hub.engine, hub.settings, official)
    offered = await run_in_threadpool(releases.offered, hub.engine)
    return render(request, "kiosks.html", {"official": official, "kiosks": kiosks, "settings": hub.settings,
                                           "versions": releases.versions_in_use(kiosks), "offered": offered})


@page
async def compose_page(request: Request, official: dict, form):
    hub = _hub(request)
    kiosks = await run_in_threadpool(admin.visible_kiosks, hub.engine, hub.settings, official)
    return render(request, "compose.html", {"official": official, "kiosks": kiosks, "error": None, "form": {},
                                            "settings": hub.settings})


@page
async def compose_submit(request: Request, official: dict, form):
    hub = _hub(request)
    kiosks, ids = await run_in_threadpool(_scope, hub, official)
    chosen = [str(k) for k in form.getlist("kiosk")]
    values = {"text": str(form.get("text", "")), "group": str(form.get("group", "TATCA")),
              "urgent": form.get("urgent") == "1", "unaccented": form.get("unaccented") == "1",
              "expires": str(form.get("expires", "")).strip(), "kiosk": chosen,
              "at": str(form.get("at", "")).strip().replace("T", " "), "every": str(form.get("every", "")),
              "ask": str(form.get("ask", ""))}
    try:
        expires = float(values["expires"]) if values["expires"] else None
    except ValueError:
        expires = -1.0
    try:
        result = await run_in_threadpool(
            lambda: notices.send(hub.engine, hub.settings, values["text"], kiosks=chosen, group=values["group"],
                                 urgent=values["urgent"], unaccented=values["unaccented"], expires_in_hours=expires,
                                 actor=official["login"], allowed_kiosk_ids=ids, at=values["at"],
                                 every=values["every"], ask=values["ask"]))
    except HubError as exc:
        message = exc.vietnamese if expires != -1.0 else "Thời hạn phải là số giờ"
        return render(request, "compose.html", {"official": official, "kiosks": kiosks, "error": message,
                                                "form": values, "settings": hub.settings}, 400)
    return RedirectResponse(f"/notices/{result['id']}?sent=1", status_code=303)


@page
async def segments_api(request: Request, official: dict, form):
    """Live part count, cost per recipient and (for offline kiosks) the SMS relay command, as JSON."""
    hub = _hub(request)
    try:
        body = await read_json(request, hub.settings.max_body_bytes)
        text = notices.clean_text(str(body.get("text", "")))
        unaccented = bool(body.get("unaccented"))
        info = notices.parts_of(text, unaccented) if text else {"parts": 0, "encoding": "gsm7", "chars": 0}
        relay = notices.relay_command(text, str(body.get("group", "")), bool(body.get("urgent", True)),
                                      unaccented) if text else None
    except HubError as exc:
        return JSONResponse({"error": exc.vietnamese}, status_code=exc.status)
    return JSONResponse({**info, "max_parts": hub.settings.max_parts, "too_long": info["parts"] > hub.settings.max_parts,
                         "cost_per_recipient": info["parts"] * hub.settings.price_per_part, "currency": "VND",
                         "relay": relay})


def _relay_for(hub, notice: dict, kiosks: list[dict]) -> list[dict]:
    """Offline target kiosks of an urgent notice, each with the SMS relay command to text its SIM."""
    if not notice["urgent"] or notice["cancelled"]:
        return []
    offline = {k["name"]: k for k in kiosks if not k["online"]}
    command = notices.relay_command(notice["text"], notice["group"], urgent=True)
    return [{"name": k["name"], "sim": offline[k["name"]]["sim_number"], **command}
            for k in notice["kiosks"] if k["name"] in offline and k["state"] in ("pending", "fetched")]


@page
async def notices_page(request: Request, official: dict, form):
    hub = _hub(request)
    kiosks, ids = await run_in_threadpool(_scope, hub, official)
    every_kiosk = official["role"] == "ward" and not official["ward"]
    rows = await run_in_threadpool(lambda: notices.recent(hub.engine, kiosk_ids=None if every_kiosk else ids))
    return render(request, "notices.html", {"official": official, "notices": rows})


@page
async def notice_page(request: Request, official: dict, form):
    hub = _hub(request)
    kiosks, ids = await run_in_threadpool(_scope, hub, official)
    try:
        notice = await run_in_threadpool(notices.show, hub.engine, request.path_params["notice_id"], kiosk_ids=ids)
    except HubError:
        return await error_page(request, 404)
    return render(request, "notice.html", {"official": official, "notice": notice,
                                           "relay": _relay_for(hub, notice, kiosks),
                                           "just_sent": request.query_params.get("sent") == "1"})


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


def _report_data(request: Request, official: dict) -> dict:
    hub = _hub(request)
    try:
        days = min(366, max(1, int(request.query_params.get("days", "30"))))
    except ValueError:
        days = 30
    kiosks = admin.visible_kiosks(hub.engine, hub.settings, official)
    start, end = report.period(days)
    data = report.build(hub.engine, hub.settings, [k["name"] for k in kiosks], start, end)
    data["days"] = days
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
                    headers={"Content-Disposition": f'attachment; filename="bao-cao-{data["from"]}-{data["to"]}.xlsx"'})


@page
async def audit_page(request: Request, official: dict, form):
    hub = _hub(request)
    rows = await run_in_threadpool(lambda: admin.audit_log(hub.engine, official=official))
    return render(request, "audit.html", {"official": official, "rows": rows})


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
    Route("/notices/{notice_id:id}/cancel", notice_cancel, methods=["POST"]),
    Route("/report", report_page, methods=["GET"]),
    Route("/report.xlsx", report_xlsx, methods=["GET"]),
    Route("/audit", audit_page, methods=["GET"]),
    Mount("/static", BoundedStaticFiles(directory=str(HERE / "static")), name="static"),
]
