"""What every request passes before a handler sees it: a body limit (413), NUL refused (400),
console forms only as urlencoded text, bounded ids in routes, and the checks of parsed JSON.

Handlers can then assume bodies fit in memory and text fits in the database, so bad input gets
a 4xx answer and never a 500 (which would also drop the kiosk's keep-alive connection).
"""
from __future__ import annotations

import re

from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.staticfiles import StaticFiles

from .errors import InvalidInput

MAX_DEPTH = 16           # nesting of arrays/objects in a request body
MAX_ID = 2 ** 63 - 1     # largest id a route accepts (BIGINT on PostgreSQL, INTEGER on SQLite)
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class IdConvertor(Convertor):
    """`{name:id}` in a route: a database id of at most 18 digits (below 2**63); anything else is no
    route (404), never an overflow deep in the database driver."""

    regex = "[1-9][0-9]{0,17}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())


def check_text(value: str, where: str = "text") -> str:
    """`value` unless it holds NUL or a lone surrogate (which no database stores): InvalidInput."""
    if _BAD_TEXT.search(value):
        raise InvalidInput(f"{where} contains a NUL character or a lone UTF-16 surrogate",
                           "Dữ liệu có ký tự không hợp lệ (NUL hoặc mã UTF-16 lẻ)")
    return value


def check_tree(data, depth: int = MAX_DEPTH) -> None:
    """Walk parsed JSON without recursion: InvalidInput over MAX_DEPTH levels, on bad text
    (check_text) in any key or string, or on an integer outside ±2**63."""
    stack = [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            if level > depth:
                raise InvalidInput(f"JSON nested deeper than {depth} levels")
            if isinstance(item, dict):
                for key, value in item.items():
                    check_text(key, "a JSON key")
                    stack.append((value, level + 1))
            else:
                stack.extend((value, level + 1) for value in item)
        elif isinstance(item, str):
            check_text(item, "a JSON string")
        elif isinstance(item, int) and not isinstance(item, bool) and not -MAX_ID - 1 <= item <= MAX_ID:
            raise InvalidInput("a JSON number is out of range")


FORM_TYPE = "application/x-www-form-urlencoded"
# A Host header Starlette can turn into a URL: a name or an IPv4 address, or [IPv6], and a port.
HOST_RE = re.compile(r"([A-Za-z0-9._-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(:[0-9]{1,5})?")


def _is_api(path: str) -> bool:
    return path.startswith("/api/") or path.startswith("/console/api/")


def _refusal(path: str, status: int, english: str, vietnamese: str):
    if _is_api(path):
        return JSONResponse({"error": english if path.startswith("/api/") else vietnamese}, status_code=status)
    return PlainTextResponse(vietnamese, status_code=status, headers={"X-Content-Type-Options": "nosniff"})


class RequestGuard:
    """ASGI middleware: reads at most `limit` bytes of body (413 beyond, by Content-Length or as it
    streams), refuses a malformed Host and NUL in the path, query or a form (400), and non-form
    bodies posted to console pages (415). The body it read is handed on to the app unchanged."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        refuse = None
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        declared = headers.get(b"content-length", b"").strip()
        host = headers.get(b"host", b"").decode("latin-1")
        if host and not HOST_RE.fullmatch(host):
            refuse = (400, "malformed Host header", "Yêu cầu không hợp lệ (Host)")
        elif "\x00" in path or b"%00" in scope.get("query_string", b"").lower():
            refuse = (400, "NUL in the address", "Địa chỉ có ký tự không hợp lệ")
        elif declared and (not declared.isdigit() or int(declared) > self.limit):
            refuse = (413, f"request body too large: at most {self.limit} bytes", f"Dữ liệu gửi lên quá lớn (tối đa {self.limit} byte)")
        body = bytearray()
        while refuse is None:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > self.limit:
                refuse = (413, f"request body too large: at most {self.limit} bytes", f"Dữ liệu gửi lên quá lớn (tối đa {self.limit} byte)")
            if not message.get("more_body", False):
                break
        if refuse is None and scope.get("method") == "POST" and not _is_api(path) and body:
            kind = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1").lower()
            if kind != FORM_TYPE:
                refuse = (415, "console forms are sent as " + FORM_TYPE, "Biểu mẫu gửi sai định dạng")
            elif b"\x00" in body or b"%00" in body.lower():
                refuse = (400, "NUL in a form field", "Biểu mẫu có ký tự không hợp lệ")
        if refuse is not None:
            status, english, vietnamese = refuse
            return await _refusal(path, status, english, vietnamese)(scope, receive, send)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()
        await self.app(scope, replay, send)


class BoundedStaticFiles(StaticFiles):
    """StaticFiles whose odd paths (too long for the file system, bad bytes) are 404, not 500."""

    def lookup_path(self, path: str):
        if len(path) > 200:
            return "", None
        try:
            return super().lookup_path(path)
        except (OSError, ValueError):
            return "", None
