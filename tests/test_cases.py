"""The expedientes module: every rejection rule names file and line, and a client sees only shared case files of
its open/closed scope and only their shared milestones (a hidden case file or note never appears, timeline included).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from etl import service
from etl.modules import cases
from etl.sources import CompanyInfo
from etl.store import Store
from portal.settings import load_settings
from reports import cases as reports
from reports import invoices as invoice_reports

CASES = (
    "codigo;tipo;titulo;fecha_apertura;fecha_cierre;estado;responsable;compartido\n"
    "EXP-2023-001;Subvenciones;Ayuda a la digitalización;01/05/2023;;archivado;Laura Martín;s\n"
    "EXP-2024-001;Contable / mercantil;Cuentas anuales 2023;10/01/2024;30/07/2024;cerrado;Laura Martín;s\n"
    "EXP-2025-001;Fiscal;Requerimiento del IVA 2024;01/02/2025;;en_tramite;Javier Ortega;s\n"
    "EXP-2025-002;Laboral;Despido disciplinario reservado;01/03/2025;;abierto;Ana Ruiz;n\n"
    "EXP-2025-003;Notificaciones;Notificación de la TGSS;05/05/2025;;pendiente_resolucion;Ana Ruiz;s\n"
)
HITOS = (
    "expediente;fecha;tipo;estado;descripcion;compartido\n"
    "EXP-2023-001;01/05/2023;hito;abierto;Solicitud presentada;s\n"
    "EXP-2023-001;20/12/2023;hito;archivado;Ayuda concedida y justificada;s\n"
    "EXP-2024-001;10/01/2024;hito;abierto;Inicio del cierre;s\n"
    "EXP-2024-001;30/07/2024;hito;cerrado;Cuentas depositadas en el Registro;s\n"
    "EXP-2025-001;01/02/2025;hito;abierto;Requerimiento recibido;s\n"
    "EXP-2025-001;05/02/2025;plazo;;Plazo de contestación: 10 días hábiles;s\n"
    "EXP-2025-001;12/02/2025;hito;en_tramite;Preparando la contestación;s\n"
    "EXP-2025-001;20/05/2025;nota;;Nota interna: revisar honorarios pendientes;n\n"
    "EXP-2025-002;01/06/2025;hito;abierto;Carta de despido reservada;s\n"
    "EXP-2025-003;05/05/2025;hito;pendiente_resolucion;Notificación recibida y contestada;s\n"
    "EXP-2025-003;30/06/2025;plazo;;Fecha límite de resolución;s\n"
)
# Words of the internal case file and the internal note: never on a client's screen or in a client's data.
HIDDEN_WORDS = ("EXP-2025-002", "reservad", "Despido", "Nota interna", "honorarios pendientes")
JOURNAL = (
    "fecha;asiento;cuenta;concepto;debe;haber;tipo\n"
    "15/01/2025;1;6230000;Honorarios asesoría;100,00;;normal\n"
    "15/01/2025;1;4100000;Honorarios asesoría;;100,00;normal\n"
)


def write_cases(folder: Path, **files: str | None) -> None:
    """expedientes/ under a company folder (override expedientes=, hitos=; None leaves a file out)."""
    base = folder / "expedientes"
    base.mkdir(parents=True, exist_ok=True)
    for name, default in (("expedientes", CASES), ("hitos", HITOS)):
        content = files.get(name, default)
        if content is not None:
            (base / f"{name}.csv").write_text(content, encoding="utf-8")


def read_folder(tmp_path: Path, **files: str | None):
    """The reader's output on a company folder with only the case files."""
    folder = tmp_path / "src" / "desp"
    write_cases(folder, **files)
    return cases.read(duckdb.connect(), folder, CompanyInfo(code="desp", name="Desp"))


def errors(problems: list) -> list[tuple[str, int | None, str]]:
    return [(p.file, p.line, p.message) for p in problems if p.severity == "error"]


def test_the_hand_files_and_the_demo_format_read_without_problems(tmp_path):
    output = read_folder(tmp_path)
    assert output.problems == []
    assert output.manifest == {"cases": 5, "cases_shared": 4, "case_events": 11, "case_events_shared": 10}
    assert set(output.tables) == {"cases.parquet", "case_events.parquet"}


