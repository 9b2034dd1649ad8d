"""Who sees what: the firm's clients and their companies, client users, module grants, and the one guard."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from stdnum.es import nif as es_nif

from auth import users
from portal import audit
from portal.codes import is_company_code
from portal.db import client_companies as client_companies_table
from portal.db import client_users, clients, companies, grants
from portal.db import users as users_table
from portal.errors import PortalError

MODULES = ("expedientes", "facturas", "documentos", "impuestos", "laboral", "tesoreria", "contabilidad")
MODULE_LABELS = {
    "expedientes": "Expedientes",
    "facturas": "Facturas del despacho",
    "documentos": "Documentos",
    "impuestos": "Impuestos",
    "laboral": "Laboral",
    "tesoreria": "Tesorería",
    "contabilidad": "Contabilidad",
}
CASE_SCOPES = {"open": "Abiertos", "closed": "Cerrados", "both": "Abiertos y cerrados"}
LABOUR_TABLES = {
    "resumen_nominas": "Resumen mensual de nóminas",
    "coste_empleado": "Coste de empresa por empleado y mes",
    "plantilla_media": "Plantilla media y su evolución",
    "altas_bajas": "Altas y bajas",
    "fin_contratos": "Contratos que terminan (30/60/90 días)",
    "absentismo": "Bajas por enfermedad y absentismo",
}
USER_STATES = ("activo", "bloqueado", "caducado", "sin activar", "desactivado")


class AccessError(PortalError):
    """An access operation the portal refuses; the message says why, in Spanish."""


class AccessDenied(AccessError):
    """The guard refused a user a company's module (already written to the audit log)."""


@dataclass(frozen=True)
class Grant:
    """One module of one company that a user may see, with the module's options."""

    company: str
    module: str
    options: dict = field(default_factory=dict, hash=False, compare=True)


def default_options(module: str) -> dict:
    """The options a module starts with: every case file, every labour table, nothing for the rest."""
    if module == "expedientes":
        return {"cases": "both"}
    if module == "laboral":
        return {"tables": list(LABOUR_TABLES)}
    return {}


def check_options(module: str, options: dict | None) -> dict:
    """The module's options, completed with defaults and validated; an AccessError names what is wrong."""
    if module not in MODULES:
        raise AccessError(f"Módulo desconocido: «{module}». Módulos: {', '.join(MODULES)}.")
    merged = {**default_options(module), **(options or {})}
    if module == "expedientes" and merged["cases"] not in CASE_SCOPES:
        raise AccessError(f"Expedientes: «{merged['cases']}» no es válido (open, closed o both).")
    if module == "laboral":
        unknown = [t for t in merged["tables"] if t not in LABOUR_TABLES]
        if unknown:
            valid = ", ".join(LABOUR_TABLES)
            raise AccessError(f"Tablas laborales desconocidas: {', '.join(unknown)}. Válidas: {valid}.")
        merged["tables"] = [t for t in LABOUR_TABLES if t in merged["tables"]]
    extra = set(merged) - set(default_options(module))
    if extra:
        raise AccessError(f"Opciones no válidas para {MODULE_LABELS[module]}: {', '.join(sorted(extra))}.")
    return merged


# --- clients and their companies -----------------------------------------------------------------------------


def check_nif(nif: str) -> str:
    """The NIF/CIF/NIE in its compact form, or an AccessError in Spanish; empty stays empty."""
    if not nif.strip():
        return ""
    try:
        return es_nif.validate(nif)
    except Exception as exc:  # stdnum raises its own ValidationError subclasses
        raise AccessError(f"NIF no válido: «{nif.strip()}» (revise la letra de control y la longitud).") from exc


def _check_code(code: str, what: str) -> str:
    if not is_company_code(code):
        raise AccessError(
            f"Código de {what} no válido: «{code}». Use hasta 32 letras sin tilde, cifras, guion o guion bajo."
        )
    return code


def create_client(engine: Engine, code: str, name: str, nif: str = "", *, actor: str) -> None:
    """Create one of the firm's clients (code, name, validated NIF)."""
    code = _check_code(code.strip(), "cliente")
    if not name.strip():
        raise AccessError("El nombre del cliente es obligatorio.")
    compact = check_nif(nif)
    with engine.begin() as conn:
        if conn.execute(sa.select(clients.c.code).where(clients.c.code == code)).first():
            raise AccessError(f"Ya existe un cliente con el código «{code}».")
        conn.execute(sa.insert(clients).values(code=code, name=name.strip(), nif=compact, created_at=_now()))
        audit.by_staff(conn, "client_created", actor=actor, target=code, detail=name.strip())


