"""The demo firm: five client companies (plus an optional very large one) written as the firm's exports."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from etl.demo.companies import COMPANIES
from etl.demo.firm import plan_invoices
from etl.demo.journal import Simulator
from etl.demo.model import FIRST_YEAR
from etl.demo.modules import write_company

BIG_COMPANY = "grancorp"


def generate(
    dest: Path,
    *,
    until: date | None = None,
    big_lines: int | None = None,
    seed: int = 2026,
    progress: Callable[[str], None] | None = None,
) -> list[str]:
    """Write the demo companies' folders under ``dest``; returns the company codes written.

    The output depends only on ``seed`` and ``until`` (default: today): two runs give identical bytes.
    Each demo company folder is replaced as a whole. ``big_lines`` adds ``grancorp``, a company whose
    single journal has exactly that many lines.
    """
    until = until or date.today()
    if until < date(FIRST_YEAR, 1, 1):
        raise ValueError(f"until must be on or after 01/01/{FIRST_YEAR}")
    report = progress or (lambda _message: None)
    dest.mkdir(parents=True, exist_ok=True)
    plan = plan_invoices(COMPANIES, until, seed)
    codes = []
    for company in COMPANIES:
        report(f"Generando {company.code} ({company.name})…")
        folder = dest / company.code
        shutil.rmtree(folder, ignore_errors=True)
        books = Simulator(company, until, seed, plan[company.code]).run()
        write_company(books, folder, seed)
        codes.append(company.code)
    if big_lines:
        from etl.demo.big import write_big_company

        report(f"Generando {BIG_COMPANY} ({big_lines:,} apuntes)…".replace(",", "."))
        folder = dest / BIG_COMPANY
        shutil.rmtree(folder, ignore_errors=True)
        write_big_company(folder, big_lines, until=until, seed=seed)
        codes.append(BIG_COMPANY)
    return codes
