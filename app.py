"""btcfolio entry point: build the Dash app on a seeded store and serve it on 127.0.0.1:8000.

    python app.py [--host 127.0.0.1] [--port 8000] [--config PATH] [--demo]

``app:server`` is the WSGI object for gunicorn (created lazily on first access, so importing
this module starts nothing).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from flask import redirect, request

import security
import services
from data import clock
from data.scheduling.runner import should_start_embedded, start_embedded
from data.store.repository import Repository
from data.store.seed import open_store
from data.view_state import ViewStates
from errors import AppError, report_startup_error
from serving import install_compression, install_not_found_status, port_in_use_message
from settings import Settings, load_settings
from webapi import register_api

logger = logging.getLogger("btcfolio")
ROOT = Path(__file__).resolve().parent
DASHBOARD_PATH = "/portfolio/dashboard"


def create_app(settings: Settings, repo: Repository | None = None, *,
               environ: Mapping[str, str] | None = None,
               clock: Callable[[], datetime] = clock.utcnow) -> dash.Dash:
    """Build the Dash app (pages, JSON API, redirect, basic auth if configured) on a store.

    ``clock``: the time every page and route reads at (tests and benchmarks pass their own).
    """
    repo = repo or open_store(settings)
    services.init(settings, repo, clock=clock)
    services.set_view_states(ViewStates.from_settings(settings.cache))
    app = dash.Dash(
        __name__, use_pages=True, pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "assets"), title="btcfolio",
        # Bootstrap (Flatly) and icons are vendored in assets/: the app must work offline.
        suppress_callback_exceptions=True,
    )
    app.layout = dbc.Container([dash.page_container], fluid=True, className="px-0")
    server = app.server
    # Host/origin checks, the bind guard, basic auth and body limits run before anything else.
    security.install(app, settings, os.environ if environ is None else environ)
    register_api(server)
    install_not_found_status(app)
    install_compression(server)

    @server.before_request
    def _root_redirect():
        if request.path == "/":
            return redirect(DASHBOARD_PATH, code=302)
        return None

    return app


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="btcfolio: a portfolio dashboard in BTC terms")
    parser.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8000)")
    parser.add_argument("--config", default=None, help="config file (default config.yaml)")
    parser.add_argument("--demo", action="store_true", help="simulated live feed (no network)")
    parser.add_argument("--check", action="store_true",
                        help="check the bind and open (migrate, seed) the store, then exit "
                             "(gunicorn.conf.py runs it before starting workers)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: exit 2 with one line on a configuration error."""
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        clock.start_from_env(os.environ)
        settings = load_settings(args.config, os.environ)
        overrides = {"demo": args.demo or settings.demo}
        if args.host or args.port:
            overrides["server"] = settings.server.model_copy(update={
                k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None})
        settings = settings.model_copy(update=overrides)
        security.check_bind(settings.server.host, os.environ)
        if args.check:
            open_store(settings).engine.dispose()
            return 0
        busy = port_in_use_message(settings.server.host, settings.server.port)
        if busy:
            print(f"cannot start: {busy}", file=sys.stderr)  # noqa: T201 - the one CLI line
            return 1
        app = setup_before_serving(create_app(settings))
    except AppError as exc:
        return report_startup_error(exc)
    debug = False
    runner = None
    if should_start_embedded(settings, os.environ, debug=debug):
        try:
            runner = start_embedded(settings, services.repository(), os.environ)
        except AppError as exc:
            # The dashboard still serves stored data; /api/health shows "not running".
            logger.error("background scheduler not started: %s", exc)
    # SIGTERM ends the server like Ctrl-C, so the scheduler below shuts down gracefully.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logger.info("serving on http://%s:%d%s", settings.server.host, settings.server.port,
                DASHBOARD_PATH)
    try:
        app.run(host=settings.server.host, port=settings.server.port, debug=debug)
    finally:
        if runner is not None and not runner.stop():
            # A job overran scheduler.shutdown_timeout_seconds: do not wait for its thread; its
            # open transaction (if any) is rolled back when the connection drops.
            logger.error("scheduler did not stop in time; exiting")
            logging.shutdown()
            os._exit(1)
    return 0


def setup_before_serving(app: dash.Dash) -> dash.Dash:
    """Do dash's once-per-process server setup now, before a threaded server takes requests.

    dash 4.4 runs it lazily in a before_request hook that sets its "done" flag before the work
    (plotly/dash#3971): concurrent first requests to a fresh gthread worker could find the
    callback map still empty and answer 500 "Callback function not found" (seen under load).
    """
    app._setup_server()  # idempotent; the upstream fix (dash#3980) is unreleased
    return app


def __getattr__(name: str):
    # PEP 562: `gunicorn app:server` builds the app on first access, never on plain import.
    if name == "server":
        global server
        server = setup_before_serving(create_app(load_settings(None, os.environ))).server
        return server
    raise AttributeError(name)


if __name__ == "__main__":
    sys.exit(main())