def list_clients(engine: Engine) -> list[dict]:
    """Every client with its companies and its number of users, by code."""
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(clients).order_by(clients.c.code))]
        links = conn.execute(sa.select(client_companies_table).order_by(client_companies_table.c.company_code)).all()
        counts = dict(
            conn.execute(
                sa.select(client_users.c.client_code, sa.func.count()).group_by(client_users.c.client_code)
            ).all()
        )
    for row in rows:
        row["companies"] = [company for client, company in links if client == row["code"]]
        row["users"] = counts.get(row["code"], 0)
    return rows


def link_company(engine: Engine, client_code: str, company_code: str, *, actor: str) -> None:
    """Link a company that has a data store to a client (idempotent)."""
    with engine.begin() as conn:
        _require_client(conn, client_code)
        if not conn.execute(sa.select(companies.c.code).where(companies.c.code == company_code)).first():
            raise AccessError(f"La empresa «{company_code}» no existe o aún no tiene datos cargados.")
        exists = conn.execute(
            sa.select(client_companies_table.c.client_code).where(
                client_companies_table.c.client_code == client_code,
                client_companies_table.c.company_code == company_code,
            )
        ).first()
        if exists:
            return
        conn.execute(sa.insert(client_companies_table).values(client_code=client_code, company_code=company_code))
        audit.by_staff(
            conn,
            "client_company_linked",
            actor=actor,
            company=company_code,
            target=client_code,
        )


def unlink_company(engine: Engine, client_code: str, company_code: str, *, actor: str) -> None:
    """Unlink a company from a client; its users lose every grant on that company."""
    with engine.begin() as conn:
        _require_client(conn, client_code)
        removed = conn.execute(
            sa.delete(client_companies_table).where(
                client_companies_table.c.client_code == client_code,
                client_companies_table.c.company_code == company_code,
            )
        ).rowcount
        if not removed:
            return
        members = sa.select(client_users.c.user_id).where(client_users.c.client_code == client_code)
        conn.execute(sa.delete(grants).where(grants.c.company_code == company_code, grants.c.user_id.in_(members)))
        audit.by_staff(
            conn,
            "client_company_unlinked",
            actor=actor,
            company=company_code,
            target=client_code,
        )


def client_companies(engine: Engine, client_code: str) -> list[str]:
    """The company codes linked to a client, sorted."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(client_companies_table.c.company_code)
                .where(client_companies_table.c.client_code == client_code)
                .order_by(client_companies_table.c.company_code)
            ).scalars()
        )


def _require_client(conn: Connection, client_code: str) -> None:
    if not conn.execute(sa.select(clients.c.code).where(clients.c.code == client_code)).first():
        raise AccessError(f"No existe el cliente «{client_code}».")


# --- client users ---------------------------------------------------------------------------------------------


def create_client_user(
    engine: Engine,
    username: str,
    *,
    client_code: str | None,
    email: str,
    office_email: str = "",
    name: str = "",
    max_attempts: int = 5,
    expires_on: date | None = None,
    actor: str,
) -> int:
    """Create a client user with no password (it sets one through the e-mailed link); its id."""
    login = users.normalize_username(username)
    check_email(email, "del usuario", required=True)
    check_email(office_email, "del despacho", required=False)
    check_attempts(max_attempts)
    with engine.begin() as conn:
        if client_code is not None:
            _require_client(conn, client_code)
        if conn.execute(sa.select(users_table.c.id).where(users_table.c.username == login)).first():
            raise AccessError(f"Ya existe un usuario «{login}».")
        user_id = conn.execute(
            sa.insert(users_table).values(
                username=login,
                name=name.strip(),
                email=email.strip(),
                office_email=office_email.strip(),
                role="client",
                password_hash=None,
                active=True,
                failed_attempts=0,
                max_attempts=max_attempts,
                expires_on=expires_on,
                created_at=_now(),
            )
        ).inserted_primary_key[0]
        if client_code is not None:
            conn.execute(sa.insert(client_users).values(user_id=user_id, client_code=client_code))
        audit.by_staff(
            conn,
            "user_created",
            actor=actor,
            target=login,
            detail=f"cliente={client_code or '-'}; intentos={max_attempts}; caduca={expires_on or '-'}",
        )
    return user_id


USER_FIELDS = ("name", "email", "office_email", "max_attempts", "expires_on", "client_code")


def update_client_user(engine: Engine, username: str, *, actor: str, **fields: object) -> None:
    """Change a client user's name, e-mails, attempts allowed, expiry date or client."""
    unknown = set(fields) - set(USER_FIELDS)
    if unknown:
        raise AccessError(f"Campos no modificables: {', '.join(sorted(unknown))}.")
    if "email" in fields:
        check_email(str(fields["email"]), "del usuario", required=True)
    if "office_email" in fields:
        check_email(str(fields["office_email"]), "del despacho", required=False)
    if "max_attempts" in fields:
        check_attempts(int(fields["max_attempts"]))  # type: ignore[arg-type]
    client_code = fields.pop("client_code", ...)
    with engine.begin() as conn:
        user = _client_user(conn, username)
        values = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
        if values:
            conn.execute(sa.update(users_table).where(users_table.c.id == user["id"]).values(**values))
        if client_code is not ...:
            conn.execute(sa.delete(client_users).where(client_users.c.user_id == user["id"]))
            if client_code is not None:
                _require_client(conn, str(client_code))
                conn.execute(sa.insert(client_users).values(user_id=user["id"], client_code=client_code))
            conn.execute(sa.delete(grants).where(grants.c.user_id == user["id"]))  # a new client: grants start over
            values["client_code"] = client_code
        changed = "; ".join(f"{k}={v}" for k, v in sorted(values.items()) if k != "name")
        target = user["username"]
        audit.by_staff(conn, "user_updated", actor=actor, target=target, detail=changed)


