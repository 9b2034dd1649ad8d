"""Warm caches: the first screens of the P&L and the Diario of published snapshots, built before anyone asks.

A client's first visit after a restart or a publication used to pay for reading the snapshot and building the page
(the Diario of a 5,000,000-line company: about a second on the server). ``Warmer`` builds, in one background thread
of the portal process, what those pages read for a user who hides nobody — their first screens, and the P&L's
charts, whose tab opens on a click — with the same cached functions and arguments, so the first visit finds them,
for the companies published most recently (a publication is what brings clients in: the digest tells them). It looks
for new publications every ``interval`` seconds. A company it cannot read is skipped and tried again at its next
publication; the page then shows its own message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from etl.store import Store, StoreError
from reports import journal, statements
from reports.redaction import Redaction
from views import _accounting, _journal, _pyg

log = logging.getLogger(__name__)
INTERVAL = 30.0  # seconds between looks at the stores' pointers (one small JSON file read per company)


def first_screens(store_root: str, company: str, snapshot_id: str) -> None:
    """Build and cache the P&L (its statement, downloads and charts) and the Diario as a user who hides nobody
    first opens them on this snapshot."""
    snapshot = Store(Path(store_root)).snapshot(company, snapshot_id)
    key = (store_root, company, snapshot_id)
    hide = Redaction()
    spec = _accounting.first_period_spec(snapshot)
    statement = _accounting.pnl(*key, spec)
    _accounting.pnl_rows(*key, spec)
    _pyg.expense_figure(*key, spec, hide.people, hide.label, (statement.label, statement.prior_label))
    _pyg.monthly_figures(*key, _accounting.period_of(statements.calendar_of(snapshot), spec).fiscal_year)
    if journal.has_entries(snapshot):
        first, last = journal.data_dates(snapshot)
        read = (*key, "", first, last, hide.people, hide.label)
        if _journal.entry_count(*read):
            _journal.latest_entries(*read, 1, journal.PAGE_SIZE)


class Warmer:
    """Keeps the first screens of the ``companies`` most recently published companies warm in this process."""

    def __init__(
        self, store_root: Path, companies: int, interval: float = INTERVAL, report: Callable[[str], None] | None = None
    ) -> None:
        self.store = Store(store_root)
        self.companies = companies
        self.interval = interval
        self.report = report  # told, after a round that warmed something, which companies and how long it took
        self.warmed: dict[str, str] = {}  # company -> snapshot id whose first screens are built
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def published(self) -> list[tuple[str, str]]:
        """(company, snapshot id) of the published snapshots, most recently published first."""
        found = []
        for company in self.store.companies():
            try:
                pointer = self.store.publication(company)
            except StoreError:
                continue
            if pointer is not None:
                found.append((str(pointer.get("published_at", "")), company, str(pointer["snapshot_id"])))
        return [(company, snapshot_id) for _, company, snapshot_id in sorted(found, reverse=True)]

    def round(self) -> list[str]:
        """Warm what was published since the last round (up to ``companies``); the companies warmed now."""
        done = []
        for company, snapshot_id in self.published()[: self.companies]:
            if self._stop.is_set():
                break
            if self.warmed.get(company) == snapshot_id:
                continue
            self.warmed[company] = snapshot_id  # once per publication, even when it fails
            try:
                first_screens(str(self.store.root), company, snapshot_id)
            except Exception:  # a damaged or removed snapshot: the page says so to whoever opens it
                log.warning("No se pudo preparar la primera pantalla de %s (%s)", company, snapshot_id, exc_info=True)
                continue
            done.append(company)
        return done

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                started = time.perf_counter()
                done = self.round()
                if done and self.report is not None:
                    self.report(
                        f"Primeras pantallas preparadas: {', '.join(done)} ({time.perf_counter() - started:.1f} s)"
                    )
            except Exception:  # the store folder unreadable for a moment: try again next time
                log.warning("No se pudieron revisar las publicaciones", exc_info=True)
            self._stop.wait(self.interval)

    def start(self) -> Warmer:
        """Run rounds in a daemon thread until ``stop``; nothing when ``companies`` is 0."""
        if self.companies > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="portal-warm-caches", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)  # a round stops between companies; the thread is a daemon anyway
