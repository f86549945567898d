"""The demo's backup bucket: a local moto S3 server with a month of nightly dumps.

Only for `cockpit demo`, and only when moto is installed (`make demo` installs the dev
extra, which has it); otherwise the Backups pane says that there are no AWS
credentials, as it would on a laptop without them.  Like the rest of the simulator it
imports nothing else of the cockpit: it takes the bucket, prefix and region as plain
values and yields the endpoint URL; cli.py points the settings at it.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

DUMP_ROWS = 200  # small dumps; the names carry the dates the pane reads


def demo_dump(day: int) -> bytes:
    """A small but real gzipped plain-SQL pg_dump (it verifies, and restores with psql)."""
    rows = "".join(
        f"{n}\tcustomer {n} 고객\t{(n * 37 + day) % 1000}\n" for n in range(1, DUMP_ROWS)
    )
    sql = (
        "--\n-- PostgreSQL database dump\n--\n\n"
        "SET client_encoding = 'UTF8';\n"
        "CREATE TABLE public.customers (id integer PRIMARY KEY, name text, visits integer);\n"
        "COPY public.customers (id, name, visits) FROM stdin;\n"
        f"{rows}\\.\n\n"
        "--\n-- PostgreSQL database dump complete\n--\n"
    )
    return gzip.compress(sql.encode(), mtime=0)


REGION = "us-east-1"


@contextmanager
def demo_bucket(
    bucket: str, prefix: str, scenario: str, region: str = REGION
) -> Iterator[str | None]:
    """The endpoint URL of a local S3 holding the runbook's dumps in `bucket` under
    `prefix` (None without boto3 and moto: then there is no bucket)."""
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        yield None
        return
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        # Fake keys for the local server only: the demo never talks to AWS.
        os.environ["AWS_ACCESS_KEY_ID"] = "demo"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "demo-not-a-secret"
        s3 = boto3.client("s3", endpoint_url=url, region_name=region)
        s3.create_bucket(Bucket=bucket)
        # moto keeps its buckets per process, not per server: a bucket of the same name
        # from an earlier demo_bucket in this process (a test run) still holds its keys.
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents") or []]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
        now = datetime.now(UTC)
        today = now.replace(hour=2, minute=0, second=0, microsecond=0)
        if today > now:  # before 02:00 UTC tonight's dump has not run yet
            today -= timedelta(days=1)
        # The incident's last night failed: its dump is missing.
        first = 1 if scenario == "incident" else 0
        for day in range(first, 35):
            stamp = (today - timedelta(days=day)).strftime("%Y%m%d_%H%M%S")
            body = demo_dump(day)
            s3.put_object(
                Bucket=bucket,
                Key=f"{prefix}backup_{stamp}.sql.gz",
                Body=body,
                Metadata={"sha256": hashlib.sha256(body).hexdigest()},  # as dump-now writes
            )
        yield url
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.stop()
