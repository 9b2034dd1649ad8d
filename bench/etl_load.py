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

# Each measurement runs in its own process so that its peak memory (ru_maxrss) is its own.
BARE_COPY = """
import duckdb, json, resource, sys, time
src, dst = sys.argv[1], sys.argv[2]
con = duckdb.connect()
started = time.perf_counter()
con.execute(f"COPY (SELECT * FROM read_csv('{src}')) TO '{dst}' (FORMAT parquet)")
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

FULL_LOAD = """
import json, resource, sys, time
from portal.settings import load_settings
from etl import service
settings = load_settings()
marks = {}
started = time.perf_counter()
def progress(_company, step):
    marks.setdefault(step, time.perf_counter() - started)
[result] = service.load_all(settings, companies=[sys.argv[1]], progress=progress)
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "outcome": result.outcome, "rows": result.rows_read, "marks": marks,
                  "message": result.message,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(code: str, args: list[str], env: dict[str, str] | None = None) -> dict:
    """Run one measurement script in a fresh interpreter and return what it printed."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
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
    args = parser.parse_args()

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    sources = ensure_sources(workdir, args.lines)
    csv = sources / BIG / "diario.csv"
    size_mb = csv.stat().st_size / 1e6
    print(f"Archivo: {csv} ({size_mb:,.0f} MB, {args.lines:,} líneas); {os.cpu_count()} núcleos", flush=True)

    bare, full = [], []
    for round_no in range(1, args.repeat + 1):
        with tempfile.TemporaryDirectory(dir=workdir) as tmp:
            bare.append(measure(BARE_COPY, [str(csv), str(Path(tmp) / "copy.parquet")]))
        with tempfile.TemporaryDirectory(dir=workdir) as tmp:
            env = {**os.environ, "PORTAL_DATA_DIR": tmp, "PORTAL_SOURCE_DIR": str(sources)}
            result = measure(FULL_LOAD, [BIG], env)
            if result["outcome"] != "published":
                raise SystemExit(f"la carga no se publicó: {result}")
            full.append(result)
        print(
            f"ronda {round_no}: copia {bare[-1]['seconds']:.2f} s, carga {full[-1]['seconds']:.2f} s "
            f"(fases: {', '.join(f'{k} {v:.1f}s' for k, v in full[-1]['marks'].items())})",
            flush=True,
        )

    bare_s = statistics.median(r["seconds"] for r in bare)
    full_s = statistics.median(r["seconds"] for r in full)
    print()
    print(f"{'':28}{'mediana s':>12}{'líneas/s':>14}{'pico MB':>10}")
    rows = (("copia DuckDB CSV→Parquet", bare, bare_s), ("carga completa + validación", full, full_s))
    for label, runs, secs in rows:
        peak = max(r["peak_mb"] for r in runs)
        print(f"{label:28}{secs:12.2f}{args.lines / secs:14,.0f}{peak:10,.0f}")
    print(
        f"\nrelación carga / copia: {full_s / bare_s:.2f}× (objetivo ≤ 2,5×); "
        f"pico de memoria de la carga: {max(r['peak_mb'] for r in full):,.0f} MB (objetivo < 2.048 MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
