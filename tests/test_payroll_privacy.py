"""Payroll privacy in the books: a blocked employee (by name or NIF/NIE) reads «Empleado bloqueado» in the Diario, the
Mayor, the entries and every export, figures unchanged; the firm's «hide payroll names» choice per company; exports
built only on click."""

from __future__ import annotations

import ast
import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from auth import labour_blocks, passwords, users
from etl import service
from etl.store import Store
from portal import audit
from portal.db import get_engine
from portal.settings import load_settings
from reports import export, journal, ledger
from reports.redaction import BLOCKED, HIDDEN, Redaction, redact, redaction_for
from tests.test_accounting_pages import downloaded, spanish_csv, table  # noqa: F401 - fixture
from tests.test_security import (
    PASSWORD,
    World,
    client,
    everything_drawn,
    journal_rows,
    make_world,
    open_page,
    signed_in,
)

ANA, BRUNO = ("12345678Z", "Alonso Ruiz, Ana"), ("X1234567L", "Bianchi, Bruno")
EMPLOYEES = (
    "nif;naf;nombre;fecha_alta;fecha_baja;motivo_baja;tipo_contrato;descripcion_contrato;categoria;"
    "grupo_cotizacion;jornada;fecha_fin_contrato\n"
    "12345678Z;280000000138;Alonso Ruiz, Ana;01/01/2020;;;100;Indefinido ordinario;Oficial;5;100;\n"
    "X1234567L;280000000239;Bianchi, Bruno;01/01/2024;;;100;Indefinido ordinario;Peón;9;100;\n"
)
PAYROLL = (
    "ejercicio;mes;nif;nombre;dias;bruto;base_cotizacion;ss_trabajador;irpf_porcentaje;irpf;otras_deducciones;"
    "liquido;ss_empresa;coste_empresa\n"
    "2025;1;12345678Z;Alonso Ruiz, Ana;30;2000,00;2000,00;130,00;15,00;300,00;0,00;1570,00;620,00;2620,00\n"
    "2025;1;X1234567L;Bianchi, Bruno;30;1500,00;1500,00;97,50;10,00;150,00;0,00;1252,50;465,00;1965,00\n"
)
# January's payroll (Ana named by her name, in two orders and cases; Bruno only by his NIE, with and without
# separators), its payment in February, and a customer whose name holds Ana's surnames and «Anabel» (never hidden).
JOURNAL = (
    "fecha;asiento;cuenta;concepto;debe;haber;tipo\n"
    "10/01/2025;1;4300000;Factura 7 Alonso Ruiz Anabel SL;1210,00;;normal\n"
    "10/01/2025;1;7000000;Factura 7 Alonso Ruiz Anabel SL;;1000,00;normal\n"
    "10/01/2025;1;4770000;IVA factura 7;;210,00;normal\n"
    "31/01/2025;2;6400000;Nómina 01/2025 Alonso Ruiz, Ana;2000,00;;normal\n"
    "31/01/2025;2;6400000;Nómina 01/2025 NIE X-1234567-L;1500,00;;normal\n"
    "31/01/2025;2;6420000;Seguridad Social empresa 01/2025;1085,00;;normal\n"
    "31/01/2025;2;4760000;Seguridad Social 01/2025;;1312,50;normal\n"
    "31/01/2025;2;4751000;Retenciones IRPF nóminas 01/2025;;450,00;normal\n"
    "31/01/2025;2;4650000;Líquido nómina 01/2025 ANA ALONSO RUIZ;;1570,00;normal\n"
    "31/01/2025;2;4650000;Líquido nómina 01/2025 x1234567l;;1252,50;normal\n"
    "05/02/2025;3;4650000;Pago nómina 01/2025 Álonso Ruíz Ana;1570,00;;normal\n"
    "05/02/2025;3;4650000;Pago nómina 01/2025 X1234567L;1252,50;;normal\n"
    "05/02/2025;3;5720000;Transferencias nóminas 01/2025;;2822,50;normal\n"
)
INVOICE = ["Factura 7 Alonso Ruiz Anabel SL", "Factura 7 Alonso Ruiz Anabel SL", "IVA factura 7"]
ANA_WORDS = ("Ruiz, Ana", "ANA ALONSO", "Ruíz Ana", "12345678Z")
BRUNO_WORDS = ("1234567", "Bianchi", "Bruno")


