"""Kamidesk: a real-time support console for digital-goods shops."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, request, session
from flask_login import current_user
from sqlalchemy.engine import make_url

from console.config import instance_path, load_settings
from console.extensions import babel, csrf, db, login_manager, socketio

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "zh_CN")


def create_app(config: dict | None = None, store=None) -> Flask:
    """Build the console; ``config`` overrides settings (tests), ``store`` the order store."""
    folder = Path(config.get("INSTANCE", instance_path())) if config else instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, instance_path=str(folder),
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    settings = load_settings(folder, config)
    from console.log_redaction import configure as configure_logging
    configure_logging(settings.get("LOG_LEVEL"), app.logger)
    app.config.update(settings)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=_without_timeout(settings["DATABASE_URL"]),
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings["DATABASE_URL"]),
        WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None,
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "console" / "translations"),
        RATELIMIT_ENABLED=settings.get("RATELIMIT_ENABLED", True),
        JSON_SORT_KEYS=False,
    )
    _init_extensions(app, store)
    _register_blueprints(app)
    with app.app_context():
        from console.schema import prepare_schema
        prepare_schema()
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies (1 for the README's nginx), take the
    client's address, scheme and host from their ``X-Forwarded-*`` headers, so rate limits,
    audit rows and Secure cookies see the real client.  Outermost, so Socket.IO's origin
    check sees the same."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # the WSGI middleware idiom
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


# how long a request waits for the console DB before answering 503 (a ``timeout`` query
# parameter on a SQLite URL overrides the lock wait)
CONSOLE_DB_WAIT_S = 30
CONSOLE_DB_CONNECT_TIMEOUT_S = 5


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        wait = float(str(make_url(url).query.get("timeout", CONSOLE_DB_WAIT_S)))
        return {"connect_args": {"timeout": wait, "check_same_thread": False}}
    if url.startswith("postgresql"):
        return {"pool_pre_ping": True, "pool_timeout": CONSOLE_DB_CONNECT_TIMEOUT_S * 2,
                "connect_args": {"connect_timeout": CONSOLE_DB_CONNECT_TIMEOUT_S}}
    return {"pool_pre_ping": True}


def _without_timeout(url: str) -> str:
    if not url.startswith("sqlite"):
        return url
    return make_url(url).difference_update_query(["timeout"]).render_as_string(
        hide_password=False)


def select_locale() -> str:
    """The agent's saved choice, then this browser's choice, then the browser's languages."""
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.language:
        return current_user.language
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    best = request.accept_languages.best_match(["en", "zh_CN", "zh", "zh-CN"])
    return "zh_CN" if best and best.startswith("zh") else "en"


def _init_extensions(app: Flask, store) -> None:
    from console.access import init_access
    from console.auth.sessions import init_sessions
    from console.errors import register_error_handlers
    from console.headers import init_headers
    from console.ratelimits import init_rate_limits
    from console.store import init_store

    db.init_app(app)
    login_manager.init_app(app)
    init_sessions(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    init_rate_limits(app)
    init_headers(app)
    from console.chat.heartbeat import spread_pings
    from console.chat.queue import client_manager_options
    from console.chat.socket_guard import socket_options
    socketio.init_app(app, message_queue=app.config.get("MESSAGE_QUEUE"),
                      async_mode=app.config.get("ASYNC_MODE") or _async_mode(),
                      ping_interval=app.config["PING_INTERVAL"],
                      **socket_options(app.config),
                      **client_manager_options(app.config.get("MESSAGE_QUEUE")))
    spread_pings()
    init_store(app, store)
    init_access(app)
    register_error_handlers(app)
    from console.audit import init_request_ids
    init_request_ids(app)
    _sqlite_pragmas(app)
    from console.templating import init_templating
    init_templating(app)


def _async_mode() -> str:
    """gevent only when the process was patched for it (gunicorn -k gevent); else threads."""
    try:
        from gevent import monkey
    except ImportError:
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


def _sqlite_pragmas(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    wait = _engine_options(app.config["DATABASE_URL"])["connect_args"]["timeout"]
    with app.app_context():
        @event.listens_for(db.engine, "connect")
        def pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
            cursor.close()


# One blueprint per URL space, each a module-level ``bp`` in the views module that holds
# (or imports, at its end, the other modules adding routes to it); add a line to switch one on.
BLUEPRINTS = (
    "console.auth.views:bp",
    "console.api.views:bp",
    "console.health:bp",
    "console.pages.views:bp",
    "console.orders.views:bp",
    "console.chat.views:bp",
    "console.chat.widget:bp",
    "console.actions.views:bp",
    "console.supervisor.views:bp",
    "console.webhooks.views:bp",
    "console.watching.views:bp",
)


def _register_blueprints(app: Flask) -> None:
    from importlib import import_module

    for target in BLUEPRINTS:
        module_name, name = target.split(":")
        app.register_blueprint(getattr(import_module(module_name), name))
