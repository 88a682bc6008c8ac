"""Who may reach the server and what they may send (glue over Flask; no business logic).

One ``install(app, settings, environ)`` puts every guard on the Flask server under Dash, in
the order a request meets them:

1. ``Host`` must be a loopback name, an IP address, the bind address or one of
   ``server.allowed_hosts`` (400): a page on another site that re-points its own name at
   127.0.0.1 (DNS rebinding) sends its own name as ``Host``.
2. A browser request that changes state (POST, PUT, PATCH, DELETE with an ``Origin`` or
   ``Referer``) must come from this origin (403): another web page cannot drive the API.
3. A server listening beyond loopback without credentials answers nothing but 503, whatever
   started it (``python app.py`` refuses earlier; ``gunicorn -b 0.0.0.0 app:server`` lands here).
4. Basic auth when credentials are set (constant-time compare); failed logins are throttled
   per client and process (429 with ``Retry-After``, the ``limits`` library's moving window).
5. Bodies: at most ``MAX_REQUEST_BYTES`` everywhere (413); a Dash callback body must match the
   callback it names (``dash_guard``), else 400.
6. Errors Dash raises on requests it does not understand (a forged callback value, an unknown
   component-suite path) become a short 4xx and one log line without the body.
7. Every response: ``nosniff``, no framing, same-origin referrers.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import socket
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import Flask, Response, request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import HTTPException

from errors import ConfigError
from redaction import register_secret

logger = logging.getLogger("btcfolio.security")

# A 30 s refresh at 200 assets posts well under 100 KB of callback state; 2 MiB leaves headroom
# and still bounds what one request can make the server parse.
MAX_REQUEST_BYTES = 2 * 1024 * 1024
AUTH_USER_ENV, AUTH_PASSWORD_ENV = "BTCFOLIO_AUTH_USER", "BTCFOLIO_AUTH_PASSWORD"
# NIST SP 800-63B asks for at least 8 characters; a password sent with every request of a
# server on the network deserves more, and a password manager makes length free.
MIN_PASSWORD_LENGTH = 12
MIN_DISTINCT_CHARACTERS = 5
# Ten wrong passwords a minute per client: a person mistyping never meets it, a guesser
# gets 14,400 tries a day instead of thousands a second.
LOGIN_FAILURE_LIMIT = parse("10/minute")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DASH_CALLBACK_PATH = "/_dash-update-component"
COMPONENT_SUITES = "/_dash-component-suites/"


def is_loopback(host: str) -> bool:
    """True for localhost and 127.0.0.0/8 / ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_password_strength(user: str, password: str) -> None:
    """Refuse credentials a guesser would find quickly (ConfigError naming the rule)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        problem = f"at least {MIN_PASSWORD_LENGTH} characters"
    elif len(set(password)) < MIN_DISTINCT_CHARACTERS or not password.strip():
        problem = f"at least {MIN_DISTINCT_CHARACTERS} different characters"
    elif password.casefold() == user.casefold():
        problem = "not the user name"
    else:
        return
    raise ConfigError(f"{AUTH_PASSWORD_ENV}: too weak, use {problem}")


def auth_credentials(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """HTTP basic-auth credentials from the environment (both variables, or none).

    Raises:
        ConfigError: the password is set but too weak (see check_password_strength).
    """
    user, password = environ.get(AUTH_USER_ENV), environ.get(AUTH_PASSWORD_ENV)
    if not (user and password):
        return None
    register_secret(password)
    check_password_strength(user, password)
    return user, password


def check_bind(host: str, environ: Mapping[str, str]) -> None:
    """Refuse to serve beyond loopback without basic-auth credentials.

    Raises:
        ConfigError: host is not loopback (e.g. 0.0.0.0, ::, a LAN address, "") and the auth
            variables are not both set, or the password is too weak.
    """
    if not auth_credentials(environ) and not is_loopback(host):
        shown = host or "an empty host (all interfaces)"
        raise ConfigError(f"server.host: refusing to bind {shown} (not loopback) without auth: "
                          f"set {AUTH_USER_ENV} and {AUTH_PASSWORD_ENV}")


def _hostname(netloc: str) -> str:
    """The host part of "name:port" / "[v6]:port", lower case ("" when unparsable)."""
    try:
        return (urlsplit("//" + netloc).hostname or "").rstrip(".")
    except ValueError:
        return ""


def _is_ip(name: str) -> bool:
    # DNS rebinding needs a name the attacker controls: a browser that sends an address as
    # Host connected to that address itself, and cross-site writes still meet the Origin check.
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _listens_locally(environ: Mapping) -> bool:
    """Whether the server that received this request listens on loopback (or a unix socket)."""
    sock = environ.get("gunicorn.socket")
    if sock is not None and getattr(sock, "family", None) == socket.AF_UNIX:
        return True
    return is_loopback(str(environ.get("SERVER_NAME", "")))


def _refuse(status: int, message: str, reason: str | None = None) -> Response:
    # One line, never the body: a flood of forged requests must not flood the log.
    logger.info("refused %s %s (%d): %s", request.method, request.path[:80], status,
                reason or message)
    return Response(message + "\n", status, mimetype="text/plain")


class _Guards:
    """The per-request checks, built once per app from settings and the environment."""

    def __init__(self, settings, environ: Mapping[str, str]) -> None:
        self.credentials = auth_credentials(environ)
        server = settings.server
        extra = set(getattr(server, "allowed_hosts", ()) or ())
        self.hosts = frozenset(h.lower() for h in LOOPBACK_NAMES | {server.host} | extra)
        # Per process: with N workers a guesser gets at most N x the limit, and a Redis outage
        # can never turn a login into a 500.
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.warned_open_bind = False

    def host_allowed(self) -> bool:
        name = _hostname(request.host)
        bound = str(request.environ.get("SERVER_NAME", "")).lower()
        return (name in self.hosts or _is_ip(name)
                or (name == bound and bound not in WILDCARD_BINDS))

    def foreign_origin(self) -> str | None:
        """The origin of a cross-site browser request that changes state, else None."""
        if request.method not in STATE_CHANGING:
            return None
        origin = request.headers.get("Origin") or request.headers.get("Referer")
        if origin is None:
            return None  # not a browser (curl, scripts): no other site is driving it
        netloc = urlsplit(origin).netloc if origin != "null" else "null"
        return None if netloc.lower() == request.host.lower() else origin[:80]

    def check_login(self) -> Response | None:
        user, password = self.credentials
        client = request.remote_addr or "unknown"
        if not self.limiter.test(LOGIN_FAILURE_LIMIT, "login", client):
            reset = self.limiter.get_window_stats(LOGIN_FAILURE_LIMIT, "login", client).reset_time
            wait = max(1, int(reset - time.time()) + 1)
            response = _refuse(429, "too many failed logins: wait and try again")
            response.headers["Retry-After"] = str(wait)
            return response
        auth = request.authorization
        ok = (auth is not None and auth.type == "basic"
              and hmac.compare_digest((auth.username or "").encode(), user.encode())
              and hmac.compare_digest((auth.password or "").encode(), password.encode()))
        if ok:
            return None
        if auth is not None:  # a browser's first request carries no credentials: not a failure
            self.limiter.hit(LOGIN_FAILURE_LIMIT, "login", client)
        return Response("authentication required\n", 401,
                        {"WWW-Authenticate": 'Basic realm="btcfolio"'})

    def before_request(self) -> Response | None:
        if not self.host_allowed():
            return _refuse(400, "host not allowed (add it to server.allowed_hosts)",
                           f"Host {request.host[:60]!r}")
        origin = self.foreign_origin()
        if origin is not None:
            return _refuse(403, "cross-origin request refused", f"Origin {origin!r}")
        if self.credentials is None and not _listens_locally(request.environ):
            if not self.warned_open_bind:
                self.warned_open_bind = True
                logger.error("listening on %s without credentials: refusing every request; "
                             "set %s and %s", request.environ.get("SERVER_NAME"),
                             AUTH_USER_ENV, AUTH_PASSWORD_ENV)
            return Response("refusing to serve: listening beyond loopback without "
                            "credentials\n", 503, mimetype="text/plain")
        if self.credentials is not None:
            return self.check_login()
        return None


# ---- Dash callback bodies -------------------------------------------------------------------
# Deeper than any state the pages keep (the snapshot store is 4 levels), far below the parser's
# recursion limit.
MAX_JSON_DEPTH = 32
MAX_LIST_ITEMS = 10_000
# What a callback raises when a value of a well-shaped body does not fit (forged state).
BAD_INPUT_ERRORS = (TypeError, ValueError, LookupError, AttributeError)


def _too_deep(value: object) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(
            item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return False


def _declared(spec: str) -> list[tuple[object, str]]:
    """(id, property) of each output in Dash's output key (``..a.p...b.q..`` or ``a.p``)."""
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    out = []
    for part in parts:
        cid, prop = part.rsplit(".", 1)
        out.append((json.loads(cid) if cid.startswith("{") else cid, prop.split("@")[0]))
    return out


