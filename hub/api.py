"""The kiosk API, version 1 (/api/v1/…), documented in docs/hub-api.md.

Kiosks authenticate with `Authorization: Bearer <token>`. Every error is JSON
`{"error": "one line"}` with a 4xx status; bodies are JSON objects of at most 64 KB.
"""
from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import feed
from .errors import HubError, InvalidInput, TooLarge

API_VERSION = 1


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def read_json(request: Request, limit: int) -> dict:
    """The request body as a JSON object; TooLarge over `limit` bytes, InvalidInput if not an object."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"request body is {declared} bytes; at most {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"request body over {limit} bytes")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object")
    return data


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
    body = await read_json(request, hub.settings.max_body_bytes)
    kiosk = await _authenticated(request, hub)
    return JSONResponse(await run_in_threadpool(feed.heartbeat, hub.engine, hub.settings, kiosk, body))


async def notices(request: Request, hub):
    """New notices for this kiosk; 304 when its feed has not changed since the ETag it sent.

    The unchanged case is the hot path (every idle kiosk, every few seconds): it is answered from
    the process's PollCache, checked on the event loop (at most one tiny query per half second).
    """
    token = _token(request)
    tag = feed.etag(hub.poll_cache.kiosk(token))
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    kiosk = await run_in_threadpool(feed.authenticate, hub.engine, token)   # fresh: handing out needs it
    body = await run_in_threadpool(feed.fetch, hub.engine, hub.settings, kiosk)
    return JSONResponse(body, headers={"ETag": feed.etag(kiosk), "Cache-Control": "no-store"})


async def report(request: Request, hub):
    body = await read_json(request, hub.settings.max_body_bytes)
    kiosk = await _authenticated(request, hub)
    notice_id = request.path_params["notice_id"]
    return JSONResponse(await run_in_threadpool(feed.report, hub.engine, kiosk, notice_id, body))


async def daily(request: Request, hub):
    body = await read_json(request, hub.settings.max_body_bytes)
    kiosk = await _authenticated(request, hub)
    return JSONResponse(await run_in_threadpool(feed.daily, hub.engine, kiosk, body))


routes = [
    Route("/api/v1/health", _endpoint(health), methods=["GET"]),
    Route("/api/v1/heartbeat", _endpoint(heartbeat), methods=["POST"]),
    Route("/api/v1/notices", _endpoint(notices), methods=["GET"]),
    Route("/api/v1/notices/{notice_id:int}/report", _endpoint(report), methods=["POST"]),
    Route("/api/v1/daily", _endpoint(daily), methods=["POST"]),
]
