"""The store's commit protocol seen through a second mount of the same file system (docs/deployment.md).

In a private mount namespace (``unshare --mount``) the stores folder is bind-mounted at a second path: a writer
process publishes snapshots through one path while a reader process reads ``CURRENT`` and verifies every file
against its manifest through the other, as two machines sharing a volume would; then a writer killed between the
snapshot's rename and the pointer's swap leaves the reader on the previous snapshot, and the next writer, through the
other mount, cleans up and publishes. Needs root (mount); without it the module fails under CI and skips elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOADS = 25

WRITER = """
    import sys
    from pathlib import Path
    import pyarrow as pa, pyarrow.parquet as pq
    from etl.store import Store
    start, count = int(sys.argv[2]), int(sys.argv[3])
    store = Store(Path(sys.argv[1]), keep=start + count + 10)  # retention is not what this test reads
    for k in range(start, start + count):
        writer = store.new_snapshot("ACME", f"{k:08x}" + "0" * 56)
        pq.write_table(pa.table({"n": list(range(k))}), writer.path / "journal.parquet")
        snapshot = writer.commit({"loads": k})
        store.publish("ACME", snapshot.snapshot_id)
        store.cleanup("ACME")
    if len(sys.argv) > 4:
        Path(sys.argv[4]).write_text("ok")
"""

READER = """
    import json, sys, time
    from pathlib import Path
    import pyarrow.parquet as pq
    from etl.store import Store
    store, done = Store(Path(sys.argv[1])), Path(sys.argv[2])
    seen, reads, bad = set(), 0, []
    deadline = time.monotonic() + 300
    ready = done.with_name("reader-ready")
    while time.monotonic() < deadline:
        finished = done.exists()
        snapshot = store.current("ACME")
        if snapshot is not None:
            try:
                snapshot.verify()  # every file's size and SHA-256 against the manifest
                rows = pq.read_table(snapshot.file("journal.parquet")).num_rows
                if rows != snapshot.manifest["loads"]:
                    bad.append(f"{snapshot.snapshot_id}: {rows} rows")
            except Exception as exc:
                bad.append(f"{snapshot.snapshot_id}: {exc}")
            seen.add(snapshot.snapshot_id)
            reads += 1
            ready.touch()  # warmed up (imports, first read): the writer may go on
        if finished:
            break
    print(json.dumps({"reads": reads, "seen": len(seen), "bad": bad, "last": snapshot.manifest["loads"]}))
"""

DRIVER = """
    set -e
    mount --bind "$1" "$2"
    mountpoint -q "$2"
    PYTHONPATH="$ROOT" "$PY" -c "$WRITER" "$1" 1 1
    PYTHONPATH="$ROOT" "$PY" -c "$READER" "$2" "$3/writer-done" > "$3/reader.json" &
    reader=$!
    while [ ! -e "$3/reader-ready" ]; do sleep 0.05; done
    PYTHONPATH="$ROOT" "$PY" -c "$WRITER" "$1" 2 {loads_after_first} "$3/writer-done"
    wait $reader
    PORTAL_CRASH_AT=after_rename_before_pointer PYTHONPATH="$ROOT" "$PY" -c "$WRITER" "$1" 1000 1 || echo "killed $?"
    PYTHONPATH="$ROOT" "$PY" -c "$AFTER_CRASH" "$2"
"""

AFTER_CRASH = """
    import json, sys
    from pathlib import Path
    from etl.store import Store
    store = Store(Path(sys.argv[1]))
    before = store.current("ACME")
    before.verify()
    leftovers = sorted(p.name for p in (store.company_dir("ACME") / "snapshots").iterdir())
    writer = store.new_snapshot("ACME", f"{2000:08x}" + "0" * 56)
    import pyarrow as pa, pyarrow.parquet as pq
    pq.write_table(pa.table({"n": [1, 2]}), writer.path / "journal.parquet")
    store.publish("ACME", writer.commit({"loads": 2}).snapshot_id)
    store.cleanup("ACME")
    after = store.current("ACME")
    after.verify()
    print(json.dumps({"before": before.manifest["loads"], "after": after.manifest["loads"], "leftovers": leftovers}))
"""


def mounts_available() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None and shutil.which("mountpoint") is not None


@pytest.fixture
def two_mounts(tmp_path):
    if not mounts_available():
        message = "needs root, unshare and mountpoint to bind-mount the stores a second time"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    first, second = tmp_path / "machine-a" / "stores", tmp_path / "machine-b" / "stores"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    return first, second


@pytest.mark.slow
def test_a_reader_on_another_mount_never_sees_a_half_written_or_torn_snapshot(tmp_path, two_mounts):
    first, second = two_mounts
    env = {
        **os.environ,
        "ROOT": str(ROOT),
        "PY": sys.executable,
        "WRITER": textwrap.dedent(WRITER),
        "READER": textwrap.dedent(READER),
        "AFTER_CRASH": textwrap.dedent(AFTER_CRASH),
    }
    script = textwrap.dedent(DRIVER).replace("{loads_after_first}", str(LOADS - 1))
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "driver", first, second, tmp_path],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr
    reader = json.loads((tmp_path / "reader.json").read_text())
    print(f"reader through the second mount: {reader['reads']} reads of {reader['seen']} snapshots")
    assert reader["bad"] == [] and reader["last"] == LOADS
    assert reader["reads"] > LOADS and reader["seen"] >= 2, reader  # it read while the other mount was writing
    assert "killed" in done.stdout  # the crashing writer really died between rename and pointer swap
    after = json.loads(done.stdout.strip().splitlines()[-1])
    assert after["before"] == LOADS  # the reader still had the last published snapshot
    crashed = [name for name in after["leftovers"] if name.endswith(f"-{1000:08x}")]
    assert len(crashed) == 1, after["leftovers"]  # renamed into place, never published: invisible to readers
    assert after["after"] == 2
    assert not os.path.ismount(second)  # the second mount lived only in the test's private namespace
