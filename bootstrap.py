"""Prepare the portal for ``make run``: demo exports when there are none, a load, a staff account and demo clients."""

from __future__ import annotations

import os
import sys

from auth.demo import DEMO_USERS, ensure_demo_clients, is_demo_firm
from auth.users import ensure_demo_staff
from etl import service
from etl.__main__ import main as etl_main
from portal.settings import load_settings, restrict_new_files

CREDENTIALS_FILE = "demo_credentials.txt"


def bootstrap() -> int:
    """Generate the demo firm if the source folder is empty, load every company, print the staff credentials."""
    settings = load_settings()
    if not service.source_companies(settings):
        print(f"No hay exportaciones en {settings.sources}: se genera el despacho de demostración.")
        if etl_main(["demo"]) != 0:
            return 1
    etl_main(["load"])  # a rejected company is shown in the summary and on the staff page; the portal still starts
    path = settings.data_dir / CREDENTIALS_FILE
    engine = service.engine_of(settings)
    created = ensure_demo_staff(engine, path)
    if created:
        user, password = created
        print(f"\nCuenta de despacho creada: usuario «{user}», contraseña «{password}» (guardada en {path}).")
    elif path.exists():
        print(f"\nCredenciales de la cuenta de despacho de demostración: {path}")
    print_demo_clients(ensure_demo_clients(engine, settings, path), is_demo_firm(engine), path)
    print(f"\nPortal del Cliente en http://127.0.0.1:{os.environ.get('PORT', '8501')} (Ctrl+C para detener)\n")
    return 0


def print_demo_clients(created: list[tuple[str, str]], demo: bool, path) -> None:
    """Print every demo client user, what it shows and its password (when just created; else where it is kept)."""
    if not demo:
        return
    passwords = dict(created)
    print("\nUsuarios cliente de demostración:")
    for user in DEMO_USERS:
        password = passwords.get(user.username)
        secret = f"contraseña «{password}»" if password else f"contraseña en {path}"
        print(f"  - «{user.username}», {secret}: {user.shows}")


if __name__ == "__main__":
    restrict_new_files()
    sys.exit(bootstrap())