REJECTIONS = [
    (
        "expedientes",
        CASES.replace("EXP-2025-003;Notif", "EXP-2025-001;Notif"),
        6,
        "codigo «EXP-2025-001» repetido (ya en la línea 4)",
    ),
    ("expedientes", CASES.replace("Subvenciones", "Herencias"), 2, "tipo «Herencias» no es uno de: Fiscal"),
    ("expedientes", CASES.replace(";en_tramite;", ";en_proceso;"), 4, "estado «en_proceso» no es uno de: abierto"),
    (
        "expedientes",
        CASES.replace("01/05/2023;;archivado", "01/05/2023;20/12/2023;archivado"),
        2,
        "fecha_cierre «20/12/2023» solo se rellena con estado «cerrado» (es «archivado»)",
    ),
    (
        "expedientes",
        CASES.replace("10/01/2024;30/07/2024;cerrado", "10/01/2024;;cerrado"),
        3,
        "fecha_cierre está vacía pero estado es «cerrado»",
    ),
    (
        "expedientes",
        CASES.replace("30/07/2024;cerrado", "30/07/2023;cerrado"),
        3,
        "fecha_cierre «30/07/2023» es anterior a fecha_apertura",
    ),
    ("expedientes", CASES.replace("Ana Ruiz;n", "Ana Ruiz;no"), 5, "compartido «no» debe ser s o n"),
    (
        "expedientes",
        CASES.replace("05/05/2025;;pendiente", "2025-05-05;;pendiente"),
        6,
        "fecha_apertura «2025-05-05» no es una fecha dd/mm/aaaa",
    ),
    ("expedientes", CASES.replace("Requerimiento del IVA 2024", ""), 4, "titulo está vacío"),
    (
        "hitos",
        HITOS + "EXP-2022-009;01/01/2025;hito;abierto;Huérfano;s\n",
        13,
        "expediente «EXP-2022-009» no está en expedientes.csv",
    ),
    ("hitos", HITOS.replace("12/02/2025;hito", "32/02/2025;hito"), 8, "fecha «32/02/2025» no es una fecha dd/mm/aaaa"),
    (
        "hitos",
        HITOS.replace("plazo;;Fecha límite", "aviso;;Fecha límite"),
        12,
        "tipo «aviso» no es uno de: hito, nota, plazo",
    ),
    (
        "hitos",
        HITOS.replace("nota;;Nota interna", "nota;abierto;Nota interna"),
        9,
        "estado «abierto» debe estar vacío en una nota",
    ),
    (
        "hitos",
        HITOS.replace("hito;cerrado;Cuentas", "hito;terminado;Cuentas"),
        5,
        "estado «terminado» no es uno de: abierto",
    ),
    (
        "hitos",
        HITOS.replace("Preparando la contestación;s", "Preparando la contestación;S"),
        8,
        "compartido «S» debe ser s o n",
    ),
    ("hitos", HITOS.replace("Inicio del cierre", ""), 4, "descripcion está vacío"),
    ("hitos", HITOS.replace(";compartido\n", "\n"), 1, "Faltan columnas: compartido"),
]


@pytest.mark.parametrize(("name", "content", "line", "message"), REJECTIONS)
def test_each_rejection_rule_names_file_line_column_and_value(tmp_path, name, content, line, message):
    output = read_folder(tmp_path, **{name: content})
    assert (f"expedientes/{name}.csv", line, message) in [
        (f, n, m[: len(message)]) for f, n, m in errors(output.problems)
    ]
    assert output.tables == {}  # an error publishes nothing of the company


def test_milestones_without_their_case_file_are_an_error_and_a_missing_hitos_file_is_not(tmp_path):
    output = read_folder(tmp_path / "a", expedientes=None)
    assert ("expedientes/expedientes.csv", None, "Falta el archivo expedientes.csv") in errors(output.problems)
    output = read_folder(tmp_path / "b", hitos=None)
    assert output.problems == [] and output.manifest["case_events"] == 0


def test_a_milestone_before_its_case_file_opened_is_a_warning(tmp_path):
    output = read_folder(tmp_path, hitos=HITOS.replace("EXP-2024-001;10/01/2024", "EXP-2024-001;09/01/2024"))
    assert [(p.severity, p.file, p.line) for p in output.problems] == [("warning", "expedientes/hitos.csv", 4)]
    assert "anterior a la apertura del expediente EXP-2024-001" in output.problems[0].message


# --- read side --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    data = tmp_path_factory.mktemp("cases") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    folder = settings.sources / "desp"
    write_cases(folder)
    (folder / "diario.csv").write_text(JOURNAL, encoding="utf-8")
    (folder / "empresa.json").write_text(json.dumps({"nombre": "Despacho Cliente SL"}), encoding="utf-8")
    [result] = service.load_all(settings, companies=["desp"])
    assert result.outcome == "published", result.message
    return Store(settings.stores).current("desp")


def test_the_snapshot_keeps_every_row_with_its_sharing_flag(snapshot):
    assert snapshot.rows["cases.parquet"] == 5 and snapshot.rows["case_events.parquet"] == 11


@pytest.mark.parametrize(
    ("scope", "codes"),
    [
        ("open", ["EXP-2025-003", "EXP-2025-001"]),
        ("closed", ["EXP-2024-001", "EXP-2023-001"]),
        ("both", ["EXP-2025-003", "EXP-2025-001", "EXP-2024-001", "EXP-2023-001"]),
    ],
)
def test_only_shared_case_files_of_the_scope_are_listed(snapshot, scope, codes):
    frame = reports.case_files(snapshot, scope)
    assert frame["code"].tolist() == codes
    assert not [w for w in HIDDEN_WORDS if w in frame.to_string()]


