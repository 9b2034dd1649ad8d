"""Helpers of the office's pages (not a page): search, table rows, state labels, module choices and the audit CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

from auth import access, users
from portal import audit, clock, fmt

ROLE_LABELS = {"staff": "Despacho", "client": "Cliente", "system": "Sistema"}
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # Excel would run these cells as formulas
_EMPTY_ENTRY = {"at": None, "actor": "", "actor_role": "", "event": "", "company": None, "target": None, "detail": ""}


def matches(query: str, *fields: object) -> bool:
    """True when every word of ``query`` appears (case-insensitive) in one of ``fields``; an empty query matches."""
    haystack = " ".join(str(f) for f in fields if f).lower()
    return all(word in haystack for word in query.lower().split())


def datetime_seconds(moment) -> str:
    """A stored moment on the Madrid clock with seconds: '31/12/2025 14:05:09'."""
    return fmt.EMPTY if moment is None else clock.to_madrid(moment).strftime("%d/%m/%Y %H:%M:%S")


# --- clients --------------------------------------------------------------------------------------------------


def client_rows(clients: list[dict], query: str = "") -> list[dict]:
    """One row per client matching ``query`` (code, name, NIF or company)."""
    return [
        {
            "Código": c["code"],
            "Nombre": c["name"],
            "NIF": c["nif"] or fmt.EMPTY,
            "Empresas": ", ".join(c["companies"]) or fmt.EMPTY,
            "Usuarios": fmt.integer(c["users"]),
        }
        for c in clients
        if matches(query, c["code"], c["name"], c["nif"], *c["companies"])
    ]


# --- users ----------------------------------------------------------------------------------------------------


def state_label(user: dict, *, today: date | None = None) -> str:
    """The user's state for the table: 'bloqueado desde 28/11/2026 12:05 (tras 5 intentos fallidos)', 'activo', …"""
    state = access.user_state(user, today=today)
    if state == "bloqueado":
        since = f" desde {fmt.datetime_es(user['locked_at'])}" if user["locked_at"] else ""
        attempts = user["failed_attempts"]
        plural = "s" if attempts != 1 else ""
        return f"bloqueado{since} (tras {attempts} intento{plural} fallido{plural})"
    if state == "caducado":
        return f"caducado el {fmt.date_es(user['expires_on'])}"
    return state


def user_rows(people: list[dict], query: str = "") -> list[dict]:
    """One row per user of ``client_users`` matching ``query`` (code, name, e-mail or client)."""
    return [
        {
            "Usuario": u["username"],
            "Nombre": u["name"] or fmt.EMPTY,
            "Correo": u["email"] or fmt.EMPTY,
            "Cliente": u["client"] or fmt.EMPTY,
            "Estado": u["state"],
            "Empresas": ", ".join(u["companies"]) or fmt.EMPTY,
            "Último acceso": fmt.datetime_es(u["last_login_at"]),
            "Caduca": fmt.date_es(u["expires_on"]),
        }
        for u in people
        if matches(query, u["username"], u["name"], u["email"], u["client"])
    ]


def client_users(engine, *, today: date | None = None) -> list[dict]:
    """Every client user (never its password hash) with its state, client and the companies where it holds modules."""
    found = []
    for user in users.list_users(engine):
        if user["role"] != "client":
            continue
        public = {k: v for k, v in user.items() if k not in ("password_hash", "mfa_secret")}
        public["state"] = state_label(user, today=today)
        public["client"] = access.client_of(engine, user["id"])
        public["companies"] = access.companies_of(engine, user)
        found.append(public)
    return found


def user_label(user: dict) -> str:
    """'ana — Ana García (grupo)' for user pickers."""
    name = f" — {user['name']}" if user["name"] else ""
    client = f" ({user['client']})" if user.get("client") else ""
    return f"{user['username']}{name}{client}"


# --- modules --------------------------------------------------------------------------------------------------


def chosen_modules(checked: dict[str, bool], cases: str, tables: list[str]) -> dict[str, dict]:
    """Module -> options from the form of one company; an AccessError when laboral has no table."""
    chosen = {module: access.default_options(module) for module in access.MODULES if checked.get(module)}
    if "expedientes" in chosen:
        chosen["expedientes"] = {"cases": cases}
    if "laboral" in chosen:
        if not tables:
            raise access.AccessError("Laboral: elija al menos una tabla laboral o desmarque el módulo.")
        chosen["laboral"] = {"tables": list(tables)}
    return chosen


def grants_by_company(grants: list[access.Grant]) -> dict[str, dict[str, dict]]:
    """Company -> module -> options."""
    found: dict[str, dict[str, dict]] = {}
    for g in grants:
        found.setdefault(g.company, {})[g.module] = g.options
    return found


# --- audit ----------------------------------------------------------------------------------------------------


def audit_rows(entries: list[dict]) -> list[dict]:
    """One row per audit entry, newest first, with Spanish labels."""
    return [
        {
            "Fecha y hora": datetime_seconds(e["at"]),
            "Usuario": e["actor"] or fmt.EMPTY,
            "Rol": ROLE_LABELS.get(e["actor_role"], fmt.EMPTY),
            "Evento": audit.EVENTS.get(e["event"], e["event"]),
            "Empresa": e["company"] or fmt.EMPTY,
            "Objeto": e["target"] or fmt.EMPTY,
            "Detalle": e["detail"] or fmt.EMPTY,
        }
        for e in entries
    ]


def csv_cell(value: object) -> str:
    """A cell Excel shows as text: a leading =, +, -, @, tab or CR gets a quote (no formula injection)."""
    text = str(value)
    return "'" + text if text.startswith(CSV_FORMULA_START) else text


def audit_csv(rows: list[dict]) -> bytes:
    """The rows as CSV for a Spanish Excel: UTF-8 with BOM, ';' separated, a header line."""
    columns = list(rows[0] if rows else audit_rows([_EMPTY_ENTRY])[0])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([csv_cell(row[c]) for c in columns] for row in rows)
    return out.getvalue().encode("utf-8-sig")
