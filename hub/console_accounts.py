"""The console's Accounts page, for hub-wide officials only: add, disable, enable, unlock, reset the
password of, and log out an official; the same operations as `tdp hub official …`, each audited."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from . import admin
from .console import _hub, page, render
from .errors import HubError

ACTIONS = {"disable": admin.disable_official, "enable": admin.enable_official, "unlock": admin.unlock_official,
           "logout": admin.logout_official}



def _forbidden(request: Request, official: dict):
    return render(request, "error.html", {"official": official, "status": 403,
                                          "message": "Chỉ quản trị viên của toàn hệ thống được quản lý tài khoản"}, 403)


async def _show(request: Request, official: dict, *, error: str | None = None, done: str | None = None,
                status: int = 200, form: dict | None = None):
    hub = _hub(request)
    rows = await run_in_threadpool(admin.list_officials, hub.engine)
    kiosks = await run_in_threadpool(admin.list_kiosks, hub.engine, hub.settings)
    return render(request, "officials.html", {"official": official, "rows": rows, "kiosk_names": [k["name"] for k in kiosks],
                                              "error": error, "done": done, "form": form or {}}, status)


@page
async def officials_page(request: Request, official: dict, form):
    if not admin.is_hub_admin(official):
        return _forbidden(request, official)
    return await _show(request, official, done=request.query_params.get("done"))


@page
async def official_action(request: Request, official: dict, form):
    if not admin.is_hub_admin(official):
        return _forbidden(request, official)
    hub, action, login = _hub(request), request.path_params["action"], str(form.get("login", ""))
    try:
        if action == "reset-password":
            await run_in_threadpool(lambda: admin.reset_password(hub.engine, login, str(form.get("password", "")),
                                                                 actor=official["login"]))
        elif action == "add":
            await run_in_threadpool(lambda: admin.add_official(
                hub.engine, login, str(form.get("name", "")), str(form.get("role", "")), str(form.get("password", "")),
                kiosk=str(form.get("kiosk", "")) or None, ward=str(form.get("ward", "")), actor=official["login"]))
        elif action in ACTIONS:
            await run_in_threadpool(lambda: ACTIONS[action](hub.engine, login, actor=official["login"]))
        else:
            return render(request, "error.html", {"official": official, "status": 404, "message": "Không tìm thấy trang"},
                          404)
    except HubError as exc:
        values = {key: str(form.get(key, "")) for key in ("login", "name", "role", "kiosk", "ward")}
        return await _show(request, official, error=exc.vietnamese, status=exc.status, form=values)
    return RedirectResponse(f"/officials?done={action}", status_code=303)


routes = [
    Route("/officials", officials_page, methods=["GET"]),
    Route("/officials/{action:str}", official_action, methods=["POST"]),
]