def test_archived_counts_as_closed_and_states_have_spanish_labels(snapshot):
    rows = reports.case_files(snapshot, "both").set_index("code")
    assert rows.loc["EXP-2023-001", ["state_label", "is_open"]].tolist() == ["Archivado", False]
    assert rows.loc["EXP-2025-003", ["state_label", "is_open"]].tolist() == ["Pendiente de resolución", True]
    assert rows.loc["EXP-2024-001", "closed"] == date(2024, 7, 30)


def test_the_timeline_shows_shared_milestones_in_date_order_and_never_the_internal_note(snapshot):
    frame = reports.timeline(snapshot, "EXP-2025-001", "open")
    assert list(zip(frame["date"], frame["kind_label"], frame["state_label"], frame["description"], strict=True)) == [
        (date(2025, 2, 1), "Hito", "Abierto", "Requerimiento recibido"),
        (date(2025, 2, 5), "Plazo", "", "Plazo de contestación: 10 días hábiles"),
        (date(2025, 2, 12), "Hito", "En trámite", "Preparando la contestación"),
    ]


def test_a_milestone_that_only_repeats_its_state_has_no_note():
    assert reports.milestone_note("Pendiente de resolución", "Pendiente de resolución") == ""
    assert reports.milestone_note("Pendiente de resolución", " pendiente de resolucion. ") == ""  # case, accents, dot
    assert reports.milestone_note("En trámite", "") == reports.milestone_note("En trámite", None) == ""
    assert reports.milestone_note("En trámite", "Preparando la contestación") == "Preparando la contestación"
    assert reports.milestone_note("", "Plazo de contestación") == "Plazo de contestación"  # a deadline has no state


def test_the_timeline_notes_are_the_descriptions_that_add_to_the_state(snapshot):
    frame = reports.timeline(snapshot, "EXP-2025-003", "open")
    assert list(zip(frame["state_label"], frame["note"], strict=True)) == [
        ("Pendiente de resolución", "Notificación recibida y contestada"),
        ("", "Fecha límite de resolución"),
    ]


@pytest.mark.parametrize(
    ("code", "scope"),
    [
        ("EXP-2025-002", "both"),  # not shared (its own milestone is flagged s: still never shown)
        ("EXP-2025-002", "open"),
        ("EXP-2024-001", "open"),  # closed, outside an open-only grant
        ("EXP-2025-001", "closed"),  # open, outside a closed-only grant
        ("EXP-9999-999", "both"),  # unknown
    ],
)
def test_the_timeline_of_a_case_file_outside_the_users_view_is_empty(snapshot, code, scope):
    assert reports.timeline(snapshot, code, scope).empty


def test_filters_by_type_state_and_literal_text(snapshot):
    frame = reports.case_files(snapshot, "both")
    assert reports.filter_cases(frame, case_type="Fiscal")["code"].tolist() == ["EXP-2025-001"]
    assert reports.filter_cases(frame, state="cerrado")["code"].tolist() == ["EXP-2024-001"]
    assert reports.filter_cases(frame, text="laura")["code"].tolist() == ["EXP-2024-001", "EXP-2023-001"]
    assert reports.filter_cases(frame, text="despido")["code"].tolist() == []  # the internal one stays hidden
    assert reports.filter_cases(frame, text=".*").empty  # text is literal, not a pattern


@pytest.mark.parametrize(
    ("scope", "summary"),
    [
        # 05/05/2025 is the latest shared milestone; 20/05 (internal note), 01/06 (internal case file) and
        # 30/06 (a deadline, not an update) do not count.
        ("both", reports.CaseSummary(2, date(2025, 5, 5))),
        ("open", reports.CaseSummary(2, date(2025, 5, 5))),
        ("closed", reports.CaseSummary(0, date(2024, 7, 30))),
    ],
)
def test_home_summary_counts_open_visible_case_files_and_the_last_shared_update(snapshot, scope, summary):
    assert reports.home_summary(snapshot, scope) == summary


def test_an_unknown_scope_is_refused(snapshot):
    with pytest.raises(ValueError, match="unknown case scope"):
        reports.case_files(snapshot, "all")


def test_every_state_has_a_label_and_the_closed_ones_are_states():
    assert set(reports.STATE_LABELS) == set(cases.STATES)
    assert set(reports.CLOSED_STATES) < set(cases.STATES)


def test_a_snapshot_without_invoices_has_an_empty_invoice_summary(snapshot):
    assert invoice_reports.home_summary(snapshot, date(2025, 6, 15)) == invoice_reports.InvoiceSummary(0, 0, 0)
    assert invoice_reports.pdf(snapshot, "FD-2025-0001") is None and invoice_reports.years(snapshot) == []
