"""Command line of the ETL: ``python -m etl demo|load|worker|status|runs|publish|rollback|mode`` (``schedule``: ops)."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from etl import service
from etl.load import RunResult
from etl.problems import SEVERITY_ES, rule_label
from portal.errors import PortalError
from portal.forward import run_instead
from portal.settings import Settings, load_settings, restrict_new_files

OUTCOME_ES = {
    "published": "publicada",
    "staged": "pendiente de publicar",
    "unchanged": "sin cambios",
    "rejected": "RECHAZADA",
    "failed": "FALLIDA",
    "running": "en curso",
}
FAILED_OUTCOMES = ("rejected", "failed")
LOAD_STEPS = {"leyendo": 1, "escribiendo": 2}
console = Console()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["schedule"]:  # the scheduler sends the e-mail digest too: it lives a layer up, in ops
        run_instead("ops", argv)
    args = _parser().parse_args(argv)
    settings = load_settings()
    if getattr(args, "source", None):
        settings = replace(settings, source_dir=Path(args.source))
    if getattr(args, "store", None):
        settings = replace(settings, store_dir=Path(args.store))
    try:
        return int(args.func(settings, args) or 0)
    except PortalError as exc:
        console.print(f"[red]Error:[/red] {exc}")
        return 2


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Write the demo firm's source folder."""
    from etl.demo import generate

    dest = Path(args.dest) if args.dest else settings.sources
    until = date.fromisoformat(args.until) if args.until else None
    started = time.perf_counter()
    with console.status("Generando el despacho de demostración…") as status:
        codes = generate(dest, until=until, big_lines=args.big_lines, progress=lambda m: status.update(m))
    console.print(
        f"Despacho de demostración escrito en {dest} ({len(codes)} empresas: {', '.join(codes)}) "
        f"en {time.perf_counter() - started:.1f} s"
    )
    return 0


