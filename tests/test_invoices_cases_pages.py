"""The «Facturas del despacho» and «Expedientes» pages through AppTest: hand-known figures on a fixed day, the PDF
download audited, no page without the grant, and the case-file scope and sharing flags respected on screen."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from auth import access, passwords, signin
from etl import service
from portal import audit, clock
from portal.db import get_engine
from portal.settings import load_settings
from reports import cases as case_reports
from reports import invoices as invoice_reports
from tests.test_accounting_pages import downloaded, select, spanish_csv, table  # noqa: F401 - fixture
from tests.test_cases import HIDDEN_WORDS
from tests.test_invoices import TODAY, pdf_bytes, write_company
from tests.test_security import (
    ROOT,
    World,
    client,
    everything_drawn,
    make_world,
    open_page,
    request_url_path,
    signed_in,
)
from tests.test_security import texts as drawn_texts
from views import _client

OTHER_WORDS = ("FD-2025-0500", "Factura de Otra", "EXP-2025-900", "Expediente de Otra")


def write_other(sources) -> None:
    """A second company of the same client whose invoice and case file must never reach the first one's pages."""
    folder = write_company(sources, "otra", "Otra Empresa SL")
    (folder / "facturas" / "facturas.csv").write_text(
        "numero;fecha;concepto;base;tipo_iva;cuota_iva;tipo_irpf;retencion_irpf;total;vencimiento;forma_pago;"
        "fecha_cobro\nFD-2025-0500;10/03/2025;Factura de Otra;10,00;21,00;2,10;15,00;1,50;10,60;10/04/2025;"
        "transferencia;\n",
        encoding="utf-8",
    )
    (folder / "facturas" / "lineas.csv").write_text(
        "numero;linea;descripcion;cantidad;precio;importe\nFD-2025-0500;1;Factura de Otra;1;10,00;10,00\n",
        encoding="utf-8",
    )
    for pdf in (folder / "facturas" / "pdf").iterdir():
        pdf.unlink()
    (folder / "expedientes" / "expedientes.csv").write_text(
        "codigo;tipo;titulo;fecha_apertura;fecha_cierre;estado;responsable;compartido\n"
        "EXP-2025-900;Fiscal;Expediente de Otra;01/02/2025;;abierto;Ana Ruiz;s\n",
        encoding="utf-8",
    )
    (folder / "expedientes" / "hitos.csv").write_text(  # a milestone whose text only repeats its state
        "expediente;fecha;tipo;estado;descripcion;compartido\nEXP-2025-900;01/02/2025;hito;abierto;Abierto;s\n",
        encoding="utf-8",
    )
    (folder / "empresa.json").write_text(json.dumps({"nombre": "Otra Empresa SL"}), encoding="utf-8")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = tmp_path_factory.mktemp("invoices-cases-pages") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources)
    write_other(settings.sources)
    results = service.load_all(settings, companies=["desp", "otra"])
    assert [r.outcome for r in results] == ["published", "published"], [r.message for r in results]
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        client(engine, "fina", {"desp": ["facturas", "expedientes"], "otra": ["facturas", "expedientes"]})
        client(engine, "conta", {"desp": ["contabilidad"]})
        for username, scope in (("abie", "open"), ("cerr", "closed")):
            client(engine, username, {})
            access.grant(engine, username, "desp", "expedientes", {"cases": scope}, actor="test")
    engine.dispose()
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    monkeypatch.setattr(clock, "today_madrid", lambda: TODAY)  # the firm's clock on a fixed day: 15/06/2025
    return make_world(template, tmp_path, monkeypatch)


def page_of(username: str, page: str) -> AppTest:
    return open_page(signed_in(username), page)  # fina's first company is desp


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def invoice_events(world: World) -> list[dict]:
    return list(reversed(audit.entries(world.engine, event="invoice_download")))


# --- Facturas del despacho ------------------------------------------------------------------------------------------


