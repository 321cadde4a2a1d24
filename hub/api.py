"""The kiosk API, version 1 (/api/v1/…), documented in docs/hub-api.md.

Kiosks authenticate with `Authorization: Bearer <token>`. Every error is JSON
`{"error": "one line"}` with a 4xx status; bodies are JSON objects of at most 64 KB.
"""
from __future__ import annotations

import json
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import feed, releases
from .guard import MAX_DEPTH, check_tree
from .errors import HubError, InvalidInput, TooLarge
from .contract import API_VERSION, RELEASE_KEY, RELEASE_PATH

MAX_WAIT = 25.0   # seconds a long poll may be held


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def read_json(request: Request, limit: int) -> dict:
    """The request body as a JSON object; TooLarge over `limit` bytes, InvalidInput if not an object,
    nested too deep, or carrying NUL or lone surrogates (see check_tree)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request body is {declared} bytes; at most {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"request body over {limit} bytes")
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise InvalidInput(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"body is not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object")
    check_tree(data)
    return data


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def error_response(exc: HubError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


def _endpoint(handler):
    async def endpoint(request: Request):
        try:
            return await handler(request, request.app.state.hub)
        except HubError as exc:
            return error_response(exc)
    return endpoint


async def _authenticated(request: Request, hub):
    return await run_in_threadpool(feed.authenticate, hub.engine, _token(request))


async def health(request: Request, hub):
    return JSONResponse({"ok": True, "api": API_VERSION})


async def heartbeat(request: Request, hub):
    kiosk = await _authenticated(request, hub)      # who first: strangers learn nothing about bodies
    body = await read_json(request, hub.settings.max_body_bytes)
    answer = await run_in_threadpool(feed.heartbeat, hub.engine, hub.settings, kiosk, body)
    return JSONResponse({**answer, RELEASE_KEY: await run_in_threadpool(releases.offered, hub.engine)})


async def release_file(request: Request, hub):
    """The bytes of one release, for kiosks only (the package is the ward's software, not public)."""
    await _authenticated(request, hub)
    filename, content = await run_in_threadpool(releases.content, hub.engine, request.path_params["version"])
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def notices(request: Request, hub):
    """New notices for this kiosk; 304 when its feed has not changed since the ETag it sent.

    `?wait=SECONDS` (at most 25) makes it a long poll: an unchanged feed is held until it changes
    or the time is up, so a waiting kiosk hears of a notice within about half a second. The
    unchanged case is the hot path: it is answered from the process's PollCache on the event loop.
    """
    token = _token(request)
    try:
        wait = min(MAX_WAIT, max(0.0, float(request.query_params.get("wait", 0))))
    except ValueError:
        raise InvalidInput("wait must be a number of seconds") from None
    cache = hub.poll_cache
    tag = feed.etag(cache.kiosk(token))
    deadline = time.monotonic() + wait
    while request.headers.get("if-none-match") == tag:
        left = deadline - time.monotonic()
        if left <= 0 or not await cache.wait_for_change(left):
            return Response(status_code=304, headers={"ETag": tag})
        tag = feed.etag(cache.kiosk(token))
    kiosk = await run_in_threadpool(feed.authenticate, hub.engine, token)   # fresh: handing out needs it
    body = await run_in_threadpool(feed.fetch, hub.engine, hub.settings, kiosk)
    return JSONResponse(body, headers={"ETag": feed.etag(kiosk), "Cache-Control": "no-store"})


async def report(request: Request, hub):
    kiosk = await _authenticated(request, hub)      # who first: strangers learn nothing about bodies
    body = await read_json(request, hub.settings.max_body_bytes)
    notice_id = request.path_params["notice_id"]
    return JSONResponse(await run_in_threadpool(feed.report, hub.engine, kiosk, notice_id, body))


async def daily(request: Request, hub):
    kiosk = await _authenticated(request, hub)      # who first: strangers learn nothing about bodies
    body = await read_json(request, hub.settings.max_body_bytes)
    return JSONResponse(await run_in_threadpool(feed.daily, hub.engine, kiosk, body))


routes = [
    Route("/api/v1/health", _endpoint(health), methods=["GET"]),
    Route("/api/v1/heartbeat", _endpoint(heartbeat), methods=["POST"]),
    Route("/api/v1/notices", _endpoint(notices), methods=["GET"]),
    Route("/api/v1/notices/{notice_id:id}/report", _endpoint(report), methods=["POST"]),
    Route("/api/v1/daily", _endpoint(daily), methods=["POST"]),
    Route(f"/api/v1{RELEASE_PATH}/{{version}}", _endpoint(release_file), methods=["GET"]),
]
