"""Demo firm only: clients and client users with varied modules and states, credentials in a private file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth import access, accounts, users
from auth.passwords import PasswordError, generate_password
from portal import clock
from portal.db import companies
from portal.settings import Settings

ACTOR = "sistema:demo"
DEMO_COMPANIES = ("levante", "norte", "labrasa", "mgarcia", "mediterraneo")
DEMO_CLIENTS = (  # code, name, companies
    ("grupo-levante", "Grupo Levante (demo)", ("levante", "mediterraneo")),
    ("norte", "Norte Consultores (demo)", ("norte",)),
    ("labrasa", "La Brasa de Triana (demo)", ("labrasa",)),
    ("mgarcia", "María García López (demo)", ("mgarcia",)),
)
OFFICE_EMAIL = "despacho@asesoria-demo.example"


@dataclass(frozen=True)
class DemoUser:
    """One demo client user: its person's name, client, modules per company, state, and what it shows (Spanish)."""

    username: str
    name: str
    client: str
    modules: dict[str, tuple[str, ...]]  # company -> modules
    shows: str
    expired: bool = False
    locked: bool = False


DEMO_USERS = (
    DemoUser(
        "levante.todo",
        "Vicente Ferrer Llorca",
        "grupo-levante",
        {"levante": access.MODULES},
        "los siete módulos de Suministros Industriales Levante SL",
    ),
    DemoUser(
        "norte.fiscal",
        "Itziar Etxeberria Ruiz",
        "norte",
        {"norte": ("impuestos", "documentos")},
        "solo Impuestos y Documentos de Norte Consultores Asociados SL",
    ),
    DemoUser(
        "grupo.levante",
        "Amparo Sanchis Martí",
        "grupo-levante",
        {
            "levante": ("facturas", "impuestos", "tesoreria", "contabilidad"),
            "mediterraneo": ("facturas", "impuestos", "tesoreria", "contabilidad"),
        },
        "dos empresas (Levante y Mediterráneo), con selector de empresa",
    ),
    DemoUser(
        "labrasa.caducado",
        "Rocío Jiménez Ortega",
        "labrasa",
        {"labrasa": ("laboral", "contabilidad")},
        "cuenta caducada ayer: el acceso se rechaza",
        expired=True,
    ),
    DemoUser(
        "mgarcia.bloqueado",
        "María García López",
        "mgarcia",
        {"mgarcia": ("impuestos", "contabilidad")},
        "cuenta bloqueada por intentos fallidos: el despacho debe desbloquearla",
        locked=True,
    ),
)


def is_demo_firm(engine: Engine) -> bool:
    """True when every company of the bundled demo firm has been loaded."""
    with engine.connect() as conn:
        loaded = set(conn.execute(sa.select(companies.c.code).where(companies.c.code.in_(DEMO_COMPANIES))).scalars())
    return loaded == set(DEMO_COMPANIES)


def ensure_demo_clients(engine: Engine, settings: Settings, path: Path) -> list[tuple[str, str]]:
    """Create the demo clients and client users that are missing; (username, password) of each user created.

    Passwords are generated and appended to ``path`` (0600). A demo user created before demo users had names gets
    its name (only while its name is empty). Does nothing outside the demo firm.
    """
    if not is_demo_firm(engine):
        return []
    existing_clients = {client["code"] for client in access.list_clients(engine)}
    for code, name, linked in DEMO_CLIENTS:
        if code not in existing_clients:
            access.create_client(engine, code, name, actor=ACTOR)
        for company in linked:
            access.link_company(engine, code, company, actor=ACTOR)
    created = []
    for demo in DEMO_USERS:
        existing = users.get_user(engine, demo.username)
        if existing is None:
            created.append((demo.username, _create(engine, settings, demo)))
        elif not existing["name"].strip():
            access.update_client_user(engine, demo.username, actor=ACTOR, name=demo.name)
    if created:
        _append_credentials(path, created)
    return created


def shows(username: str) -> str:
    """What a demo user sees (for the start-up message)."""
    return next((demo.shows for demo in DEMO_USERS if demo.username == username), "")


def _create(engine: Engine, settings: Settings, demo: DemoUser) -> str:
    expires = clock.today_madrid() - timedelta(days=1) if demo.expired else None
    access.create_client_user(
        engine,
        demo.username,
        client_code=demo.client,
        name=demo.name,
        email=f"{demo.username}@cliente-demo.example",
        office_email=OFFICE_EMAIL,
        max_attempts=3 if demo.locked else 5,
        expires_on=expires,
        actor=ACTOR,
    )
    for company, modules in demo.modules.items():
        access.set_grants(engine, demo.username, company, {m: {} for m in modules}, actor=ACTOR)
    password = _set_generated_password(engine, settings, demo.username)
    if demo.locked:
        for _ in range(3):
            users.record_failed_attempt(engine, demo.username)
    return password


def _set_generated_password(engine: Engine, settings: Settings, username: str) -> str:
    while True:  # a random password very rarely contains a context word: draw again
        password = generate_password()
        try:
            accounts.set_password(settings, engine, username, password, actor=ACTOR)
            return password
        except PasswordError:
            continue


def _append_credentials(path: Path, created: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        for username, password in created:
            fh.write(f"\nusuario: {username}\ncontraseña: {password}\nve: {shows(username)}\n")
    os.chmod(path, 0o600)