def client_of(engine: Engine, user_id: int) -> str | None:
    """The client a user belongs to, or None (staff, or a client user not yet assigned)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(client_users.c.client_code).where(client_users.c.user_id == user_id)).scalar()


def user_state(user: dict, *, today: date | None = None) -> str:
    """The state staff see at a glance: activo, bloqueado, caducado, sin activar or desactivado."""
    problem = users.access_problem(user, today=today)
    return {
        None: "activo",
        "inactive": "desactivado",
        "no_password": "sin activar",
        "locked": "bloqueado",
        "expired": "caducado",
    }[problem]


def _client_user(conn: Connection, username: str) -> dict:
    row = conn.execute(sa.select(users_table).where(users_table.c.username == username.strip().lower())).first()
    if row is None or row.role != "client":
        raise AccessError(f"No existe el usuario cliente «{username}».")
    return dict(row._mapping)


def check_email(value: str, what: str, *, required: bool) -> None:
    """Refuse an e-mail address that cannot be one (``what`` names it in the message); empty only when optional."""
    text = value.strip()
    if not text and not required:
        return
    local, _, domain = text.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in text) or text.count("@") != 1:
        raise AccessError(f"Correo electrónico {what} no válido: «{text}».")


def check_attempts(value: int) -> None:
    """Refuse a number of failed sign-ins allowed outside 1–20."""
    if not 1 <= value <= 20:
        raise AccessError(f"Intentos fallidos permitidos: {value} no es válido (de 1 a 20).")


# --- grants ---------------------------------------------------------------------------------------------------


def set_grants(engine: Engine, username: str, company: str, modules: dict[str, dict], *, actor: str) -> None:
    """Replace the user's modules on one company with ``modules`` (module -> options); ``{}`` removes them all."""
    checked = {module: check_options(module, options) for module, options in modules.items()}
    with engine.begin() as conn:
        user = _client_user(conn, username)
        _check_company_for(conn, user, company)
        conn.execute(sa.delete(grants).where(grants.c.user_id == user["id"], grants.c.company_code == company))
        now = _now()
        for module, options in checked.items():
            conn.execute(
                sa.insert(grants).values(
                    user_id=user["id"],
                    company_code=company,
                    module=module,
                    options=json.dumps(options, sort_keys=True),
                    granted_at=now,
                    granted_by=actor[:64],
                )
            )
        audit.by_staff(
            conn,
            "grants_changed",
            actor=actor,
            company=company,
            target=user["username"],
            detail=", ".join(sorted(checked)) or "ninguno",
        )


def grant(engine: Engine, username: str, company: str, module: str, options: dict | None = None, *, actor: str) -> None:
    """Add (or update) one module of one company for a user, keeping the others."""
    current = {g.module: g.options for g in grants_of(engine, username) if g.company == company}
    set_grants(engine, username, company, {**current, module: options or current.get(module) or {}}, actor=actor)


