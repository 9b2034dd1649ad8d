"""The laboral module: every rejection rule names file and line, the journal cross-check warns, and the six labour
tables give hand-computed figures on a four-employee company (with and without a blocked employee)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from etl import service
from etl.modules import labour
from etl.sources import CompanyInfo
from etl.store import Store
from portal.settings import load_settings
from reports import labour as reports

D = Decimal
ZERO = Decimal(0)
HIDDEN = "11111111H"  # the employee staff block in the tests
EMPLOYEES_HEADER = (
    "nif;naf;nombre;fecha_alta;fecha_baja;motivo_baja;tipo_contrato;descripcion_contrato;categoria;"
    "grupo_cotizacion;jornada;fecha_fin_contrato\n"
)
EMPLOYEES = EMPLOYEES_HEADER + (
    "12345678Z;280000000138;Alonso Ruiz, Ana;01/01/2020;;;100;Indefinido ordinario;Oficial;5;100;\n"
    "X1234567L;280000000239;Bianchi, Bruno;16/03/2025;;;402;Temporal por circunstancias;Peón;9;50;15/12/2025\n"
    "00000000T;280000000340;Castro Gil, Carmen;01/01/2024;31/03/2025;Dimisión;200;Indefinido parcial;Auxiliar;7;50;\n"
    "11111111H;280000000441;Zeta Oculta, Dora;01/01/2023;;;100;Indefinido ordinario;Directora;1;100;30/10/2025\n"
)
PAYROLL_HEADER = (
    "ejercicio;mes;nif;nombre;dias;bruto;base_cotizacion;ss_trabajador;irpf_porcentaje;irpf;otras_deducciones;"
    "liquido;ss_empresa;coste_empresa\n"
)
# (nif, name, days, gross, ss_worker, irpf, other, net, ss_employer, cost) — net and cost hold by hand.
SLIPS = {
    "12345678Z": ("Alonso Ruiz, Ana", 30, "2000,00", "130,00", "300,00", "0,00", "1570,00", "620,00", "2620,00"),
    "00000000T": ("Castro Gil, Carmen", 30, "1000,00", "65,00", "50,00", "100,00", "785,00", "310,00", "1310,00"),
    HIDDEN: ("Zeta Oculta, Dora", 30, "3000,00", "195,00", "600,00", "0,00", "2205,00", "930,00", "3930,00"),
    "X1234567L": ("Bianchi, Bruno", 16, "500,00", "32,50", "10,00", "0,00", "457,50", "160,00", "660,00"),
}


def slip_line(month: int, nif: str) -> str:
    name, days, gross, ssw, irpf, other, net, sse, cost = SLIPS[nif]
    return f"2025;{month};{nif};{name};{days};{gross};{gross};{ssw};10,00;{irpf};{other};{net};{sse};{cost}\n"


PAYROLL = PAYROLL_HEADER + "".join(
    slip_line(m, n) for m in (1, 2, 3) for n in ("12345678Z", "00000000T", HIDDEN) + (("X1234567L",) if m == 3 else ())
)
LEAVE = (
    "nif;nombre;contingencia;fecha_baja;fecha_alta;dias\n"
    "12345678Z;Alonso Ruiz, Ana;Enfermedad común;25/02/2025;05/03/2025;9\n"
    "00000000T;Castro Gil, Carmen;Accidente no laboral;20/03/2025;;\n"
    "11111111H;Zeta Oculta, Dora;Enfermedad común;10/01/2025;19/01/2025;10\n"
)


def amount(text: str) -> Decimal:
    return D(text.replace(",", "."))


def journal(payroll: str = PAYROLL, *, change_640: Decimal = ZERO) -> str:
    """The month-end payroll entries booked from the payroll file (640, 642 / 476, 4751, 460, 465)."""
    lines = ["fecha;asiento;cuenta;concepto;debe;haber;tipo"]
    rows = [r.split(";") for r in payroll.splitlines()[1:]]
    for number, month in enumerate(sorted({int(r[1]) for r in rows}), start=1):
        mine = [r for r in rows if int(r[1]) == month]
        total = {i: sum((amount(r[i]) for r in mine), D(0)) for i in range(5, 14)}
        gross = total[5] + (change_640 if month == 1 else 0)
        day = date(2025, month + 1, 1).toordinal() - 1
        when = date.fromordinal(day).strftime("%d/%m/%Y")
        pairs = [
            ("6400000", gross, 0),
            ("6420000", total[12], 0),
            ("4760000", 0, total[7] + total[12]),
            ("4751000", 0, total[9]),
            ("4600000", 0, total[10]),
            ("4650000", 0, total[11]),
            ("5720000", 0, change_640 if month == 1 else 0),
        ]
        lines += [f"{when};{number};{acc};Nóminas {month:02d}/2025;{d};{h};normal" for acc, d, h in pairs if d or h]
    return "\n".join(line.replace(".", ",") for line in lines) + "\n"


def write_company(sources: Path, code: str = "obra", **files: str) -> Path:
    """A company folder with a journal and the labour files (override any with empleados=, nominas=, bajas=)."""
    folder = sources / code
    (folder / "laboral").mkdir(parents=True, exist_ok=True)
    (folder / "empresa.json").write_text(
        json.dumps({"nombre": "Obras Ejemplo SL", "modelo_pgc": "pymes", "ejercicios": [2025]}), encoding="utf-8"
    )
    contents = {"empleados": EMPLOYEES, "nominas": PAYROLL, "bajas": LEAVE, **files}
    (folder / "diario.csv").write_text(
        files["diario"] if "diario" in files else journal(contents["nominas"]), encoding="utf-8"
    )
    for name in ("empleados", "nominas", "bajas"):
        (folder / "laboral" / f"{name}.csv").write_text(contents[name], encoding="utf-8")
    return folder


def read_folder(tmp_path: Path, **files: str) -> list:
    """The reader's problems on a company folder (a DuckDB connection with an empty journal)."""
    folder = write_company(tmp_path / "src", **files)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE journal (fiscal_year INT, date DATE, entry INT, account VARCHAR, description VARCHAR,"
        " debit DECIMAL(18,2), credit DECIMAL(18,2), entry_type VARCHAR, source_file VARCHAR, source_line INT)"
    )
    return labour.read(con, folder, CompanyInfo(code="obra", name="Obra")).problems