def concepts(ana: str | None = None, bruno: str | None = None) -> list[str]:
    """The Diario's concepts, newest first, with Ana's and Bruno's lines read as given (None: as booked)."""
    return [
        ana or "Pago nómina 01/2025 Álonso Ruíz Ana",
        bruno or "Pago nómina 01/2025 X1234567L",
        "Transferencias nóminas 01/2025",
        ana or "Nómina 01/2025 Alonso Ruiz, Ana",
        bruno or "Nómina 01/2025 NIE X-1234567-L",
        "Seguridad Social empresa 01/2025",
        "Seguridad Social 01/2025",
        "Retenciones IRPF nóminas 01/2025",
        ana or "Líquido nómina 01/2025 ANA ALONSO RUIZ",
        bruno or "Líquido nómina 01/2025 x1234567l",
        *INVOICE,
    ]


# --- the rule (pure) ------------------------------------------------------------------------------------------------

MATCHES = [
    ("Nómina 01/2025 Alonso Ruiz, Ana", True),
    ("NÓMINA ana alonso ruiz", True),  # first name first, upper and lower case
    ("Pago Álonso-Ruíz Ana", True),  # accents and a hyphen between the surnames
    ("Finiquito 12.345.678-z", True),  # NIF with separators, lower-case letter
    ("ref 12345678 Z", True),
    ("Factura Alonso Ruiz Anabel SL", False),  # whole words only
    ("Ana Alonso", False),  # the full name, not a part of it
    ("Pedido 112345678Z", False),  # another number that ends like the NIF
    ("Nómina 01/2025 NIE X-1234567-L", True),
    ("Líquido x1234567l", True),
    ("Bruno", False),
    ("Bianchi Bruno", True),
    ("Nóminas 01/2025", False),
]


@pytest.mark.parametrize(("text", "hidden"), MATCHES, ids=[m[0] for m in MATCHES])
def test_a_description_naming_a_person_by_full_name_or_nif_is_replaced_whole(text, hidden):
    assert redact([text], [ANA, BRUNO]) == [BLOCKED if hidden else text]


def test_redact_keeps_order_empty_values_and_anyone_else():
    texts = ["Nómina Alonso Ruiz, Ana", None, "Nómina Bianchi, Bruno", "Nómina Alonso Ruiz, Ana", ""]
    assert redact(texts, [ANA]) == [BLOCKED, None, "Nómina Bianchi, Bruno", BLOCKED, ""]
    assert redact(texts, [ANA, BRUNO], HIDDEN) == [HIDDEN, None, HIDDEN, HIDDEN, ""]
    assert redact(texts, []) == texts
    assert redact(["Pago 12345678Z"], [("12345678Z", "")]) == [BLOCKED]  # a blocked NIF with no name in the file