def revoke(engine: Engine, username: str, company: str, module: str, *, actor: str) -> None:
    """Remove one module of one company from a user."""
    current = {g.module: g.options for g in grants_of(engine, username) if g.company == company}
    current.pop(module, None)
    set_grants(engine, username, company, current, actor=actor)


def grants_of(engine: Engine, username: str) -> list[Grant]:
    """Every grant of a user, by company and module order."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(grants.c.company_code, grants.c.module, grants.c.options)
            .join(users_table, users_table.c.id == grants.c.user_id)
            .where(users_table.c.username == username.strip().lower())
        ).all()
    found = [Grant(company, module, json.loads(options)) for company, module, options in rows]
    return sorted(found, key=lambda g: (g.company, MODULES.index(g.module) if g.module in MODULES else 99))


@dataclass(frozen=True)
class Holdings:
    """A client user's grants as the database has them: company -> module -> options, and each company's name."""

    modules: Mapping[str, Mapping[str, dict]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable) -> Holdings:
        """From (company_code, module, options JSON, company name) rows; rows without a grant are skipped."""
        modules: dict[str, dict[str, dict]] = {}
        names: dict[str, str] = {}
        for company, module, options, name in rows:
            if company is None:
                continue
            modules.setdefault(company, {})[module] = json.loads(options)
            names[company] = name or company
        return cls(modules, names)

    def companies(self) -> list[str]:
        """The companies where the user holds at least one module, sorted."""
        return sorted(self.modules)

    def on(self, company: str) -> dict[str, dict]:
        """Module -> options held on ``company``, in MODULES order."""
        held = self.modules.get(company, {})
        return {module: dict(held[module]) for module in MODULES if module in held}


HOLDINGS_COLUMNS = (grants.c.company_code, grants.c.module, grants.c.options, companies.c.name)


def holdings_of(engine: Engine, user_id: int) -> Holdings:
    """The user's grants and the names of their companies, in one query."""
    query = (
        sa.select(*HOLDINGS_COLUMNS)
        .select_from(grants.outerjoin(companies, companies.c.code == grants.c.company_code))
        .where(grants.c.user_id == user_id)
    )
    with engine.connect() as conn:
        return Holdings.from_rows(conn.execute(query))


@dataclass(frozen=True)
class Click:
    """What the gate read of the signed-in user at the start of this click: the user's row and holdings."""

    user: dict  # the users row as the database had it when this click started
    holdings: Holdings


_this_click: ContextVar[Click | None] = ContextVar("portal_click", default=None)


@contextmanager
def this_click(user_row: dict, holdings: Holdings) -> Iterator[None]:
    """Within it, reads of this user's row and grants use what the gate read for this click (one round trip).

    The gate (``auth.sessions.check``) reads session, user, grants and company names in one query at the start of
    every rerun; the navigation, the company selector and the guard of the page then reuse that reading instead
    of asking the database again a few milliseconds later. Outside it (other threads, the CLI, the ETL) every
    read goes to the database.
    """
    marker = _this_click.set(Click(user_row, holdings))
    try:
        yield
    finally:
        _this_click.reset(marker)


def _click_of(user_id: object = None, username: object = None) -> Click | None:
    """This click's reading when it is of that user (by id or username), else None."""
    click = _this_click.get()
    if click is None:
        return None
    if user_id is not None and click.user["id"] == user_id:
        return click
    if username is not None and click.user["username"] == username:
        return click
    return None


def _holdings(engine: Engine, user: dict) -> Holdings:
    click = _click_of(user_id=user.get("id"))
    return click.holdings if click is not None else holdings_of(engine, user["id"])


def _user_now(engine: Engine, username: str) -> dict | None:
    """The users row: this click's reading when it is of that user, else read from the database."""
    click = _click_of(username=username)
    return dict(click.user) if click is not None else users.get_user(engine, username)


def last_company(engine: Engine, user: dict) -> str | None:
    """The company the user last chose in the selector (this click's reading of the users row); not checked here."""
    row = _user_now(engine, str(user.get("username", "")))
    return row.get("last_company") if row else None


def reconciliations_visible(engine: Engine, company: str) -> bool:
    """Whether staff let the company's clients see «Cuadres» (off until they say so)."""
    with engine.connect() as conn:
        found = conn.execute(sa.select(companies.c.show_reconciliations).where(companies.c.code == company)).scalar()
    return bool(found)