def errors(problems: list) -> list[tuple[str, int | None, str]]:
    return [(p.file, p.line, p.message) for p in problems if p.severity == "error"]


# --- rejection rules: one test each, file + line named ---------------------------------------------------------------


def replace_line(text: str, number: int, old: str, new: str) -> str:
    """Text with ``old`` replaced by ``new`` in line ``number`` (header = 1)."""
    lines = text.splitlines(keepends=True)
    assert old in lines[number - 1], (old, lines[number - 1])
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    return "".join(lines)


EMPLOYEE_CASES = [
    ("12345678Z;", "12345678A;", "nif «12345678A»"),
    ("280000000138", "280000000139", "naf «280000000139»"),
    ("01/01/2020", "31/02/2020", "fecha_alta «31/02/2020» no es una fecha"),
    (";100;Indefinido", ";700;Indefinido", "tipo_contrato «700»"),
    (";5;100;", ";5;0;", "jornada «0» debe ser un número entero entre 1 y 100"),
    (";5;100;", ";5;101;", "jornada «101»"),
    (";5;100;", ";12;100;", "grupo_cotizacion «12»"),
]


@pytest.mark.parametrize(("old", "new", "words"), EMPLOYEE_CASES, ids=[c[2][:20] for c in EMPLOYEE_CASES])
def test_a_bad_employee_field_rejects_naming_file_line_column_and_value(tmp_path, old, new, words):
    problems = read_folder(tmp_path, empleados=replace_line(EMPLOYEES, 2, old, new))
    # (a changed NIF also leaves Alonso's payslips without an employee: those are reported on their own lines)
    [(file, line, message)] = [e for e in errors(problems) if e[0] == "laboral/empleados.csv"]
    assert (file, line) == ("laboral/empleados.csv", 2)
    assert words in message


