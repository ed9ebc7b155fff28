"""gunicorn's settings for collector's web process: ``gunicorn -c gunicorn.conf.py
'collector:create_app()'`` (the Procfile's ``web``). Each reads an environment variable
with a default fit for one small machine; README › Running in production says when to
change them."""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# PORT is what platforms that read Procfiles (and honcho) hand each process.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (the proxy in front reaches it; see README)
bind = (
    os.environ.get("GUNICORN_BIND")
    or f"{os.environ.get('HOST', ALL_INTERFACES)}:{_int('PORT', 8000)}"
)
# Threads per worker: most of a request is waiting for PostgreSQL; each thread holds at
# most one database connection, so workers × threads stays under PostgreSQL's limit.
workers = _int("WEB_WORKERS", 2)
threads = _int("WEB_THREADS", 4)
worker_class = "gthread"
# A request that takes longer is killed (the longest are exports and uploads of a
# 100,000-row CSV, about 20 s); long work belongs in jobs.
timeout = _int("WEB_TIMEOUT", 60)
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 30)
keepalive = _int("WEB_KEEPALIVE", 5)
# Recycle a worker now and then, so a slow leak never grows for weeks.
max_requests = _int("WEB_MAX_REQUESTS", 2000)
max_requests_jitter = _int("WEB_MAX_REQUESTS_JITTER", 200)
# The proxies whose X-Forwarded-Proto / X-Forwarded-For gunicorn trusts (comma-separated
# addresses, or * when only the proxy can reach the port). The client's address the app
# uses (login throttling, the audit log) is PROXY_HOPS's business (collector/config.py).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# One line per request to stdout; the app masks tokens in paths (runtime/access_log.py).
accesslog = os.environ.get("WEB_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
# Workers import the app after the fork: each opens its own database connections.
preload_app = False


def when_ready(server):
    """Say at start-up which checks fail (the same as /readyz and `flask doctor`)."""
    from collector import create_app
    from collector.web import health

    health.log_failures(create_app(), "web")


def child_exit(server, worker):
    """A web worker that ended (recycled, killed) leaves its counts in the metrics folder,
    where they keep adding up; prometheus_client is told, for any gauge that counts only
    the living."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