def _matches_pattern(cid: object, pattern: dict) -> bool:
    if not isinstance(cid, dict) or set(cid) != set(pattern):
        return False
    for key, want in pattern.items():
        value = cid[key]
        if isinstance(want, list):  # a wildcard (ALL, MATCH, ALLSMALLER): any scalar
            if not isinstance(value, (str, int, float, bool)):
                return False
        elif value != want:
            return False
    return True


def _slot_problem(item: object, cid: object, prop: str, name: str) -> str | None:
    """Whether one inputs/state/outputs entry fits the declared (id, property)."""
    if isinstance(cid, str) and cid.startswith("{"):
        cid = json.loads(cid)
    entries = item if isinstance(cid, dict) and isinstance(item, list) else [item]
    if len(entries) > MAX_LIST_ITEMS:
        return f"{name}: too many entries"
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("property"), str):
            return f"{name}: each entry must be an object with id and property"
        if entry["property"].split("@")[0] != prop:
            return f"{name}: property does not match the callback"
        ok = _matches_pattern(entry.get("id"), cid) if isinstance(cid, dict) else (
            entry.get("id") == cid)
        if not ok:
            return f"{name}: component id does not match the callback"
    return None


def _list_problem(given: object, declared: list[tuple[object, str]], name: str) -> str | None:
    if not isinstance(given, list) or len(given) != len(declared):
        return f"{name}: expected a list of {len(declared)} entries"
    for item, (cid, prop) in zip(given, declared, strict=True):
        problem = _slot_problem(item, cid, prop, name)
        if problem:
            return problem
    return None