def test_facturas_shows_the_newest_year_with_hand_known_states_totals_and_chart(world):
    at = page_of("fina", "facturas")
    assert [t.value for t in at.title] == ["Facturas del despacho"]
    rows = table(at)
    assert [(r["Número"], r["Total"], r["Estado"]) for r in rows] == [
        ("FD-2025-0004", "84,80 €", "Pendiente"),  # due today
        ("FD-2025-0003", "63,60 €", "Vencida"),
        ("FD-2025-0002", "265,53 €", "Pagada"),  # paid late
        ("FD-2025-0001", "106,00 €", "Pagada"),
    ]
    assert metrics(at) == {
        "Facturas": "4",
        "Base imponible": "490,50 €",
        "IVA": "103,01 €",
        "Retención IRPF": "73,58 €",
        "Total": "519,93 €",
    }
    assert "Pendientes de pago: 2 facturas por 148,40 € (1 vencida) a 15/06/2025." in drawn_texts(at)
    [chart] = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    assert spec["data"][0]["y"] == [100.0, 250.5, 0.0, 0.0, 60.0, 80.0]
    assert spec["data"][0]["x"][0] == "Enero 2025" and spec["layout"]["title"]["text"].startswith("Honorarios por mes")
    assert not [w for w in OTHER_WORDS if w in everything_drawn(at)]


def test_facturas_filters_by_year_and_state(world):
    at = page_of("fina", "facturas")
    select(at, "Estado", "overdue")
    assert [r["Número"] for r in table(at)] == ["FD-2025-0003"]
    assert metrics(at)["Total"] == "63,60 €"
    select(at, "Estado", "")
    select(at, "Año", 0)
    assert len(table(at)) == 5 and metrics(at)["Base imponible"] == "1.490,50 €"
    select(at, "Año", 2024)
    assert [(r["Número"], r["Estado"]) for r in table(at)] == [("FD-2024-0090", "Pagada")]


def test_the_pdf_download_is_audited_and_an_invoice_without_pdf_says_so(world, downloaded):  # noqa: F811
    at = page_of("fina", "facturas")
    assert "El despacho no ha publicado el PDF de esta factura." in drawn_texts(at)  # FD-2025-0004, the first
    assert invoice_events(world) == []
    select(at, "Factura", "FD-2025-0002")
    assert [r["Descripción"] for r in table(at, 1)] == ["Iguala mensual 02/2025", "Alta censal (036)"]
    assert downloaded["FD-2025-0002.pdf"] == pdf_bytes("FD-2025-0002")
    [event] = invoice_events(world)
    assert (event["actor"], event["actor_role"], event["company"], event["target"], event["detail"]) == (
        "fina",
        "client",
        "desp",
        "FD-2025-0002",
        "archivo=FD-2025-0002.pdf",
    )


def test_facturas_exports_csv_with_the_hand_known_figures(world, downloaded):  # noqa: F811
    page_of("fina", "facturas")
    [name] = [n for n in downloaded if n.endswith(".csv")]
    assert name.startswith("facturas-desp-")
    rows = spanish_csv(downloaded[name])
    assert [(r["Número"], r["Base imponible"], r["IVA"], r["Total"], r["Estado"]) for r in rows] == [
        ("FD-2025-0004", "80,00", "16,80", "84,80", "Pendiente"),
        ("FD-2025-0003", "60,00", "12,60", "63,60", "Vencida"),
        ("FD-2025-0002", "250,50", "52,61", "265,53", "Pagada"),
        ("FD-2025-0001", "100,00", "21,00", "106,00", "Pagada"),
    ]
    assert any(n.endswith(".xlsx") for n in downloaded)


@pytest.mark.parametrize(
    ("page", "module", "reader"), [("facturas", "facturas", "invoices"), ("expedientes", "expedientes", "case_files")]
)
def test_without_the_grant_there_is_no_page_and_the_script_refuses_and_reads_nothing(
    world, monkeypatch, page, module, reader
):
    at = request_url_path(signed_in("conta"), page)
    assert "No tiene acceso a esta página." in drawn_texts(at)
    target = invoice_reports if module == "facturas" else case_reports
    opened = []
    real = getattr(target, reader)
    monkeypatch.setattr(target, reader, lambda *a, **k: opened.append(a) or real(*a, **k))
    script = AppTest.from_file(str(ROOT / "views" / f"{page}.py"), default_timeout=30)
    script.session_state[signin.USER_KEY] = dict(at.session_state[signin.USER_KEY])
    script.session_state[_client.COMPANY_KEY] = "desp"
    script.run()
    assert not script.exception
    assert "No tiene acceso a estos datos." in drawn_texts(script)
    assert not script.dataframe and opened == []
    denied = [e for e in audit.entries(world.engine, event="access_denied") if e["actor"] == "conta"]
    assert [(e["company"], e["target"]) for e in denied][-1:] == [("desp", module)]


