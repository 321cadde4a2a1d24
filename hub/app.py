"""The hub's ASGI app (Starlette): the kiosk API under /api/v1 and the officials' web console."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse

from . import api, console, console_accounts, db, feed
from .guard import RequestGuard
from .settings import HubSettings


@dataclass
class Hub:
    """What every request handler reaches through `request.app.state.hub`."""
    settings: HubSettings
    engine: Engine
    poll_cache: feed.PollCache


def create_app(settings: HubSettings, engine: Engine | None = None) -> Starlette:
    """The app; opens (and migrates) the database unless an engine is given."""
    engine = engine or db.open_hub(settings.database)

    async def not_found(request: Request, exc):
        path = request.scope.get("path", "")
        if path.startswith("/api/"):
            return JSONResponse({"error": f"no such API endpoint: {request.method} {path[:200]}"},
                                status_code=getattr(exc, "status_code", 404))
        return await console.error_page(request, getattr(exc, "status_code", 404))

    poll_cache = feed.PollCache(engine, settings.change_check_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            poll_cache.stop_watching()

    app = Starlette(routes=api.routes + console_accounts.routes + console.routes, lifespan=lifespan,
                    middleware=[Middleware(RequestGuard, limit=settings.max_body_bytes)],
                    exception_handlers={404: not_found, 405: not_found})
    app.state.hub = Hub(settings, engine, poll_cache)
    return app


def serve(settings: HubSettings, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run the hub with uvicorn until interrupted (proxy headers trusted from localhost only)."""
    import uvicorn
    app = create_app(settings)
    # Kiosks poll every few seconds: keep their connections open between polls (uvicorn's 5 s
    # default would close most of them just before the next poll).
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True, http="auto",
                forwarded_allow_ips="127.0.0.1", access_log=False, timeout_keep_alive=65, backlog=4096,
                timeout_graceful_shutdown=3)
