"""``make serve``: the production-like set on this machine, as an operator would run it.

    python deploy/serve.py [--env-file instance/serve.env] [--host 127.0.0.1] [--port 8000]

The settings come from ``--env-file`` (created on the first run with fresh secrets,
mode 600, ENV=production, PostgreSQL database ``collector_serve`` and Redis database 1 on
this machine) with the process environment on top. It creates the database if it is
missing, runs the Procfile's ``release`` step (the migrations) once, then hands over to
honcho, which runs the Procfile's ``web`` (gunicorn), ``worker`` and ``clock`` and stops
them all on Ctrl-C or SIGTERM. All three count their metrics in one folder
(``PROMETHEUS_MULTIPROC_DIR``, by default ``instance/prometheus``, emptied at each start),
so the web's ``/metrics`` shows the jobs the worker ran.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from dotenv import dotenv_values
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PROCESSES = ("web", "worker", "clock")  # the Procfile's, without ``release``


def first_settings(host: str, port: int) -> dict[str, str]:
    """What a first ``make serve`` writes: production mode, its own secrets, local
    services. Edit the file to point at real ones."""
    return {
        "ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/collector_serve",
        "REDIS_URL": "redis://127.0.0.1:6379/1",
        # Plain http is accepted on loopback only: a rehearsal nobody else can reach.
        "PUBLIC_BASE_URL": f"http://{host}:{port}",
    }


def settings(env_file: Path, host: str, port: int) -> dict[str, str]:
    if not env_file.exists():
        env_file.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{k}={v}" for k, v in first_settings(host, port).items()]
        env_file.write_text("\n".join(lines) + "\n")
        env_file.chmod(0o600)
        print(f" * wrote {env_file} (fresh secrets; edit it to change the settings)")
    env = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    env.update(os.environ)
    env["GUNICORN_BIND"] = f"{host}:{port}"
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def metrics_folder(env: dict[str, str]) -> Path:
    """One folder where every process of this host counts its metrics, so the web's
    ``/metrics`` adds up the workers' jobs (README › Metrics and logs). Emptied here,
    before any of them starts: files of an earlier run would add to the new counts."""
    instance = Path(env.get("INSTANCE_PATH") or ROOT / "instance")
    folder = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or instance / "prometheus")
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("*.db"):
        leftover.unlink()
    env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` when it is missing."""
    if not url.startswith(("postgresql", "postgres:")):
        raise SystemExit(f"make serve runs on PostgreSQL; DATABASE_URL is {url.split(':')[0]}")
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    base, _, name = plain.partition("?")[0].rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f" * created database {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, default=ROOT / "instance" / "serve.env")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    env = settings(args.env_file, args.host, args.port)
    ensure_database(env["DATABASE_URL"])
    release = [str(BIN / "flask"), "--app", "collector", "db", "upgrade"]
    subprocess.run(release, cwd=ROOT, env=env, check=True)  # noqa: S603 (fixed argv)
    metrics_folder(env)
    print(f" * starting {', '.join(PROCESSES)}; web on http://{args.host}:{args.port}/")
    honcho = [str(BIN / "honcho"), "start", "--no-colour", "-f", str(ROOT / "Procfile")]
    os.chdir(ROOT)
    os.execve(honcho[0], [*honcho, "-d", str(ROOT), *PROCESSES], env)  # noqa: S606
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