def test_a_payslip_whose_net_pay_does_not_add_up_rejects_the_load_naming_the_line(tmp_path):
    bad = replace_line(PAYROLL, 3, "785,00", "785,01")  # line 3: Castro, January
    [(file, line, message)] = errors(read_folder(tmp_path, nominas=bad, diario=journal()))
    assert (file, line) == ("laboral/nominas.csv", 3)
    assert message == "bruto − ss_trabajador − irpf − otras_deducciones = 785,00 pero liquido es «785,01»"


def test_through_the_loader_a_wrong_net_pay_keeps_the_company_unpublished(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    write_company(settings.sources, nominas=replace_line(PAYROLL, 4, "2205,00", "2205,10"), diario=journal())
    [result] = service.load_all(settings, companies=["obra"])
    assert result.outcome == "rejected"
    assert "laboral/nominas.csv, línea 4" in result.message
    assert Store(settings.stores).current("obra") is None


def test_a_payslip_whose_employer_cost_is_not_gross_plus_employer_ss_is_rejected(tmp_path):
    bad = replace_line(PAYROLL, 2, "2620,00", "2600,00")
    [(file, line, message)] = errors(read_folder(tmp_path, nominas=bad, diario=journal()))
    assert (file, line, message) == (
        "laboral/nominas.csv",
        2,
        "bruto + ss_empresa = 2620,00 pero coste_empresa es «2600,00»",
    )


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [(";2000,00;2000,00;", ";2000;2000,00;", "bruto «2000» no es un importe"), ("2025;1;", "2025;13;", "mes «13»")],
)
def test_bad_payroll_money_or_month_is_rejected(tmp_path, old, new, words):
    bad = replace_line(PAYROLL, 2, old, new)
    [(file, line, message)] = errors(read_folder(tmp_path, nominas=bad, diario=journal()))
    assert (file, line) == ("laboral/nominas.csv", 2) and words in message


def test_a_payslip_of_someone_not_in_the_employee_file_is_rejected(tmp_path):
    bad = PAYROLL + "2025;4;87654321X;Nadie, Nadia;30;100,00;100,00;0,00;0,00;0,00;0,00;100,00;0,00;100,00\n"
    [(file, line, message)] = errors(read_folder(tmp_path, nominas=bad))
    assert (file, line, message) == ("laboral/nominas.csv", 12, "nif «87654321X» no está en empleados.csv")


def test_a_second_payslip_for_the_same_employee_and_month_is_rejected(tmp_path):
    bad = PAYROLL + slip_line(1, "12345678Z")
    [(file, line, message)] = errors(read_folder(tmp_path, nominas=bad))
    assert (file, line) == ("laboral/nominas.csv", 12) and "ya en la línea 2" in message


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("25/02/2025;05/03/2025;9", "25/02/2025;05/03/2025;8", "dias «8» no coincide con los 9 días"),
        ("25/02/2025;05/03/2025;9", "25/02/2025;20/02/2025;", "fecha_alta «20/02/2025» es anterior a fecha_baja"),
        ("Enfermedad común", "Gripe", "contingencia «Gripe»"),
    ],
)
def test_inconsistent_sick_leave_is_rejected(tmp_path, old, new, words):
    [(file, line, message)] = errors(read_folder(tmp_path, bajas=replace_line(LEAVE, 2, old, new)))
    assert (file, line) == ("laboral/bajas.csv", 2) and words in message


def test_an_open_leave_must_have_no_days(tmp_path):
    bad = replace_line(LEAVE, 3, "20/03/2025;;", "20/03/2025;;5")
    [(file, line, message)] = errors(read_folder(tmp_path, bajas=bad))
    assert (file, line) == ("laboral/bajas.csv", 3) and "dias «5» debe estar vacío" in message


def test_a_missing_column_is_named_at_the_header(tmp_path):
    [(file, line, message)] = errors(read_folder(tmp_path, bajas=LEAVE.replace(";contingencia", ";tipo")))
    assert (file, line, message) == ("laboral/bajas.csv", 1, "Faltan columnas: contingencia (cabecera)")


def test_a_company_without_a_labour_folder_adds_nothing(tmp_path):
    con = duckdb.connect()
    assert labour.read(con, tmp_path, CompanyInfo(code="x", name="x")).tables == {}


# --- the journal cross-check (a warning) -----------------------------------------------------------------------------


