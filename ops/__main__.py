"""Command line of the installation's jobs: ``notify`` (digest), ``schedule``, ``backup``, ``restore``, ``mailbox``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ops import backup, mailbox, schedule
from portal.db import get_engine
from portal.errors import PortalError
from portal.settings import load_settings, restrict_new_files
from services import notify

STATUS_ES = {
    "sent": "enviado",
    "queued": "en cola (el servidor de correo no respondió; se reintentará)",
    "failed": "FALLIDO",
    "already_sent": "ya enviado hoy",
    "nothing_new": "sin novedades",
    "dry_run": "se enviaría (prueba, no se envía)",
}


class SpanishParser(argparse.ArgumentParser):
    """argparse with a Spanish lead-in for its (English) error messages."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"Error en los argumentos: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = SpanishParser(prog="python -m ops", description="Tareas del Portal del Cliente")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("notify", help="envía el aviso diario por correo de las novedades a cada usuario cliente")
    p.add_argument("--dry-run", action="store_true", help="muestra a quién se avisaría, sin enviar ni registrar nada")
    c = sub.add_parser("schedule", help="cargas periódicas (cron) y avisos por correo, hasta que se detenga")
    c.add_argument("--cron", help="línea crontab de 5 campos de las cargas (PORTAL_SCHEDULE_CRON)")
    c.add_argument("--once", action="store_true", help="una sola carga programada ahora y sale")
    b = sub.add_parser("backup", help="copia de seguridad: base de datos, cargas publicadas, documentos y ajustes")
    b.add_argument("dest", metavar="DESTINO", type=Path, help="carpeta nueva o vacía donde se escribe la copia")
    r = sub.add_parser("restore", help="restaura una copia sobre una carpeta de datos y una base de datos vacías")
    r.add_argument("src", metavar="ORIGEN", type=Path, help="carpeta de la copia (se verifica entera antes de nada)")
    m = sub.add_parser(
        "mailbox", help="buzón de demostración: servidor SMTP local que guarda cada correo en una carpeta"
    )
    m.add_argument(
        "--dir", type=Path, help="carpeta de los mensajes (PORTAL_DEMO_MAILBOX; por defecto <datos>/mailbox)"
    )
    m.add_argument("--port", type=int, default=8025, help="puerto SMTP en 127.0.0.1 (8025)")
    return parser


def cmd_notify(dry_run: bool) -> int:
    """One digest round; prints one line per user and returns 1 when any e-mail failed."""
    settings = load_settings()
    digests = notify.run(settings, get_engine(settings.db_url), dry_run=dry_run)
    for digest in digests:
        companies = ", ".join(n.company for n in digest.news)
        line = f"{digest.username}: {STATUS_ES.get(digest.status, digest.status)}"
        print(line + (f" ({companies})" if companies else "") + (f" · {digest.error}" if digest.error else ""))
    sent = sum(d.status == "sent" for d in digests)
    failed = sum(d.status == "failed" for d in digests)
    print(f"Avisos enviados: {sent}; fallidos: {failed}; usuarios revisados: {len(digests)}.")
    return 1 if failed else 0


def cmd_backup_or_restore(command: str, folder: Path) -> int:
    """``backup DEST`` / ``restore SRC``: prints what was copied or restored and what the operator keeps apart."""
    settings = load_settings()
    run = backup.backup if command == "backup" else backup.restore
    print("\n".join(run(settings, folder).lines(command)))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "notify":
            return cmd_notify(args.dry_run)
        if args.command == "schedule":
            settings = load_settings()
            schedule.run_scheduler(settings, cron=args.cron or settings.schedule_cron, once=args.once)
            return 0
        if args.command == "mailbox":
            settings = load_settings()
            mailbox.serve(args.dir or settings.demo_mailbox or settings.data_dir / "mailbox", port=args.port)
            return 0
        if args.command in ("backup", "restore"):
            return cmd_backup_or_restore(args.command, args.dest if args.command == "backup" else args.src)
    except PortalError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    restrict_new_files()
    sys.exit(main())
