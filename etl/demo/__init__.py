"""The demo firm: eight client companies (plus an optional very large one) written as the firm's exports."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from etl.demo.companies import COMPANIES, PACKAGE_COMPANIES
from etl.demo.firm import plan_invoices
from etl.demo.journal import Simulator
from etl.demo.model import FIRST_YEAR
from etl.demo.modules import write_company
from etl.demo.trial_balance import FORMAT as TRIAL_BALANCE_FORMAT
from etl.demo.trial_balance import write_trial_balance_company

BIG_COMPANY = "grancorp"
PACKAGED = {c.code for c in PACKAGE_COMPANIES}


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
    # The firm's invoices go to the companies with a journal (a company with only trial balances has no invoices
    # module, and leaving it out keeps the firm-wide series and the others' books as they were).
    # The companies with another package's journal are left out too, for the same reason.
    billed = tuple(c for c in COMPANIES if c.journal_format != TRIAL_BALANCE_FORMAT and c.code not in PACKAGED)
    plan = plan_invoices(billed, until, seed)
    codes = []
    for company in COMPANIES:
        report(f"Generando {company.code} ({company.name})…")
        folder = dest / company.code
        shutil.rmtree(folder, ignore_errors=True)
        books = Simulator(company, until, seed, plan.get(company.code, [])).run()
        if company.journal_format == TRIAL_BALANCE_FORMAT:  # no journal export: trial balances only
            write_trial_balance_company(books, folder)
        else:
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
