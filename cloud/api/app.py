"""The FastAPI application: routers, error mapping, CORS and the dashboard's files."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from cloud.api.routes import analytics, chain, compare, galleries, occupancy, site_map, sites
from cloud.api.settings import ApiSettings
from cloud.api.sites import SiteCatalog
from cloud.storage.db import session_factory

log = logging.getLogger(__name__)

DASHBOARD_DIR = Path(__file__).resolve().parent / "dashboard"


def plotly_js() -> Path:
    """plotly.js as shipped inside the `plotly` wheel: the dashboard needs no CDN."""
    import plotly

    path = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise RuntimeError(f"plotly.min.js not found at {path}; reinstall the 'plotly' package")
    return path


def create_app(engine: Engine, settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    app = FastAPI(
        title="Mallflow API",
        version="1",
        summary="Footfall, visitors, occupancy, dwell, heatmaps and camera health per mall site.",
        description=(
            "Every analytics endpoint takes the site's id and a time range (`start`, `end`: ISO 8601; "
            "without an offset they are the site's local time) with a `bucket` of minute, hour or day. "
            "Send an API key in `X-API-Key`: read keys for every GET, admin keys for changes."
        ),
    )
    app.state.settings = settings
    app.state.sessions = session_factory(engine)
    app.state.catalog = SiteCatalog(app.state.sessions, settings.site_cache_s)
    for router in (
        sites.router,
        chain.router,
        analytics.router,
        site_map.router,
        compare.router,
        occupancy.router,
        galleries.router,
    ):
        app.include_router(router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["X-API-Key", "Content-Type"],
        )

    @app.exception_handler(ValueError)
    async def bad_value(_: Request, exc: ValueError) -> JSONResponse:
        # The analytics validate their inputs eagerly: what they reject is the caller's to fix.
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(OperationalError)
    async def database_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", exc.__class__.__name__)
        return JSONResponse({"detail": "the database is unavailable; retry shortly"}, status_code=503)

    @app.exception_handler(SQLAlchemyError)
    async def database_error(_: Request, exc: SQLAlchemyError) -> JSONResponse:
        log.exception("database error", exc_info=exc)
        return JSONResponse({"detail": "the database could not answer this query"}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}" for err in exc.errors()
        ]
        return JSONResponse({"detail": "; ".join(problems), "errors": jsonable_encoder(exc.errors())}, status_code=422)

    js = plotly_js()
    app.mount("/static", StaticFiles(directory=DASHBOARD_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(DASHBOARD_DIR / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_bundle() -> FileResponse:
        return FileResponse(js, media_type="text/javascript")

    return app