def set_reconciliations_visible(engine: Engine, company: str, visible: bool, *, actor: str) -> None:
    """Let the company's clients (with Contabilidad) see «Cuadres», or stop it; audited."""
    detail = "visibles para los clientes" if visible else "solo para el despacho"
    set_company_flag(
        engine, company, "show_reconciliations", visible, event="reconciliations_visibility", detail=detail, actor=actor
    )


def set_company_flag(
    engine: Engine, company: str, column: str, value: bool, *, event: str, detail: str, actor: str
) -> None:
    """One of the company's yes/no settings (table ``companies``), changed by staff and audited; nothing when unchanged;
    an AccessError when the company does not exist."""
    flag = companies.c[column]
    with engine.begin() as conn:
        changed = conn.execute(
            sa.update(companies)
            .where(companies.c.code == company, flag.is_not(value))
            .values({column: value, "updated_at": datetime.now(UTC)})
        ).rowcount
        if not changed:
            if conn.execute(sa.select(companies.c.code).where(companies.c.code == company)).first() is None:
                raise AccessError(f"La empresa «{company}» no existe.")
            return
        audit.by_staff(conn, event, actor=actor, company=company, target=column, detail=detail)


def companies_of(engine: Engine, user: dict) -> list[str]:
    """The companies where a client user holds at least one module (staff: none), sorted."""
    if user.get("role") != "client":
        return []
    return _holdings(engine, user).companies()


def company_names(engine: Engine, user: dict, codes: list[str]) -> dict[str, str]:
    """Company code -> name for companies the user holds (the code when it has no name; others are not named)."""
    names = _holdings(engine, user).names if user.get("role") == "client" else {}
    return {code: names.get(code) or code for code in codes}


def modules_of(engine: Engine, user: dict, company: str) -> dict[str, dict]:
    """Module -> options the user holds on ``company`` now (this click's reading, or read from the database)."""
    if user.get("role") != "client":
        return {}
    return _holdings(engine, user).on(company)


def _check_company_for(conn: Connection, user: dict, company: str) -> None:
    """A grant's company must exist and, for a user with a client, belong to that client."""
    _check_code(company, "empresa")
    if not conn.execute(sa.select(companies.c.code).where(companies.c.code == company)).first():
        raise AccessError(f"La empresa «{company}» no existe o aún no tiene datos cargados.")
    client = conn.execute(sa.select(client_users.c.client_code).where(client_users.c.user_id == user["id"])).scalar()
    if client is None:
        return
    linked = conn.execute(
        sa.select(client_companies_table.c.company_code).where(
            client_companies_table.c.client_code == client, client_companies_table.c.company_code == company
        )
    ).first()
    if not linked:
        raise AccessError(f"La empresa «{company}» no está vinculada al cliente «{client}» del usuario.")


# --- the guard ------------------------------------------------------------------------------------------------


def guard(engine: Engine, user: dict | None, company: str, module: str, *, today: date | None = None) -> Grant:
    """The one check in front of every client data read: the user as the database has it now, the company, the module.

    Refusals are written to the audit log and raised as AccessDenied (pages show a neutral message).
    """
    username = str((user or {}).get("username", ""))
    reason = _refusal(engine, username, company, module, today)
    if reason is None:
        fresh = _user_now(engine, username)
        assert fresh is not None
        return Grant(company, module, modules_of(engine, fresh, company)[module])
    safe_company = company if isinstance(company, str) and is_company_code(company) else None
    audit.record(
        engine,
        "access_denied",
        actor=username,
        actor_role=str((user or {}).get("role", "")) if (user or {}).get("role") in ("staff", "client") else "",
        company=safe_company,
        target=module if module in MODULES else repr(module)[:60],
        detail=reason if safe_company else f"{reason}; empresa pedida={company!r}"[:300],
    )
    raise AccessDenied("No tiene acceso a estos datos.")


def _refusal(engine: Engine, username: str, company: str, module: str, today: date | None) -> str | None:
    """Why the guard refuses (for the audit log), or None."""
    if not isinstance(company, str) or not is_company_code(company):
        return "código de empresa no válido"
    if module not in MODULES:
        return "módulo desconocido"
    fresh = _user_now(engine, username) if username else None
    problem = users.access_problem(fresh, today=today)
    if problem is not None:
        return f"usuario no válido ({problem})"
    assert fresh is not None
    if fresh["role"] != "client":
        return "no es un usuario cliente"
    if module not in modules_of(engine, fresh, company):
        return "módulo no concedido"
    return None


def _now() -> datetime:
    return datetime.now(UTC)