def cmd_load(settings: Settings, args: argparse.Namespace) -> int:
    """Load companies with a progress bar each and a summary table; non-zero exit if any was rejected."""
    codes = [args.company] if args.company else service.source_companies(settings)
    if not codes:
        console.print(f"[red]No hay empresas en {settings.sources}[/red]")
        return 1
    results: list[RunResult] = []
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<14}"),
        BarColumn(),
        TextColumn("{task.fields[step]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        for code in codes:
            task = progress.add_task(code, total=3, step="en cola")

            def report(_company: str, msg: str, task: int = task) -> None:
                progress.update(task, step=msg, completed=LOAD_STEPS.get(msg, 3))

            result = service.load_all(settings, companies=[code], trigger=args.trigger, progress=report)[0]
            progress.update(task, completed=3, step=OUTCOME_ES.get(result.outcome, result.outcome))
            results.append(result)
    console.print(_summary(results))
    for result in results:
        for problem in result.problems[: args.show_problems]:
            where = problem.where()
            console.print(
                f"  [{'red' if problem.severity == 'error' else 'yellow'}]{result.company}[/] "
                f"{rule_label(problem.rule)} ({problem.rule}): {problem.message}" + (f" ({where})" if where else "")
            )
        hidden = len(result.problems) - args.show_problems
        if hidden > 0:
            console.print(f"  … y {hidden} mensajes más de {result.company} (python -m etl runs --problems ID)")
    return 1 if any(r.outcome in FAILED_OUTCOMES for r in results) else 0


def _summary(results: list[RunResult]) -> Table:
    table = Table(title="Resumen de la carga")
    for column in ("Empresa", "Resultado", "Líneas", "Errores", "Avisos", "Instantánea", "Ejecución"):
        table.add_column(column)
    for r in results:
        style = "red" if r.outcome in FAILED_OUTCOMES else None
        table.add_row(
            r.company,
            OUTCOME_ES.get(r.outcome, r.outcome),
            f"{r.rows_read:,}".replace(",", "."),
            str(r.errors),
            str(r.warnings),
            r.snapshot_id or "—",
            str(r.run_id or "—"),
            style=style,
        )
    return table


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """Run the queued loads: until stopped (SIGTERM/Ctrl+C), or only those waiting now with ``--drain``."""
    from etl import jobs

    if args.drain:
        console.print(f"Cargas en cola ejecutadas: {jobs.drain(settings)}")
        return 0
    console.print(f"Proceso de cargas en marcha ({args.workers} a la vez). Ctrl+C para detener.")
    jobs.work(settings, workers=args.workers)
    return 0


def cmd_status(settings: Settings, _args: argparse.Namespace) -> int:
    """Published and pending snapshot of every company."""
    table = Table(title="Estado de las empresas")
    for column in ("Empresa", "Nombre", "Publicación", "Publicada", "Líneas", "Pendiente", "Última ejecución"):
        table.add_column(column)
    for s in service.company_statuses(settings):
        last = s.last_run
        table.add_row(
            s.code,
            s.name,
            "automática" if s.publish_mode == "auto" else "manual",
            s.current.snapshot_id if s.current else "—",
            str(s.current.rows.get("journal.parquet", "—")) if s.current else "—",
            s.pending.snapshot_id if s.pending else "—",
            f"{OUTCOME_ES.get(last['outcome'], last['outcome'])} ({last['started_at']:%d/%m/%Y %H:%M})"
            if last
            else "—",
        )
    console.print(table)
    return 0


def cmd_runs(settings: Settings, args: argparse.Namespace) -> int:
    """The run log, or every message of one run."""
    if args.problems:
        table = Table(title=f"Mensajes de la ejecución {args.problems}")
        for column in ("Gravedad", "Regla", "Archivo", "Línea", "Asiento", "Mensaje"):
            table.add_column(column, overflow="fold")
        for p in service.run_problems(settings, args.problems):
            severity, rule = SEVERITY_ES.get(p["severity"], p["severity"]), f"{rule_label(p['rule'])} ({p['rule']})"
            table.add_row(severity, rule, p["file"], str(p["line"] or ""), p["entry"] or "", p["message"])
        console.print(table)
        return 0
    table = Table(title="Últimas ejecuciones")
    for column in ("Id", "Empresa", "Origen", "Inicio", "Fin", "Resultado", "Líneas", "Errores", "Mensaje"):
        table.add_column(column, overflow="fold")
    for r in service.recent_runs(settings, company=args.company, limit=args.limit):
        table.add_row(
            str(r["id"]),
            r["company"],
            r["trigger"],
            f"{r['started_at']:%d/%m/%Y %H:%M:%S}",
            f"{r['finished_at']:%H:%M:%S}" if r["finished_at"] else "—",
            OUTCOME_ES.get(r["outcome"], r["outcome"]),
            str(r["rows_read"]),
            str(r["errors"]),
            r["message"],
        )
    console.print(table)
    return 0


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    """Publish a company's pending snapshot."""
    snapshot_id = service.publish_pending(settings, args.company, actor=args.actor)
    console.print(f"{args.company}: publicada la instantánea {snapshot_id}")
    return 0


def cmd_rollback(settings: Settings, args: argparse.Namespace) -> int:
    """Return a company to its previously published snapshot."""
    snapshot_id = service.rollback(settings, args.company, actor=args.actor)
    console.print(f"{args.company}: vuelve a la instantánea {snapshot_id}")
    return 0


def cmd_mode(settings: Settings, args: argparse.Namespace) -> int:
    """Set a company's publish mode."""
    service.set_publish_mode(settings, args.company, args.mode, actor=args.actor)
    console.print(f"{args.company}: publicación {'automática' if args.mode == 'auto' else 'manual'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m etl",
        description="Cargas de datos del Portal del Cliente (programación: python -m ops schedule)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="escribe las exportaciones del despacho de demostración")
    p.add_argument("--dest", help="carpeta destino (por defecto, la carpeta de fuentes configurada)")
    p.add_argument("--big-lines", type=int, help="añade la empresa grande 'grancorp' con N líneas de diario")
    p.add_argument("--until", help="fecha final de los datos (AAAA-MM-DD; por defecto, hoy)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("load", help="carga una o todas las empresas")
    p.add_argument("--company", help="código de empresa (por defecto, todas las de la carpeta de fuentes)")
    p.add_argument("--source", help="carpeta de fuentes (PORTAL_SOURCE_DIR)")
    p.add_argument("--store", help="carpeta de almacenes (PORTAL_STORE_DIR)")
    p.add_argument("--trigger", default="cli", choices=("cli", "schedule", "portal"), help=argparse.SUPPRESS)
    p.add_argument("--show-problems", type=int, default=20, help="mensajes mostrados por empresa (20)")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("worker", help="ejecuta las cargas en cola («Cargar ahora», programación) hasta que se detenga")
    p.add_argument("--workers", type=int, default=1, help="cargas a la vez en este proceso (1)")
    p.add_argument("--drain", action="store_true", help="ejecuta solo las cargas que esperan ahora y sale")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("status", help="estado de publicación de cada empresa")
    p.add_argument("--store", help="carpeta de almacenes (PORTAL_STORE_DIR)")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("runs", help="registro de ejecuciones")
    p.add_argument("--company")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--problems", type=int, metavar="ID", help="muestra todos los mensajes de la ejecución ID")
    p.set_defaults(func=cmd_runs)

    for name, func, text in (
        ("publish", cmd_publish, "publica la carga pendiente de una empresa"),
        ("rollback", cmd_rollback, "vuelve a la publicación anterior de una empresa"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("company")
        p.add_argument("--store", help="carpeta de almacenes (PORTAL_STORE_DIR)")
        p.add_argument("--actor", default="cli", help="quién lo hace (queda registrado)")
        p.set_defaults(func=func)

    p = sub.add_parser("mode", help="modo de publicación de una empresa: auto o manual")
    p.add_argument("company")
    p.add_argument("mode", choices=service.PUBLISH_MODES)
    p.add_argument("--actor", default="cli")
    p.set_defaults(func=cmd_mode)

    return parser


if __name__ == "__main__":
    restrict_new_files()
    sys.exit(main())
