"""Crash-test writer: one load through the real Store API, run as a subprocess that the crash tests kill.

Usage: ``python tests/crash_writer.py <store_root> <company> <tag> [--files N] [--rows R] [--stage]``.
It prints ``ready`` once imported, ``id <snapshot_id>`` once the snapshot folder exists, ``done`` when published
(or staged); with ``CRASH_WRITER_LINGER=1`` it then sleeps so that a random kill always finds it alive.
``PORTAL_CRASH_AT`` / ``PORTAL_CRASH_DELAY`` are honoured by ``etl.store.crash_point``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from pathlib import Path

import duckdb

from etl.store import Store, crash_point

KEEP = 3


def file_rows(rows: int, index: int) -> int:
    """Rows of the index-th file (all different, so a mix of files would show)."""
    return rows + 7 * index


def write_parquet(con: duckdb.DuckDBPyConnection, path: Path, tag: str, count: int) -> None:
    """One Parquet file of ``count`` rows tagged ``tag`` (DuckDB COPY, as the real loader writes them)."""
    con.execute("CREATE OR REPLACE TEMP TABLE part AS SELECT ?::VARCHAR AS tag, range AS n FROM range(?)", [tag, count])
    target = str(path).replace("'", "''")  # COPY takes no parameter for its target; the path is ours
    con.execute(f"COPY part TO '{target}' (FORMAT parquet)")


def write_load(
    con: duckdb.DuckDBPyConnection, store: Store, company: str, tag: str, files: int, rows: int, stage: bool
) -> str:
    """Clean up, write ``files`` Parquet files tagged ``tag``, commit, then publish or stage; returns the id."""
    with store.lock(company, timeout=10):
        store.cleanup(company)
        source_hash = hashlib.sha256(tag.encode()).hexdigest()
        with store.new_snapshot(company, source_hash) as writer:
            print(f"id {writer.snapshot_id}", flush=True)
            for index in range(files):
                write_parquet(con, writer.path / f"part{index}.parquet", tag, file_rows(rows, index))
                crash_point("mid_parquet_write")
            snapshot = writer.commit({"tag": tag, "run_id": tag})
        if stage:
            store.stage(company, snapshot.snapshot_id)
        else:
            store.publish(company, snapshot.snapshot_id)
        return snapshot.snapshot_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("company")
    parser.add_argument("tag")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--stage", action="store_true")
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute("SELECT 1").fetchone()  # warm up before announcing 'ready' (random kills are timed from it)
    print("ready", flush=True)
    write_load(con, Store(args.root, keep=KEEP), args.company, args.tag, args.files, args.rows, args.stage)
    print("done", flush=True)
    if os.environ.get("CRASH_WRITER_LINGER") == "1":
        time.sleep(60)


if __name__ == "__main__":
    main()