def callback_body_problem(raw: bytes, callback_map: Mapping[str, Mapping]) -> str | None:
    """Why a ``/_dash-update-component`` body does not fit a registered callback (None if it fits).

    Checks shape only, never values: the output key is registered; ``outputs``, ``inputs`` and
    ``state`` name exactly the declared components and properties (pattern ids by their keys);
    ``changedPropIds`` is a list of strings; no nesting deeper than ``MAX_JSON_DEPTH``.
    """
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: [[[[... beyond the parser's limit
        return "the body must be JSON"
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if _too_deep(body):
        return f"nesting deeper than {MAX_JSON_DEPTH} levels"
    output = body.get("output")
    spec = callback_map.get(output) if isinstance(output, str) else None
    if spec is None:
        return "no such callback"
    outputs, declared = body.get("outputs"), _declared(output)
    if not output.startswith(".."):  # a single output is sent as one object
        outputs = [outputs]
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds must be a list of strings"
    as_pairs = [(d["id"], d["property"]) for d in spec["inputs"]]
    state_pairs = [(d["id"], d["property"]) for d in spec["state"]]
    return ((None if spec.get("no_output") else _list_problem(outputs, declared, "outputs"))
            or _list_problem(body.get("inputs"), as_pairs, "inputs")
            or _list_problem(body.get("state", []), state_pairs, "state"))


def _raised_at(exc: BaseException) -> str:
    """file:line where an exception was raised (for a one-line log without the body)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"


def _check_callback_body(app) -> Response | None:  # untyped: dash.Dash
    if request.path != DASH_CALLBACK_PATH or request.method != "POST":
        return None
    problem = callback_body_problem(request.get_data(cache=True), app.callback_map)
    return _refuse(400, f"malformed callback request: {problem}") if problem else None


def _error_answer(exc: Exception) -> Response | None:
    """A short answer to an exception Dash raised on a request it did not understand."""
    if isinstance(exc, HTTPException):  # Flask's own 404/405/413: already short
        return exc
    where = _raised_at(exc)
    if request.path.startswith(COMPONENT_SUITES):
        logger.info("refused GET %s (404): %s", request.path[:80], exc.__class__.__name__)
        return Response("not found\n", 404, mimetype="text/plain")
    if request.path == DASH_CALLBACK_PATH and isinstance(exc, BAD_INPUT_ERRORS):
        # The body matched the callback's shape but a value did not fit (a forged snapshot).
        logger.warning("callback refused its input (400): %s at %s",
                       exc.__class__.__name__, where)
        return Response("callback input rejected\n", 400, mimetype="text/plain")
    logger.error("unhandled %s on %s %s at %s", exc.__class__.__name__, request.method,
                 request.path[:80], where, exc_info=logger.isEnabledFor(logging.DEBUG))
    return Response("internal error\n", 500, mimetype="text/plain")


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def install(app, settings, environ: Mapping[str, str]) -> None:  # untyped: dash.Dash
    """Apply every guard above to ``app.server`` (call before registering other hooks).

    Raises:
        ConfigError: credentials are set but too weak.
    """
    server: Flask = app.server
    guards = _Guards(settings, environ)
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    server.before_request(guards.before_request)
    server.before_request(lambda: _check_callback_body(app))
    server.register_error_handler(Exception, _error_answer)
    server.after_request(_security_headers)
