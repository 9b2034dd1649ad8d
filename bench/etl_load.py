"""Benchmark: full load of the large demo company against a bare DuckDB CSV→Parquet copy, in the same run."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script (`python bench/etl_load.py`): make the project importable
BIG = "grancorp"

# Each measurement runs in its own process so that its peak memory (ru_maxrss) is its own. CPU seconds (every thread,
# user + system) are printed too: on a shared machine they move less with the other jobs than the wall time does.
BARE_COPY = """
import duckdb, json, resource, sys, time
src, dst = sys.argv[1], sys.argv[2]
con = duckdb.connect()
usage = resource.getrusage(resource.RUSAGE_SELF)
started = time.perf_counter()
con.execute(f"COPY (SELECT * FROM read_csv('{src}')) TO '{dst}' (FORMAT parquet)")
elapsed = time.perf_counter() - started
end = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": elapsed, "peak_mb": end.ru_maxrss / 1024,
                  "cpu": end.ru_utime + end.ru_stime - usage.ru_utime - usage.ru_stime}))
"""

FULL_LOAD = """
import json, resource, sys, time
from portal.settings import load_settings
from etl import service
settings = load_settings()
marks = {}
usage = resource.getrusage(resource.RUSAGE_SELF)
started = time.perf_counter()
def progress(_company, step):
    marks.setdefault(step, time.perf_counter() - started)
[result] = service.load_all(settings, companies=[sys.argv[1]], progress=progress)
elapsed = time.perf_counter() - started
end = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": elapsed, "outcome": result.outcome, "rows": result.rows_read, "marks": marks,
                  "message": result.message, "peak_mb": end.ru_maxrss / 1024,
                  "cpu": end.ru_utime + end.ru_stime - usage.ru_utime - usage.ru_stime}))
"""


def measure(code: str, args: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> dict:
    """Run one measurement script in a fresh interpreter (in ``cwd``'s code) and return what it printed."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"measurement failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_sources(workdir: Path, lines: int) -> Path:
    """Generate the large company once per line count (reused by later runs)."""
    sources = workdir / f"sources-{lines}"
    journal = sources / BIG / "diario.csv"
    if not journal.exists():
        from etl.demo import generate

        print(f"Generando {BIG} con {lines:,} líneas en {sources} …", flush=True)
        started = time.perf_counter()
        generate(sources, until=date(2026, 11, 28), big_lines=lines)
        print(f"  generado en {time.perf_counter() - started:.1f} s", flush=True)
    return sources


def main() -> int:
    """Measure ``repeat`` alternating rounds of bare copy and full load; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "portal-bench"))
    parser.add_argument(
        "--compare",
        type=Path,
        help="another copy of the project (e.g. `git archive HEAD | tar -x -C DIR`) whose load is timed in the same"
        " rounds, so that before and after are measured against the same bare copies",
    )
    args = parser.parse_args()

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sources = ensure_sources(workdir, args.lines)
    csv = sources / BIG / "diario.csv"
    size_mb = csv.stat().st_size / 1e6
    print(f"Archivo: {csv} ({size_mb:,.0f} MB, {args.lines:,} líneas); {os.cpu_count()} núcleos", flush=True)

    bare: list[dict] = []
    full: list[dict] = []
    other: list[dict] = []
    for round_no in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory(dir=workdir) as tmp:
            bare.append(measure(BARE_COPY, [str(csv), str(Path(tmp) / "copy.parquet")]))
        loads = [(full, ROOT)] + ([(other, args.compare.resolve())] if args.compare else [])
        for runs, code_root in loads if round_no % 2 else reversed(loads):  # alternate which load goes first
            runs.append(load_once(workdir, sources, code_root))
        line = f"ronda {round_no}: copia {bare[-1]['seconds']:.2f} s, carga {full[-1]['seconds']:.2f} s"
        if other:
            line += f", carga de {args.compare} {other[-1]['seconds']:.2f} s"
        phases = ", ".join(f"{k} {v:.1f}s" for k, v in full[-1]["marks"].items())
        print(f"{line} (fases: {phases})", flush=True)

    bare_s = statistics.median(r["seconds"] for r in bare)
    bare_cpu = statistics.median(r["cpu"] for r in bare)
    print()
    print(f"{'':32}{'mediana s':>10}{'líneas/s':>11}{'pico MB':>9}{'/ copia':>9}{'CPU s':>8}{'/ copia':>9}")
    rows = [("copia DuckDB CSV→Parquet", bare), ("carga completa + validación", full)]
    if other:
        rows.append((f"carga de {args.compare.name}", other))
    for label, runs in rows:
        secs = statistics.median(r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        print(
            f"{label[:31]:32}{secs:10.2f}{args.lines / secs:11,.0f}{peak:9,.0f}{secs / bare_s:8.2f}×"
            f"{cpu:8.1f}{cpu / bare_cpu:8.2f}×"
        )
    full_s = statistics.median(r["seconds"] for r in full)
    print(
        f"\nrelación carga / copia: {full_s / bare_s:.2f}× (objetivo ≤ 2,5×); "
        f"pico de memoria de la carga: {max(r['peak_mb'] for r in full):,.0f} MB (objetivo < 2.048 MB)"
    )
    return 0


def load_once(workdir: Path, sources: Path, code_root: Path) -> dict:
    """One full load of the large company by the project at ``code_root``, into a throw-away data folder."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        env = {**os.environ, "PORTAL_DATA_DIR": tmp, "PORTAL_SOURCE_DIR": str(sources)}
        result = measure(FULL_LOAD, [BIG], env, cwd=code_root)
    if result["outcome"] != "published":
        raise SystemExit(f"la carga no se publicó: {result}")
    return result


if __name__ == "__main__":
    sys.exit(main())