def test_the_other_company_shows_only_its_own_invoice_and_case_file(world):
    at = page_of("fina", "facturas")
    at.sidebar.selectbox(key=_client.CHOICE_KEY).set_value("otra").run()
    assert not at.exception, at.exception
    assert [(r["Número"], r["Estado"]) for r in table(at)] == [("FD-2025-0500", "Vencida")]
    open_page(at, "expedientes")
    assert [r["Código"] for r in table(at)] == ["EXP-2025-900"]
    assert "Requerimiento del IVA" not in everything_drawn(at)


# --- Expedientes ----------------------------------------------------------------------------------------------------


def all_timelines(at: AppTest) -> str:
    """Everything drawn while each listed case file's timeline is opened in turn."""
    [box] = [s for s in at.selectbox if s.label == "Expediente"]
    drawn = []
    for code in box.options:
        select(at, "Expediente", code.split(" · ")[0])
        drawn.append(everything_drawn(at))
    return "\n".join(drawn)


@pytest.mark.parametrize(
    ("username", "codes"),
    [
        ("fina", ["EXP-2025-003", "EXP-2025-001", "EXP-2024-001", "EXP-2023-001"]),  # both (the default)
        ("abie", ["EXP-2025-003", "EXP-2025-001"]),
        ("cerr", ["EXP-2024-001", "EXP-2023-001"]),
    ],
)
def test_expedientes_lists_only_shared_case_files_of_the_grant_scope_and_never_an_internal_one(world, username, codes):
    at = page_of(username, "expedientes")
    assert [t.value for t in at.title] == ["Expedientes"]
    assert [r["Código"] for r in table(at)] == codes
    shown = all_timelines(at)
    assert not [w for w in HIDDEN_WORDS + OTHER_WORDS if w in shown]


def test_a_timeline_lists_the_shared_milestones_in_order(world):
    at = page_of("abie", "expedientes")
    select(at, "Expediente", "EXP-2025-001")
    lines = [m.value.replace("\\", "") for m in at.markdown if m.value.startswith("**")]
    assert lines == [
        "**01/02/2025** · Hito · Abierto — Requerimiento recibido",
        "**05/02/2025** · Plazo — Plazo de contestación: 10 días hábiles",
        "**12/02/2025** · Hito · En trámite — Preparando la contestación",
    ]
    assert "Se muestran los expedientes abiertos que el despacho comparte con usted." in drawn_texts(at)


def test_a_milestone_that_only_repeats_its_state_shows_the_state_once(world):
    at = page_of("fina", "expedientes")
    at.sidebar.selectbox(key=_client.CHOICE_KEY).set_value("otra").run()
    assert not at.exception, at.exception
    lines = [m.value.replace("\\", "") for m in at.markdown if m.value.startswith("**")]
    assert lines == ["**01/02/2025** · Hito · Abierto"]  # not «Abierto — Abierto»


def search(at: AppTest):
    return next(t for t in at.text_input if t.label == "Buscar")


def test_expedientes_filters_by_type_state_and_text(world):
    at = page_of("fina", "expedientes")
    select(at, "Tipo", "Contable / mercantil")
    assert [r["Código"] for r in table(at)] == ["EXP-2024-001"]
    select(at, "Tipo", "")
    select(at, "Estado", "archivado")
    assert [(r["Código"], r["Estado"]) for r in table(at)] == [("EXP-2023-001", "Archivado")]
    select(at, "Estado", "")
    search(at).input("tgss").run()
    assert [r["Código"] for r in table(at)] == ["EXP-2025-003"]
    search(at).input("despido").run()
    assert not at.dataframe and "Ningún expediente cumple los filtros." in drawn_texts(at)