# --- the books read through the rule ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = tmp_path_factory.mktemp("payroll-privacy") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    folder = settings.sources / "nomi"
    (folder / "laboral").mkdir(parents=True)
    (folder / "empresa.json").write_text(
        '{"nombre": "Nóminas Ejemplo SL", "modelo_pgc": "pymes", "ejercicios": [2025]}', encoding="utf-8"
    )
    (folder / "diario.csv").write_text(JOURNAL, encoding="utf-8")
    (folder / "laboral" / "empleados.csv").write_text(EMPLOYEES, encoding="utf-8")
    (folder / "laboral" / "nominas.csv").write_text(PAYROLL, encoding="utf-8")
    [result] = service.load_all(settings, companies=["nomi"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        client(engine, "conta", {"nomi": ["contabilidad"]})
        client(engine, "ambos", {"nomi": ["contabilidad", "laboral"]})
        users.create_user(engine, "sara", PASSWORD, role="staff", name="Sara")
    engine.dispose()
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    return make_world(template, tmp_path, monkeypatch)


def snapshot_of(world: World):
    return Store(world.settings.stores).current("nomi")


def test_who_is_hidden_comes_from_the_snapshot_employees_and_the_blocks(world):
    snapshot = snapshot_of(world)
    assert redaction_for(snapshot, set(), hide_all=False) == Redaction((), BLOCKED)
    assert redaction_for(snapshot, {"12345678Z"}, hide_all=False) == Redaction((ANA,), BLOCKED)
    assert redaction_for(snapshot, {"x-1234567-l"}, hide_all=False) == Redaction((BRUNO,), BLOCKED)
    assert redaction_for(snapshot, {"00000000T"}, hide_all=False) == Redaction((("00000000T", ""),), BLOCKED)
    assert redaction_for(snapshot, set(), hide_all=True) == Redaction((ANA, BRUNO), HIDDEN)


def test_journal_ledger_and_entry_reads_redact_only_the_blocked_one_and_keep_every_figure(world):
    snapshot, hide = snapshot_of(world), Redaction((ANA,), BLOCKED)
    lines = journal.recent_entries(snapshot, limit=100, hide=hide)
    assert list(lines["description"]) == concepts(ana=BLOCKED)
    assert sum(lines["debit"]) == sum(lines["credit"]) == Decimal("8617.50")
    card = ledger.ledger(snapshot, "6400000", date(2025, 1, 1), date(2025, 12, 31), hide=hide)
    assert list(card.rows["description"]) == [BLOCKED, "Nómina 01/2025 NIE X-1234567-L"]
    assert [str(v) for v in card.rows["balance"]] == ["2000.00", "3500.00"]
    assert (card.total_debit, card.closing) == (Decimal("3500.00"), Decimal("3500.00"))
    whole = ledger.whole_ledger(snapshot, "4650000", date(2025, 1, 1), date(2025, 12, 31), hide=hide)
    assert list(whole.rows["description"]) == [
        BLOCKED,
        "Líquido nómina 01/2025 x1234567l",
        BLOCKED,
        "Pago nómina 01/2025 X1234567L",
    ]
    assert [str(v) for v in whole.rows["balance"]] == ["-1570.00", "-2822.50", "-1252.50", "0.00"]
    assert (whole.total_debit, whole.total_credit, whole.closing) == (Decimal("2822.50"), Decimal("2822.50"), 0)
    entry = ledger.entry_lines(snapshot, 2025, 3, hide=hide)
    assert list(entry["description"]) == [BLOCKED, "Pago nómina 01/2025 X1234567L", "Transferencias nóminas 01/2025"]
    assert sum(entry["debit"]) == sum(entry["credit"]) == Decimal("2822.50")


def test_a_search_never_finds_a_line_by_a_hidden_name_only_by_its_account(world):
    snapshot, hide = snapshot_of(world), Redaction((ANA,), BLOCKED)
    assert len(journal.recent_entries(snapshot, text="ana")) == 5  # unredacted: Anabel's 2 lines + Ana's 3
    assert list(journal.recent_entries(snapshot, text="ana", hide=hide)["description"]) == INVOICE[:2]
    assert list(journal.recent_entries(snapshot, text="alonso ruiz, ana", hide=hide)["description"]) == []
    by_account = journal.recent_entries(snapshot, text="640", hide=hide)
    assert list(by_account["description"]) == [BLOCKED, "Nómina 01/2025 NIE X-1234567-L"]
    # the Diario's count agrees: a line it would not show by its concept is not counted either
    assert journal.count_entries(snapshot, text="ana") == 5
    assert journal.count_entries(snapshot, text="ana", hide=hide) == 2
    assert journal.count_entries(snapshot, text="alonso ruiz, ana", hide=hide) == 0
    assert journal.count_entries(snapshot, text="640", hide=hide) == 2
    pages = [journal.recent_entries(snapshot, text="ana", hide=hide, limit=1, offset=n)["description"] for n in (0, 1)]
    assert [list(page) for page in pages] == [INVOICE[:1], INVOICE[1:2]]
    assert journal.recent_entries(snapshot, text="ana", hide=hide, limit=1, offset=2).empty


READS = {"recent_entries", "ledger", "whole_ledger", "entry_lines"}  # every read that returns descriptions
MODULES = ("journal", "ledger")


def test_every_journal_ledger_and_entry_read_of_a_page_passes_the_redaction():
    calls = []
    for path in sorted((Path(__file__).resolve().parents[1] / "views").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = node.func if isinstance(node, ast.Call) else None
            if isinstance(func, ast.Attribute) and func.attr in READS and getattr(func.value, "id", "") in MODULES:
                calls.append((path.name, func.attr, [k.arg for k in node.keywords]))
    assert {(name, attr) for name, attr, _ in calls} >= {
        ("_journal.py", "recent_entries"),  # the Diario's cached reads
        ("_accounting.py", "ledger"),
        ("_accounting.py", "entry_lines"),
        ("contabilidad_mayor.py", "whole_ledger"),
    }
    assert [c for c in calls if "hide" not in c[2]] == []


# --- the pages and their files --------------------------------------------------------------------------------------


def csv_rows(data: bytes) -> list[dict]:
    return spanish_csv(data)


def named(downloaded: dict, prefix: str, suffix: str) -> bytes:  # noqa: F811
    [name] = [n for n in downloaded if n.startswith(prefix) and n.endswith(suffix)]
    return downloaded[name]


def mayor(at, account: str):
    at.text_input[0].input(account[:3]).run()
    [box] = [s for s in at.selectbox if s.label == "Cuenta"]
    box.set_value(account).run()
    assert not at.exception, at.exception
    return at


def test_a_blocked_employee_reads_empleado_bloqueado_on_every_page_and_file(world, downloaded):  # noqa: F811
    labour_blocks.block(world.engine, "nomi", ANA[0], actor="sara", reason="Solicitud del interesado")
    at = open_page(signed_in("conta"), "contabilidad")
    rows = journal_rows(at)
    assert [r[3] for r in rows] == concepts(ana=BLOCKED)
    assert rows[0] == ("05/02/2025", "3", "4650000", BLOCKED, "1.570,00", "")
    diario = list(
        csv.reader(io.StringIO(named(downloaded, "asientos-nomi-", ".csv").decode("utf-8-sig")), delimiter=";")
    )
    assert [r[3] for r in diario[1:]] == concepts(ana=BLOCKED)
    assert sum(Decimal(r[4].replace(",", ".") or 0) for r in diario[1:]) == Decimal("8617.50")
    assert sum(Decimal(r[5].replace(",", ".") or 0) for r in diario[1:]) == Decimal("8617.50")
    assert not [w for w in ANA_WORDS if w in everything_drawn(at)] and "X1234567L" in everything_drawn(at)

    at = mayor(open_page(signed_in("conta"), "contabilidad_mayor"), "6400000")
    assert [(r["Concepto"], r["Debe"], r["Saldo"]) for r in table(at)] == [
        (BLOCKED, "2.000,00 €", "2.000,00 €"),
        ("Nómina 01/2025 NIE X-1234567-L", "1.500,00 €", "3.500,00 €"),
    ]
    assert {m.label: m.value for m in at.metric}["Saldo final"] == "3.500,00 €"
    page = csv_rows(named(downloaded, "mayor-6400000-nomi-", ".csv"))
    whole = csv_rows(named(downloaded, "mayor-completo-6400000-", ".csv"))
    for rows in (page, whole):
        assert [(r["Concepto"], r["Debe"], r["Saldo"]) for r in rows] == [
            (BLOCKED, "2000,00", "2000,00"),
            ("Nómina 01/2025 NIE X-1234567-L", "1500,00", "3500,00"),
        ]
    sheet = openpyxl.load_workbook(io.BytesIO(named(downloaded, "mayor-completo-6400000-", ".xlsx")))["Mayor"]
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert BLOCKED in cells and not [c for c in cells if any(w in str(c) for w in ANA_WORDS)]

    downloaded.clear()
    at = mayor(open_page(signed_in("conta"), "contabilidad_mayor"), "4650000")
    assert [(r["Concepto"], r["Saldo"]) for r in table(at)] == [
        (BLOCKED, "-1.570,00 €"),
        ("Líquido nómina 01/2025 x1234567l", "-2.822,50 €"),
        (BLOCKED, "-1.252,50 €"),
        ("Pago nómina 01/2025 X1234567L", "0,00 €"),
    ]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Total debe"], metrics["Total haber"], metrics["Saldo final"]) == ("2.822,50 €",) * 2 + ("0,00 €",)
    [entry] = [s for s in at.selectbox if s.label == "Ver el asiento completo"]
    entry.set_value((2025, 2, date(2025, 1, 31))).run()
    assert [(r["Cuenta"], r["Concepto"]) for r in table(at, 1)] == [
        ("6400000", BLOCKED),
        ("6400000", "Nómina 01/2025 NIE X-1234567-L"),
        ("6420000", "Seguridad Social empresa 01/2025"),
        ("4760000", "Seguridad Social 01/2025"),
        ("4751000", "Retenciones IRPF nóminas 01/2025"),
        ("4650000", BLOCKED),
        ("4650000", "Líquido nómina 01/2025 x1234567l"),
    ]
    assert [r["Saldo"] for r in csv_rows(named(downloaded, "mayor-completo-4650000-", ".csv"))] == [
        "-1570,00",
        "-2822,50",
        "-1252,50",
        "0,00",
    ]
    assert not [w for w in ANA_WORDS if w in everything_drawn(at)]


def test_hidden_payroll_names_for_users_without_the_labour_module(world, downloaded):  # noqa: F811
    labour_blocks.set_hide_payroll_names(world.engine, "nomi", True, actor="sara")
    labour_blocks.block(world.engine, "nomi", BRUNO[0], actor="sara", reason="Solicitud del interesado")
    at = open_page(signed_in("conta"), "contabilidad")  # only Contabilidad: nobody named (Bruno not singled out)
    assert [r[3] for r in journal_rows(at)] == concepts(ana=HIDDEN, bruno=HIDDEN)
    diario = named(downloaded, "asientos-nomi-", ".csv").decode("utf-8-sig")
    assert not [w for w in ANA_WORDS + BRUNO_WORDS if w in everything_drawn(at) + diario]
    at = mayor(open_page(signed_in("conta"), "contabilidad_mayor"), "6400000")
    assert [(r["Concepto"], r["Saldo"]) for r in table(at)] == [(HIDDEN, "2.000,00 €"), (HIDDEN, "3.500,00 €")]

    downloaded.clear()
    at = open_page(signed_in("ambos"), "contabilidad")  # Laboral too: Ana named, the blocked Bruno still not
    assert [r[3] for r in journal_rows(at)] == concepts(bruno=BLOCKED)
    assert [
        r[3]
        for r in csv.reader(io.StringIO(named(downloaded, "asientos-nomi-", ".csv").decode("utf-8-sig")), delimiter=";")
    ][1:] == concepts(bruno=BLOCKED)


def test_staff_choose_hidden_payroll_names_per_company_on_the_blocking_page_audited(world):
    assert labour_blocks.hides_payroll_names(world.engine, "nomi") is False
    at = open_page(signed_in("sara"), "laboral_bloqueos")
    [box] = [c for c in at.checkbox if c.label.startswith("Ocultar los nombres")]
    assert box.value is False
    box.check()
    [save] = [b for b in at.button if b.label == "Guardar"]
    save.click().run()
    assert not at.exception, at.exception
    assert labour_blocks.hides_payroll_names(world.engine, "nomi") is True
    [event] = audit.entries(world.engine, event="payroll_names_changed")
    assert (event["actor"], event["actor_role"], event["company"]) == ("sara", "staff", "nomi")
    assert event["detail"] == "ocultos sin el módulo laboral"
    labour_blocks.set_hide_payroll_names(world.engine, "nomi", True, actor="sara")  # no change: no event
    labour_blocks.set_hide_payroll_names(world.engine, "nomi", False, actor="sara")
    assert [e["detail"] for e in audit.entries(world.engine, event="payroll_names_changed")] == [
        "visibles",
        "ocultos sin el módulo laboral",
    ]
    with pytest.raises(labour_blocks.BlockError):
        labour_blocks.set_hide_payroll_names(world.engine, "nadie", True, actor="sara")


# --- exports built on click ----------------------------------------------------------------------------------------


def test_no_export_is_built_on_a_rerun_only_when_its_button_is_clicked(world, monkeypatch):
    deferred: dict[str, object] = {}
    real = MediaFileManager.add_deferred

    def keep(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        deferred[file_name] = data_callable
        return real(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    built: list[str] = []
    for module, name in ((export, "to_csv_es"), (export, "to_xlsx"), (export, "statement_pdf"), (journal, "to_csv")):
        original = getattr(module, name)

        def spy(*args, _original=original, _name=f"{module.__name__}.{name}", **kwargs):
            built.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    labour_blocks.block(world.engine, "nomi", ANA[0], actor="sara", reason="Solicitud del interesado")
    open_page(signed_in("conta"), "contabilidad")
    at = mayor(open_page(signed_in("conta"), "contabilidad_mayor"), "6400000")
    open_page(at, "contabilidad_pyg")
    assert built == []  # three pages drawn, not one file built
    assert len(deferred) >= 7  # Diario CSV, ledger page CSV/Excel, whole range CSV/Excel, P&L CSV/Excel/PDF
    [diario] = [f for n, f in deferred.items() if n.startswith("asientos-nomi-")]
    rows = list(csv.reader(io.StringIO(diario().decode("utf-8-sig")), delimiter=";"))
    assert built == ["reports.journal.to_csv"]
    assert rows[1] == ["05/02/2025", "3", "4650000", BLOCKED, "1570,00", "", "Normal"]
    [whole] = [f for n, f in deferred.items() if n.startswith("mayor-completo-6400000-") and n.endswith(".csv")]
    assert [r["Concepto"] for r in csv_rows(whole())] == [BLOCKED, "Nómina 01/2025 NIE X-1234567-L"]
    [pdf] = [f for n, f in deferred.items() if n.startswith("pyg-nomi-") and n.endswith(".pdf")]
    assert pdf().startswith(b"%PDF")
