"""Command line for portal users: ``python -m auth create-staff|list|unlock|activate|deactivate``."""

from __future__ import annotations

import argparse
import getpass
import sys

from auth import users
from auth.passwords import generate_password
from portal import fmt
from portal.db import get_engine
from portal.errors import PortalError
from portal.settings import load_settings

ROLE_LABELS = {"staff": "despacho", "client": "cliente"}


class SpanishParser(argparse.ArgumentParser):
    """argparse with a Spanish lead-in for its (English) error messages."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"Error en los argumentos: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per operation."""
    parser = SpanishParser(prog="python -m auth", description="Usuarios del Portal del Cliente.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=SpanishParser)
    create = commands.add_parser("create-staff", help="Crea un usuario del despacho (contraseña por stdin).")
    create.add_argument("username", help="Nombre de usuario (minúsculas).")
    create.add_argument("--name", default="", help="Nombre y apellidos.")
    create.add_argument("--email", default="", help="Correo electrónico.")
    create.add_argument("--generate", action="store_true", help="Genera una contraseña aleatoria y la muestra una vez.")
    commands.add_parser("list", help="Lista los usuarios (nunca muestra contraseñas ni hashes).")
    for name, text in (
        ("unlock", "Desbloquea un usuario bloqueado por intentos fallidos."),
        ("activate", "Reactiva un usuario."),
        ("deactivate", "Desactiva un usuario y cierra sus sesiones."),
    ):
        commands.add_parser(name, help=text).add_argument("username", help="Nombre de usuario.")
    return parser


def read_password() -> str:
    """The new password: asked twice on a terminal, else one line of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass("Contraseña: ")
        if getpass.getpass("Repita la contraseña: ") != first:
            raise PortalError("Las dos contraseñas no coinciden.")
        return first
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise PortalError("No se ha recibido ninguna contraseña por la entrada estándar.")
    return line


def create_staff(engine, args: argparse.Namespace) -> None:
    """Create a staff user; with --generate, print the new password once."""
    password = generate_password() if args.generate else read_password()
    users.create_user(engine, args.username, password, role="staff", name=args.name, email=args.email)
    print(f"Usuario «{users.normalize_username(args.username)}» creado (personal del despacho).")
    if args.generate:
        print(f"Contraseña (se muestra solo esta vez): {password}")


def list_all(engine) -> None:
    """Print username, role, state and last sign-in of every user."""
    rows = users.list_users(engine)
    if not rows:
        print("No hay usuarios.")
        return
    print(f"{'usuario':<24} {'rol':<9} {'activo':<7} {'bloqueado':<10} último acceso")
    for user in rows:
        active = "sí" if user["active"] else "no"
        locked = "sí" if users.is_locked(user) else "no"
        last = fmt.datetime_es(user["last_login_at"])
        print(
            f"{user['username']:<24} {ROLE_LABELS.get(user['role'], user['role']):<9} {active:<7} {locked:<10} {last}"
        )


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 1 with a Spanish message on a refused operation."""
    args = build_parser().parse_args(argv)
    try:
        engine = get_engine(load_settings().db_url)
        if args.command == "create-staff":
            create_staff(engine, args)
        elif args.command == "list":
            list_all(engine)
        elif args.command == "unlock":
            users.unlock(engine, users.normalize_username(args.username))
            print(f"Usuario «{args.username}» desbloqueado.")
        else:
            users.set_active(engine, users.normalize_username(args.username), args.command == "activate")
            print(f"Usuario «{args.username}» {'activado' if args.command == 'activate' else 'desactivado'}.")
    except PortalError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
