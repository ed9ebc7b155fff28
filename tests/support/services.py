"""Check the test services before the suite: create the test database if it is
missing, and fail loudly (never skip) when PostgreSQL or Redis does not answer.

    python -m tests.support.services --database URL --redis URL
"""

import argparse
import sys

import psycopg
import redis
from psycopg import sql


def ensure_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--redis", required=True)
    args = parser.parse_args()
    try:
        ensure_database(args.database)
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL does not answer at {args.database}: {exc}", file=sys.stderr)
        return 1
    try:
        redis.Redis.from_url(args.redis, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        print(f"Redis does not answer at {args.redis}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