def test_payroll_totals_that_differ_from_the_journal_warn_and_still_publish(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    write_company(settings.sources, diario=journal(change_640=D("10.00")))
    [result] = service.load_all(settings, companies=["obra"])
    assert result.outcome == "published", result.message
    assert [p.message for p in result.problems] == [
        "01/2025: Σ bruto de las nóminas = 6000,00 pero la cuenta 640 del diario suma 6010,00"
    ]


# --- the six tables, by hand -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path_factory.mktemp("labour") / "data")})
    write_company(settings.sources)
    [result] = service.load_all(settings, companies=["obra"])
    assert result.outcome == "published" and result.problems == [], result.message
    return Store(settings.stores).current("obra")


BLOCKED = frozenset({HIDDEN})
NONE: frozenset[str] = frozenset()


def test_monthly_payroll_summary(snapshot):
    rows = reports.monthly_payroll(snapshot, BLOCKED, 2025).to_dict("records")
    # January: Alonso + Castro. March adds Bianchi: 2000 + 1000 + 500.
    assert rows[0] == {
        "year": 2025,
        "month": 1,
        "payslips": 2,
        "gross": D("3000.00"),
        "ss_worker": D("195.00"),
        "irpf": D("350.00"),
        "other_deductions": D("100.00"),
        "net": D("2355.00"),
        "ss_employer": D("930.00"),
        "employer_cost": D("3930.00"),
    }
    assert (rows[2]["payslips"], rows[2]["gross"], rows[2]["net"], rows[2]["employer_cost"]) == (
        3,
        D("3500.00"),
        D("2812.50"),
        D("4590.00"),
    )
    assert reports.monthly_payroll(snapshot, NONE, 2025)["gross"].tolist()[0] == D("6000.00")


def test_employer_cost_per_employee_and_month(snapshot):
    frame = reports.employer_cost(snapshot, BLOCKED, 2025)
    assert len(frame) == 7 and HIDDEN not in set(frame["nif"])
    march = frame[(frame["month"] == 3) & (frame["nif"] == "X1234567L")].iloc[0]
    assert (march["days"], march["gross"], march["ss_employer"], march["employer_cost"]) == (
        16,
        D("500.00"),
        D("160.00"),
        D("660.00"),
    )


def test_average_headcount_by_days_and_by_jornada(snapshot):
    frame = reports.average_headcount(snapshot, BLOCKED, start=date(2025, 1, 1), end=date(2025, 4, 30))
    rows = [tuple(r) for r in frame.itertuples(index=False)]
    # March: Alonso 1 + Castro 1 (to 31/03) + Bianchi 16/31 = 0,52; FTE: 1 + 0,5 + 16·0,5/31 = 1,76.
    assert rows == [
        (date(2025, 1, 1), D("2.00"), D("0.00"), D("2.00"), D("1.50"), D("0.00"), D("1.50")),
        (date(2025, 2, 1), D("2.00"), D("0.00"), D("2.00"), D("1.50"), D("0.00"), D("1.50")),
        (date(2025, 3, 1), D("2.00"), D("0.52"), D("2.52"), D("1.50"), D("0.26"), D("1.76")),
        (date(2025, 4, 1), D("1.00"), D("1.00"), D("2.00"), D("1.00"), D("0.50"), D("1.50")),
    ]
    unblocked = reports.average_headcount(snapshot, NONE, start=date(2025, 1, 1), end=date(2025, 1, 31))
    assert unblocked["total"].tolist() == [D("3.00")]


def test_hires_and_leavers(snapshot):
    frame = reports.monthly_moves(snapshot, BLOCKED, start=date(2025, 1, 1), end=date(2025, 4, 30))
    assert [tuple(r) for r in frame.itertuples(index=False)] == [
        (date(2025, 1, 1), 0, 0, 2),
        (date(2025, 2, 1), 0, 0, 2),
        (date(2025, 3, 1), 1, 1, 3),  # Castro still employed on 31/03, her last day
        (date(2025, 4, 1), 0, 0, 2),
    ]
    detail = reports.moves(snapshot, BLOCKED, start=date(2025, 1, 1), end=date(2025, 12, 31))
    assert [(d, k, n, r) for d, k, n, r in detail[["date", "kind", "nif", "reason"]].itertuples(index=False)] == [
        (date(2025, 3, 16), "alta", "X1234567L", ""),
        (date(2025, 3, 31), "baja", "00000000T", "Dimisión"),
    ]


def test_contracts_ending_in_the_next_90_days(snapshot):
    frame = reports.contracts_ending(snapshot, BLOCKED, today=date(2025, 10, 20))
    assert [tuple(r) for r in frame[["contract_end", "nif", "days_left", "window"]].itertuples(index=False)] == [
        (date(2025, 12, 15), "X1234567L", 56, 60)
    ]
    everyone = reports.contracts_ending(snapshot, NONE, today=date(2025, 10, 20))
    assert everyone[["nif", "days_left", "window"]].values.tolist() == [[HIDDEN, 10, 30], ["X1234567L", 56, 60]]
    assert reports.contracts_ending(snapshot, BLOCKED, today=date(2025, 9, 1)).empty  # 105 days away


def test_sick_leave_days_and_absence_rate(snapshot):
    frame = reports.absence(snapshot, BLOCKED, start=date(2025, 1, 1), end=date(2025, 12, 31), today=date(2025, 4, 10))
    # Feb: Alonso 25–28/02 = 4 of 56; Mar: Alonso 1–5 + Castro 20–31 = 17 of 31+31+16 = 78; Apr to the 10th: 0 of 20.
    assert [tuple(r) for r in frame.itertuples(index=False)] == [
        (date(2025, 1, 1), 0, 62, D("0.0000")),
        (date(2025, 2, 1), 4, 56, D("0.0714")),
        (date(2025, 3, 1), 17, 78, D("0.2179")),
        (date(2025, 4, 1), 0, 20, D("0.0000")),
    ]
    jan = reports.absence(snapshot, NONE, start=date(2025, 1, 1), end=date(2025, 1, 31), today=date(2025, 4, 10))
    assert (jan["leave_days"].tolist(), jan["contract_days"].tolist()) == ([10], [93])
    leaves = reports.leave_list(snapshot, BLOCKED, today=date(2025, 4, 10))
    assert leaves[["nif", "days", "open"]].values.tolist() == [["00000000T", 22, True], ["12345678Z", 9, False]]


def test_the_sick_leave_list_keeps_to_the_chosen_year(snapshot):
    today = date(2026, 2, 1)

    def listed(start: date, end: date) -> list[str]:
        return reports.leave_list(snapshot, NONE, today=today, start=start, end=end)["nif"].tolist()

    assert listed(date(2024, 1, 1), date(2024, 12, 31)) == []
    assert listed(date(2025, 1, 1), date(2025, 12, 31)) == ["00000000T", "12345678Z", HIDDEN]
    # Castro's leave is still open: it runs into 2026 and is listed there too, with all its days
    later = reports.leave_list(snapshot, NONE, today=today, start=date(2026, 1, 1), end=date(2026, 12, 31))
    assert later[["nif", "days", "open"]].values.tolist() == [["00000000T", 319, True]]  # 20/03/2025 to 01/02/2026
    assert listed(date(2025, 3, 1), date(2025, 3, 31)) == ["00000000T", "12345678Z"]  # 25/02–05/03 reaches March
    assert listed(date(2025, 1, 20), date(2025, 2, 24)) == []  # Dora's ended on 19/01, Ana's began on 25/02


def test_employees_are_listed_in_spanish_order(tmp_path):
    """Issue 16: the Bloqueos page put «Álvarez» after «Zeta» (sorted by code point)."""
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    eva = "87654321X;280000000542;Álvarez Sanz, Eva;01/01/2024;;;100;Indefinido ordinario;Oficial;5;100;\n"
    write_company(settings.sources, empleados=EMPLOYEES + eva)
    [result] = service.load_all(settings, companies=["obra"])
    assert result.outcome == "published", result.message
    staff = reports.employees(Store(settings.stores).current("obra"), NONE)
    assert staff["name"].tolist() == [
        "Alonso Ruiz, Ana",
        "Álvarez Sanz, Eva",
        "Bianchi, Bruno",
        "Castro Gil, Carmen",
        "Zeta Oculta, Dora",
    ]
