"""Command line for portal users, clients and grants: ``python -m auth <command>`` (``--help`` lists them)."""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import sys
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth import access, accounts, mfa, users
from auth.passwords import generate_password
from portal import audit, fmt
from portal.db import companies, get_engine
from portal.errors import PortalError
from portal.settings import Settings, load_settings, restrict_new_files

ROLE_LABELS = {"staff": "despacho", "client": "cliente"}
CSV_COLUMNS = ("usuario", "email", "email_despacho", "cliente", "empresas", "modulos", "intentos", "caduca")
DEFAULT_ATTEMPTS = 5


class SpanishParser(argparse.ArgumentParser):
    """argparse with a Spanish lead-in for its (English) error messages."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"Error en los argumentos: {message}\n")


def _module_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--modules", required=required, default="", help=f"Módulos: {', '.join(access.MODULES)}.")
    parser.add_argument("--cases", choices=tuple(access.CASE_SCOPES), help="Expedientes: open, closed o both.")
    parser.add_argument("--labour-tables", default="", help=f"Tablas laborales: {', '.join(access.LABOUR_TABLES)}.")


def build_parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per operation."""
    parser = SpanishParser(prog="python -m auth", description="Usuarios del Portal del Cliente.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=SpanishParser)

    create = commands.add_parser("create-staff", help="Crea un usuario del despacho (contraseña por stdin).")
    create.add_argument("username", help="Nombre de usuario (minúsculas).")
    create.add_argument("--name", default="", help="Nombre y apellidos.")
    create.add_argument("--email", default="", help="Correo electrónico.")
    create.add_argument("--generate", action="store_true", help="Genera una contraseña aleatoria y la muestra una vez.")

    add = commands.add_parser("add-user", help="Crea un usuario cliente (sin contraseña) y le da módulos.")
    add.add_argument("username", help="Código de usuario (el que usa para entrar).")
    add.add_argument("--email", required=True, help="Correo del usuario (adonde van las credenciales).")
    add.add_argument("--office-email", default="", help="Correo del despacho para sus mensajes.")
    add.add_argument("--companies", default="", help="Empresas, separadas por comas.")
    add.add_argument("--client", default=None, help="Cliente del despacho al que pertenece.")
    add.add_argument("--name", default="", help="Nombre y apellidos.")
    add.add_argument("--max-attempts", type=int, default=DEFAULT_ATTEMPTS, help="Intentos fallidos antes del bloqueo.")
    add.add_argument("--expires", default=None, help="Último día de acceso (AAAA-MM-DD o dd/mm/aaaa).")
    add.add_argument("--send", action="store_true", help="Envía por correo el enlace de activación.")
    _module_arguments(add, required=False)

    commands.add_parser("set-password", help="Fija la contraseña de un usuario (leída de stdin).").add_argument(
        "username", help="Código de usuario."
    )
    grant = commands.add_parser("grant", help="Da módulos de una empresa a un usuario (conserva los demás).")
    grant.add_argument("username", help="Código de usuario.")
    grant.add_argument("--company", required=True, help="Empresa.")
    _module_arguments(grant, required=True)
    revoke = commands.add_parser("revoke", help="Quita módulos de una empresa a un usuario.")
    revoke.add_argument("username", help="Código de usuario.")
    revoke.add_argument("--company", required=True, help="Empresa.")
    revoke.add_argument("--modules", required=True, help="Módulos, separados por comas.")

    commands.add_parser("list", help="Lista los usuarios con su estado y módulos (nunca contraseñas ni hashes).")
    for name, text in (
        ("unlock", "Desbloquea un usuario bloqueado por intentos fallidos."),
        ("activate", "Reactiva un usuario."),
        ("deactivate", "Desactiva un usuario y cierra sus sesiones."),
        ("logout", "Cierra todas las sesiones abiertas de un usuario."),
        ("send-credentials", "Envía al usuario su código y un enlace de activación nuevo."),
        ("mfa-reset", "Borra el segundo factor de un usuario (tendrá que activarlo de nuevo) y cierra sus sesiones."),
        ("mfa-require", "Exige el segundo factor a un usuario."),
        ("mfa-optional", "Deja de exigir el segundo factor a un usuario (salvo que lo exija la política)."),
        ("mfa-status", "Muestra el estado del segundo factor de un usuario."),
    ):
        commands.add_parser(name, help=text).add_argument("username", help="Código de usuario.")

    client = commands.add_parser("add-client", help="Crea un cliente del despacho y le vincula empresas.")
    client.add_argument("code", help="Código del cliente.")
    client.add_argument("--name", required=True, help="Nombre o razón social.")
    client.add_argument("--nif", default="", help="NIF/CIF.")
    client.add_argument("--companies", default="", help="Empresas, separadas por comas.")

    importer = commands.add_parser("import-users", help="Crea usuarios desde un CSV (todo o nada).")
    importer.add_argument("file", type=Path, help=f"CSV UTF-8 con las columnas {';'.join(CSV_COLUMNS)}.")

    log = commands.add_parser("audit", help="Muestra el registro de auditoría.")
    log.add_argument("--user", default=None, help="Usuario que actuó.")
    log.add_argument("--company", default=None, help="Empresa.")
    log.add_argument("--event", default=None, choices=tuple(audit.EVENTS), metavar="EVENTO", help="Tipo de evento.")
    log.add_argument("--since", default=None, help="Desde el día (AAAA-MM-DD o dd/mm/aaaa).")
    log.add_argument("--until", default=None, help="Hasta el día, incluido.")
    return parser


# --- small parsers --------------------------------------------------------------------------------------------------


def cli_actor() -> str:
    """The audit actor of this command: ``cli:<OS user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in the environment nor in the password database
        return "cli:desconocido"


def split_list(text: str | None) -> list[str]:
    """'a, b;c d' -> ['a', 'b', 'c', 'd'] (lists inside one argument or one CSV cell)."""
    return [item for item in (text or "").replace(";", ",").replace("|", ",").replace(" ", ",").split(",") if item]


def parse_day(text: str | None) -> date | None:
    """A day written AAAA-MM-DD or dd/mm/aaaa; empty gives None; anything else a Spanish PortalError."""
    if not text or not text.strip():
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise PortalError(f"Fecha no válida: «{text.strip()}» (use AAAA-MM-DD o dd/mm/aaaa).")


def module_options(modules: list[str], cases: str | None = None, labour_tables: str = "") -> dict[str, dict]:
    """Module -> checked options for the modules named (AccessError for an unknown module or option)."""
    chosen = {}
    for module in modules:
        options: dict = {}
        if module == "expedientes" and cases:
            options["cases"] = cases
        if module == "laboral" and split_list(labour_tables):
            options["tables"] = split_list(labour_tables)
        chosen[module] = access.check_options(module, options)
    return chosen


def check_companies(engine: Engine, client: str | None, codes: list[str]) -> None:
    """Each company must exist and, for a user with a client, be linked to that client."""
    if client is not None:
        if client not in {c["code"] for c in access.list_clients(engine)}:
            raise PortalError(f"No existe el cliente «{client}».")
        known = set(access.client_companies(engine, client))
        missing = [code for code in codes if code not in known]
        if missing:
            raise PortalError(f"Empresas no vinculadas al cliente «{client}»: {', '.join(missing)}.")
        return
    with engine.connect() as conn:
        known = set(conn.execute(sa.select(companies.c.code)).scalars())
    missing = [code for code in codes if code not in known]
    if missing:
        raise PortalError(f"Empresas que no existen o aún no tienen datos: {', '.join(missing)}.")


def held_modules(engine: Engine, username: str, company: str) -> dict[str, dict]:
    """Module -> options a user holds now on one company."""
    return {g.module: g.options for g in access.grants_of(engine, username) if g.company == company}


# --- commands ---------------------------------------------------------------------------------------------------------


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


def create_staff(engine: Engine, args: argparse.Namespace) -> None:
    """Create a staff user; with --generate, print the new password once."""
    password = generate_password() if args.generate else read_password()
    users.create_user(engine, args.username, password, role="staff", name=args.name, email=args.email)
    print(f"Usuario «{users.normalize_username(args.username)}» creado (personal del despacho).")
    if args.generate:
        print(f"Contraseña (se muestra solo esta vez): {password}")


def add_user(settings: Settings, engine: Engine, args: argparse.Namespace, actor: str) -> None:
    """Create a client user and its grants (everything checked before anything is created)."""
    login = users.normalize_username(args.username)
    codes = split_list(args.companies)
    chosen = module_options(split_list(args.modules), args.cases, args.labour_tables)
    if chosen and not codes:
        raise PortalError("Indique con --companies las empresas en las que tendrá esos módulos.")
    check_companies(engine, args.client, codes)
    access.create_client_user(
        engine,
        login,
        client_code=args.client,
        email=args.email,
        office_email=args.office_email,
        name=args.name,
        max_attempts=args.max_attempts,
        expires_on=parse_day(args.expires),
        actor=actor,
    )
    for code in codes:
        access.set_grants(engine, login, code, chosen, actor=actor)
    print(f"Usuario «{login}» creado (sin contraseña: la elige con el enlace de activación).")
    if args.send:
        posted = accounts.send_credentials(settings, engine, login, actor=actor)
        print(
            f"Enlace de activación enviado a {args.email.strip()}." if posted.sent else accounts.queued_notice(posted)
        )


def list_all(engine: Engine) -> None:
    """Print every user: role, state, client, expiry, last sign-in, and its companies with their modules."""
    rows = users.list_users(engine)
    if not rows:
        print("No hay usuarios.")
        return
    print(f"{'usuario':<24} {'rol':<9} {'estado':<12} {'cliente':<14} {'caduca':<11} último acceso")
    for user in rows:
        client = access.client_of(engine, user["id"]) or "—"
        print(
            f"{user['username']:<24} {ROLE_LABELS.get(user['role'], user['role']):<9} "
            f"{access.user_state(user):<12} {client:<14} {fmt.date_es(user['expires_on']):<11} "
            f"{fmt.datetime_es(user['last_login_at'])}"
        )
        by_company: dict[str, list[str]] = {}
        for held in access.grants_of(engine, user["username"]):
            by_company.setdefault(held.company, []).append(held.module)
        for company, modules in by_company.items():
            print(f"    {company}: {', '.join(modules)}")


def add_client(engine: Engine, args: argparse.Namespace, actor: str) -> None:
    """Create a client and link its companies."""
    codes = split_list(args.companies)
    check_companies(engine, None, codes)
    access.create_client(engine, args.code, args.name, args.nif, actor=actor)
    for code in codes:
        access.link_company(engine, args.code, code, actor=actor)
    print(f"Cliente «{args.code}» creado{' con ' + ', '.join(codes) if codes else ''}.")


def read_users_csv(engine: Engine, path: Path) -> list[dict]:
    """Every row of the users CSV, checked; a PortalError lists every bad line (by number) when any is bad."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise PortalError(f"No existe el fichero «{path}».") from exc
    except UnicodeDecodeError as exc:
        raise PortalError(f"El fichero «{path}» no está en UTF-8.") from exc
    header = text.splitlines()[0] if text.strip() else ""
    reader = csv.DictReader(io.StringIO(text), delimiter=";" if ";" in header else ",")
    missing = [column for column in CSV_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise PortalError(f"Faltan columnas en la cabecera de «{path.name}»: {', '.join(missing)}.")
    rows, errors, seen = [], [], set()
    for record in reader:
        if not any((value or "").strip() for value in record.values()):
            continue
        try:
            rows.append(_users_csv_row(engine, record, seen))
        except PortalError as exc:
            errors.append(f"  línea {reader.line_num}: {exc}")
    if errors:
        raise PortalError("El fichero tiene errores y no se ha creado ningún usuario:\n" + "\n".join(errors))
    if not rows:
        raise PortalError(f"El fichero «{path.name}» no tiene ningún usuario.")
    return rows


def _users_csv_row(engine: Engine, record: dict, seen: set[str]) -> dict:
    cell = {column: (record.get(column) or "").strip() for column in CSV_COLUMNS}
    login = users.normalize_username(cell["usuario"])
    if login in seen:
        raise PortalError(f"el usuario «{login}» está repetido en el fichero.")
    seen.add(login)
    if users.get_user(engine, login) is not None:
        raise PortalError(f"ya existe un usuario «{login}».")
    access.check_email(cell["email"], "del usuario", required=True)
    access.check_email(cell["email_despacho"], "del despacho", required=False)
    try:
        attempts = int(cell["intentos"]) if cell["intentos"] else DEFAULT_ATTEMPTS
    except ValueError as exc:
        raise PortalError(f"intentos no válido: «{cell['intentos']}» (un número de 1 a 20).") from exc
    access.check_attempts(attempts)
    codes = split_list(cell["empresas"])
    chosen = module_options(split_list(cell["modulos"]))
    if chosen and not codes:
        raise PortalError("hay módulos pero ninguna empresa.")
    client = cell["cliente"] or None
    check_companies(engine, client, codes)
    return dict(
        username=login,
        email=cell["email"],
        office_email=cell["email_despacho"],
        client=client,
        companies=codes,
        modules=chosen,
        max_attempts=attempts,
        expires_on=parse_day(cell["caduca"]),
    )


def import_users(engine: Engine, path: Path, actor: str) -> None:
    """Create every user of the CSV with its grants, only when every line is valid."""
    rows = read_users_csv(engine, path)
    for row in rows:
        access.create_client_user(
            engine,
            row["username"],
            client_code=row["client"],
            email=row["email"],
            office_email=row["office_email"],
            max_attempts=row["max_attempts"],
            expires_on=row["expires_on"],
            actor=actor,
        )
        for code in row["companies"]:
            access.set_grants(engine, row["username"], code, row["modules"], actor=actor)
    print(f"{len(rows)} usuarios creados (sin contraseña; envíeles el acceso con send-credentials).")


def mfa_status(settings: Settings, engine: Engine, username: str) -> None:
    """Print whether the user has a second factor, whether it must, and its unused recovery codes."""
    user = users.get_user(engine, username)
    if user is None:
        raise PortalError(f"No existe el usuario «{username.strip().lower()}».")
    if mfa.enrolled(user):
        left = mfa.remaining_recovery_codes(engine, user["id"])
        print(f"Segundo factor de «{user['username']}»: activado el {fmt.datetime_es(user['mfa_enabled_at'])}.")
        print(f"Códigos de recuperación sin usar: {left}.")
    else:
        print(f"Segundo factor de «{user['username']}»: no activado.")
    if user["role"] == "staff":
        why = "sí (personal del despacho: siempre)"
    elif user["mfa_required"]:
        why = "sí (lo exige el despacho para este usuario)"
    elif mfa.required(settings, engine, user):
        why = f"sí (política PORTAL_MFA_REQUIRED={settings.mfa_required})"
    else:
        why = "no"
    print(f"Obligatorio: {why}.")


def show_audit(engine: Engine, args: argparse.Namespace) -> None:
    """Print the audit log entries matching the filters, newest first."""
    rows = audit.entries(
        engine,
        about=args.user,
        company=args.company,
        event=args.event,
        since=parse_day(args.since),
        until=parse_day(args.until),
    )
    if not rows:
        print("No hay eventos con esos filtros.")
        return
    for row in rows:
        label = audit.EVENTS.get(row["event"], row["event"])
        parts = [fmt.datetime_es(row["at"]), label, row["actor"] or "—", row["company"] or "—", row["target"] or "—"]
        print(" | ".join([*parts, row["detail"]]) if row["detail"] else " | ".join(parts))


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 1 with a Spanish message on a refused operation."""
    args = build_parser().parse_args(argv)
    actor = cli_actor()
    try:
        settings = load_settings()
        engine = get_engine(settings.db_url)
        command = args.command
        if command == "create-staff":
            create_staff(engine, args)
        elif command == "add-user":
            add_user(settings, engine, args, actor)
        elif command == "set-password":
            accounts.set_password(settings, engine, args.username, read_password(), actor=actor)
            print(f"Contraseña de «{args.username}» cambiada; sus sesiones abiertas se han cerrado.")
        elif command == "grant":
            chosen = module_options(split_list(args.modules), args.cases, args.labour_tables)
            held = held_modules(engine, args.username, args.company)
            access.set_grants(engine, args.username, args.company, {**held, **chosen}, actor=actor)
            print(f"Módulos de «{args.username}» en {args.company}: {', '.join(chosen)} concedidos.")
        elif command == "revoke":
            removed = split_list(args.modules)
            held = held_modules(engine, args.username, args.company)
            kept = {module: options for module, options in held.items() if module not in removed}
            access.set_grants(engine, args.username, args.company, kept, actor=actor)
            print(f"Módulos de «{args.username}» en {args.company}: {', '.join(removed)} retirados.")
        elif command == "list":
            list_all(engine)
        elif command == "unlock":
            accounts.unlock_user(engine, args.username, actor=actor)
            print(f"Usuario «{args.username}» desbloqueado.")
        elif command in ("activate", "deactivate"):
            accounts.set_user_active(engine, args.username, command == "activate", actor=actor)
            print(f"Usuario «{args.username}» {'activado' if command == 'activate' else 'desactivado'}.")
        elif command == "logout":
            accounts.force_logout(engine, args.username, actor=actor)
            print(f"Sesiones de «{args.username}» cerradas.")
        elif command == "send-credentials":
            posted = accounts.send_credentials(settings, engine, args.username, actor=actor)
            print(
                f"Enlace de activación enviado a «{args.username}»." if posted.sent else accounts.queued_notice(posted)
            )
        elif command == "mfa-reset":
            mfa.reset(engine, args.username, actor=actor)
            print(f"Segundo factor de «{args.username}» restablecido; sus sesiones abiertas se han cerrado.")
        elif command in ("mfa-require", "mfa-optional"):
            mfa.set_required(engine, args.username, command == "mfa-require", actor=actor)
            state = "exige" if command == "mfa-require" else "deja de exigir"
            print(f"Se {state} el segundo factor a «{args.username}».")
            if command == "mfa-optional" and mfa.required(settings, engine, users.get_user(engine, args.username)):
                print(f"Aun así lo necesita por la política PORTAL_MFA_REQUIRED={settings.mfa_required} o su rol.")
        elif command == "mfa-status":
            mfa_status(settings, engine, args.username)
        elif command == "add-client":
            add_client(engine, args, actor)
        elif command == "import-users":
            import_users(engine, args.file, actor)
        elif command == "audit":
            show_audit(engine, args)
    except PortalError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    restrict_new_files()
    sys.exit(main())
