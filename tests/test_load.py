"""The load orchestration end to end: publish, reject, idempotency, manual mode, rollback and the run log."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from etl import service
from etl.store import Store, StoreError
from portal import audit
from portal.settings import Settings, load_settings

HEADER = "fecha;asiento;cuenta;concepto;debe;haber\n"
# Two entries, hand-balanced: a sale of 1.000,00 + 21 % VAT and its collection.
ACME_V1 = HEADER + (
    "15/01/2025;1;4300001;Factura A-1 Cliente Uno;1.210,00;\n"
    "15/01/2025;1;7000000;Factura A-1 Cliente Uno;;1.000,00\n"
    "15/01/2025;1;4770000;Factura A-1 Cliente Uno;;210,00\n"
    "20/02/2025;2;5720001;Cobro A-1;1.210,00;\n"
    "20/02/2025;2;4300001;Cobro A-1;;1.210,00\n"
)
# Version 2 adds a supplier invoice of 500,00 + 105,00 VAT in March.
ACME_V2 = ACME_V1 + (
    "03/03/2025;3;6000000;Compra mercaderías;500,00;\n"
    "03/03/2025;3;4720000;Compra mercaderías;105,00;\n"
    "03/03/2025;3;4000001;Compra mercaderías;;605,00\n"
)
# Entry 2 is off by one cent.
UNBALANCED = HEADER + (
    "15/01/2025;1;4300001;Factura;1.210,00;\n"
    "15/01/2025;1;7000000;Factura;;1.000,00\n"
    "15/01/2025;1;4770000;Factura;;210,00\n"
    "31/01/2025;2;6290000;Gastos varios;1.000,00;\n"
    "31/01/2025;2;5720001;Gastos varios;;999,99\n"
)


def write_company(sources: Path, code: str, journal: str, empresa: dict | None = None) -> Path:
    folder = sources / code
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "diario.csv").write_text(journal, encoding="utf-8")
    if empresa is not None:
        (folder / "empresa.json").write_text(json.dumps(empresa), encoding="utf-8")
    return folder


@pytest.fixture
def settings(tmp_path) -> Settings:
    return load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})


def published_rows(settings: Settings, code: str, query: str) -> list[tuple]:
    snapshot = Store(settings.stores).current(code)
    assert snapshot is not None
    con = duckdb.connect()
    return con.execute(query.replace("{dir}", str(snapshot.path))).fetchall()


def test_a_good_company_is_published_with_its_tables(settings):
    write_company(settings.sources, "acme", ACME_V1, {"nombre": "Acme SL", "nif": "B12345674"})
    [result] = service.load_all(settings)
    assert (result.outcome, result.rows_read, result.errors) == ("published", 5, 0)
    snapshot = Store(settings.stores).current("acme")
    assert snapshot.snapshot_id == result.snapshot_id
    assert snapshot.rows["journal.parquet"] == 5
    assert snapshot.manifest["total_debit"] == "2420.00"
    assert snapshot.manifest["first_date"] == "2025-01-15"
    # Monthly balances per account: 430 is debited in January and credited in February.
    rows = published_rows(
        settings,
        "acme",
        "SELECT year, month, debit, credit FROM '{dir}/monthly_balances.parquet' "
        "WHERE account = '4300001' ORDER BY month",
    )
    assert rows == [(2025, 1, Decimal("1210.00"), Decimal("0.00")), (2025, 2, Decimal("0.00"), Decimal("1210.00"))]
    # The journal is sorted by account then date, and keeps where each line came from.
    first = published_rows(settings, "acme", "SELECT account, source_file, source_line FROM '{dir}/journal.parquet'")
    assert [r[0] for r in first] == sorted(r[0] for r in first)
    assert ("4770000", "acme/diario.csv", 4) in first
    # Every account gets a name (standard PGC names when the firm sends no chart).
    names = dict(published_rows(settings, "acme", "SELECT account, name FROM '{dir}/accounts.parquet'"))
    assert set(names) == {"4300001", "7000000", "4770000", "5720001"}
    assert all(names.values())


def test_the_journal_snapshot_is_sorted_by_account_date_then_file_order_across_files(settings):
    # Two exports (one with a quote in its name), same account and date in both: ties keep file then line order.
    folder = write_company(settings.sources, "acme", ACME_V1)
    (folder / "diario_l'altre.csv").write_text(
        HEADER + "15/01/2025;9;4300001;Segunda factura;100,00;\n15/01/2025;9;7000000;Segunda factura;;100,00\n",
        encoding="utf-8",
    )
    [result] = service.load_all(settings)
    assert result.outcome == "published"
    rows = published_rows(
        settings, "acme", "SELECT account, date, source_file, source_line, entry_type FROM '{dir}/journal.parquet'"
    )
    assert rows == sorted(rows, key=lambda r: (r[0], r[1], r[2], r[3]))
    assert {r[4] for r in rows} == {"normal"}
    assert [r[2:4] for r in rows if r[0] == "4300001"] == [
        ("acme/diario.csv", 2),
        ("acme/diario_l'altre.csv", 2),
        ("acme/diario.csv", 6),
    ]
    manifest = Store(settings.stores).current("acme").manifest
    assert (manifest["journal_lines"], manifest["total_debit"], manifest["total_credit"]) == (7, "2520.00", "2520.00")
    assert manifest["fiscal_years"] == [2025]


def test_a_rejected_company_keeps_its_published_data_and_others_still_load(settings):
    write_company(settings.sources, "acme", ACME_V1)
    write_company(settings.sources, "beta", ACME_V1)
    service.load_all(settings)
    before = Store(settings.stores).current("acme").snapshot_id

    write_company(settings.sources, "acme", UNBALANCED)
    write_company(settings.sources, "beta", ACME_V2)
    acme, beta = service.load_all(settings)

    assert acme.outcome == "rejected"
    assert "descuadrado" in acme.message and "999,99" in acme.message
    assert Store(settings.stores).current("acme").snapshot_id == before
    assert beta.outcome == "published"
    assert Store(settings.stores).current("beta").rows["journal.parquet"] == 8
    problems = service.run_problems(settings, acme.run_id)
    unbalanced = [p for p in problems if p["rule"] == "unbalanced_entry"]
    assert len(unbalanced) == 1
    assert unbalanced[0]["file"] == "acme/diario.csv"
    assert unbalanced[0]["entry"] == "2025/000002"
    assert "1.000,00" in unbalanced[0]["message"]


def test_identical_sources_create_no_new_snapshot(settings):
    write_company(settings.sources, "acme", ACME_V1)
    [first] = service.load_all(settings)
    [second] = service.load_all(settings)
    assert second.outcome == "unchanged"
    assert second.snapshot_id == first.snapshot_id
    assert len(Store(settings.stores).snapshots("acme")) == 1


def test_manual_mode_stages_until_staff_publish(settings):
    write_company(settings.sources, "acme", ACME_V1)
    service.load_all(settings)
    v1 = Store(settings.stores).current("acme").snapshot_id
    service.set_publish_mode(settings, "acme", "manual", actor="tests")

    write_company(settings.sources, "acme", ACME_V2)
    [staged] = service.load_all(settings)
    store = Store(settings.stores)
    assert staged.outcome == "staged"
    assert store.current("acme").snapshot_id == v1
    assert store.pending("acme").snapshot_id == staged.snapshot_id

    assert service.publish_pending(settings, "acme", actor="tests") == staged.snapshot_id
    assert store.current("acme").rows["journal.parquet"] == 8
    assert store.pending("acme") is None
    with pytest.raises(StoreError):
        service.publish_pending(settings, "acme", actor="tests")


def test_rollback_returns_to_the_previous_publication(settings):
    write_company(settings.sources, "acme", ACME_V1)
    [v1] = service.load_all(settings)
    write_company(settings.sources, "acme", ACME_V2)
    [v2] = service.load_all(settings)
    assert v2.outcome == "published"
    assert service.rollback(settings, "acme", actor="tests") == v1.snapshot_id
    assert Store(settings.stores).current("acme").rows["journal.parquet"] == 5


def test_publish_rollback_and_mode_changes_go_to_the_audit_log(settings):
    write_company(settings.sources, "acme", ACME_V1)
    [v1] = service.load_all(settings)
    service.set_publish_mode(settings, "acme", "manual", actor="ana")
    write_company(settings.sources, "acme", ACME_V2)
    [v2] = service.load_all(settings)
    service.publish_pending(settings, "acme", actor="ana")
    service.rollback(settings, "acme", actor="cli:root")
    events = audit.entries(service.engine_of(settings), company="acme")
    assert [(e["event"], e["actor"], e["actor_role"], e["detail"]) for e in reversed(events)] == [
        ("publish_mode_changed", "ana", "staff", "manual"),
        ("publish", "ana", "staff", v2.snapshot_id),
        ("rollback", "cli:root", "system", v1.snapshot_id),
    ]


def test_every_run_is_logged_with_its_outcome(settings):
    write_company(settings.sources, "acme", ACME_V1)
    service.load_all(settings, trigger="portal")
    service.load_all(settings)
    runs = service.recent_runs(settings, company="acme")
    assert [(r["outcome"], r["trigger"]) for r in runs] == [("unchanged", "cli"), ("published", "portal")]
    assert all(r["finished_at"] >= r["started_at"] for r in runs)
    assert runs[1]["rows_read"] == 5


def test_missing_folder_and_missing_journal_are_rejected_in_spanish(settings):
    (settings.sources / "vacia").mkdir(parents=True)
    [empty] = service.load_all(settings, companies=["vacia"])
    assert empty.outcome == "rejected"
    assert "No hay ningún archivo de diario" in empty.message
    [ghost] = service.load_all(settings, companies=["fantasma"])
    assert ghost.outcome == "rejected"
    [evil] = service.load_all(settings, companies=["../etc"])
    assert evil.outcome == "rejected" and "no válido" in evil.message


def test_company_status_lists_published_and_pending(settings):
    write_company(settings.sources, "acme", ACME_V1, {"nombre": "Acme SL"})
    service.load_all(settings)
    [status] = service.company_statuses(settings)
    assert (status.code, status.name, status.publish_mode) == ("acme", "Acme SL", "auto")
    assert status.current is not None and status.pending is None
    assert status.last_run["outcome"] == "published"
