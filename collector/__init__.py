"""collector: payment collections for Teamleader Focus invoices."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import configure_mappers
from werkzeug.middleware.proxy_fix import ProxyFix

from collector import config as config_module
from collector.core.outbound import OutboundGuard
from collector.extensions import csrf, db, login_manager, migrate
from collector.runtime import access_log, request_log, structured_log
from collector.runtime.queue import AppJob

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the application; nothing connects until a request or job needs it."""
    settings = config_module.load(config)
    app = Flask(
        __name__,
        instance_path=str(settings["INSTANCE_PATH"] or ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(settings)
    _derive_settings(app)
    if app.config["PROXY_HOPS"] > 0:
        # The client's address as the trusted proxies saw it: otherwise every login would
        # come from the proxy, and one address's throttle would hold everyone back.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_HOPS"])
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    # The mt-940 library logs a line it cannot parse whole: names and IBANs stay out of logs.
    logging.getLogger("mt940").setLevel(logging.CRITICAL)
    access_log.install()
    structured_log.configure(app.config)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)

    register_models()
    connect_receivers()
    connect_jobs()
    from collector.accounts import company
    from collector.api import bp as api_bp
    from collector.cli import register_commands
    from collector.core import clock
    from collector.runtime import doorbell
    from collector.runtime.queue import init_jobs
    from collector.web import register_web
    from collector.web.metrics import bp as metrics_bp

    # Business dates are the company's local dates (its zone lives in the database).
    clock.use_zone_lookup(company.time_zone)
    init_jobs(app)
    doorbell.install()
    # First of the app's hooks: every request gets its id before anything else answers.
    request_log.install(app)
    register_web(app)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    register_commands(app)
    return app


# The domain packages, in the order their imports allow (see README › Architecture).
DOMAINS = (
    "accounts",
    "documents",
    "teamleader",
    "direct_debit",
    "dunning",
    "mail",
    "payments",
    "exact",
)


def register_models() -> None:
    """Import every domain's models, so SQLAlchemy and Alembic see the whole schema."""
    importlib.import_module("collector.runtime.models")
    for name in DOMAINS:
        importlib.import_module(f"collector.{name}.models")
    # Resolve the relationships between them now, once: otherwise the first query of every
    # forked rq job does it again (about 0.4 s a job).
    configure_mappers()


def connect_receivers() -> None:
    """Connect each domain's receivers of ``documents.signals`` (those that have some)."""
    for name in DOMAINS:
        module = f"collector.{name}.receivers"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module).connect()


def connect_jobs() -> None:
    """Import every domain's jobs and connect what they do for each other: who delivers
    each outbox channel, who follows up on the Teamleader jobs, who sends notices."""
    for name in ("runtime", *DOMAINS):
        jobs = importlib.import_module(f"collector.{name}.jobs")
        if hasattr(jobs, "connect"):
            jobs.connect()


def _derive_settings(app: Flask) -> None:
    """Fill in what follows from the documented keys, and refuse unsafe production."""
    cfg = app.config
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not cfg["DATABASE_URL"]:
        cfg["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'collector.sqlite3'}"
    cfg["SQLALCHEMY_DATABASE_URI"] = _sqlalchemy_url(cfg["DATABASE_URL"])
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    if not cfg["DOCUMENT_STORAGE"]:
        cfg["DOCUMENT_STORAGE"] = str(Path(app.instance_path) / "documents")
    production = cfg["ENV"] == "production"
    if production:
        cfg["SESSION_COOKIE_SECURE"] = True
        problems = config_module.production_problems(cfg)
        if problems:
            raise config_module.UnsafeConfiguration(problems, cfg["ENV_AS_SET"])
    OutboundGuard.from_setting(cfg["OUTBOUND_ALLOWED_HOSTS"])  # a malformed entry stops it
    cfg.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=cfg["SESSION_COOKIE_SECURE"],
        # The signed cookie itself is refused past the absolute lifetime; the idle one and
        # the absolute one are checked from the session's own times (accounts.sessions).
        PERMANENT_SESSION_LIFETIME=cfg["SESSION_MAX_HOURS"] * 3600,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        TESTING=cfg["ENV"] == "test",
    )


def _sqlalchemy_url(url: str) -> str:
    # Accept the common postgres:// and postgresql:// spellings; we ship psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# rq workers started without ``worker.py`` (``rq worker --job-class ...AppJob``) make
# their app with this: the runtime may not import the shell.
AppJob.app_factory = create_app
