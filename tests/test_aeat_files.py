"""AEAT return files (impuestos/aeat/*.txt): records built here by hand at the positions of the designs, read back
with the layouts of etl/aeat/; a file must agree with its CSV rows; bad files are rejected naming page, position and
field; and the demo's files give exactly the figures of its casillas.csv."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from etl import load, service
from etl.demo import generate
from etl.modules import aeat, taxes
from etl.store import Store
from portal.settings import load_settings
from reports import taxes as reports
from tests.test_taxes import FILING_ROWS, errors, read_folder, write_company

D = Decimal
NAME = "FISCO EJEMPLO SL"
NIF = "B12345674"


# --- building records by hand (positions from the AEAT designs, not from etl/aeat/) --------------------------------


def num(text: str, length: int = 17) -> str:
    """'1000,00' -> '00000000000100000'; '-105,00' -> 'N0000000000010500' (the sign in the first position)."""
    digits = text.lstrip("-").replace(",", "")
    return ("N" + digits.rjust(length - 1, "0")) if text.startswith("-") else digits.rjust(length, "0")


def record(length: int, zeros: tuple[int, int], fields: dict[int, str]) -> str:
    """A page of ``length`` positions: blanks, the numeric area ``zeros`` (first, last) zero-filled, then ``fields``
    (1-based position -> text) placed over it."""
    chars = [" "] * length
    chars[zeros[0] - 1 : zeros[1]] = "0" * (zeros[1] - zeros[0] + 1)
    for position, text in fields.items():
        assert position - 1 + len(text) <= length
        chars[position - 1 : position - 1 + len(text)] = text
    return "".join(chars)


def page01(model: str, year: int, period: str, code: str, length: int, zeros: tuple[int, int], fields: dict) -> str:
    """Page 01: identifier, declaration type (13), NIF (14), name (23), exercise (103), period (107), end tag."""
    head = {1: f"<T{model}01000>", 13: code, 14: NIF, 23: NAME, 103: str(year), 107: period}
    return record(length, zeros, {**head, **fields, length - 11: f"</T{model}01000>"})


def envelope(model: str, year: int, period: str, pages: list[str]) -> bytes:
    """<T{model}0{year}{period}0000><AUX>…300…</AUX>{pages}</T…>, ISO-8859-1, CRLF."""
    tag = f"T{model}0{year}{period}0000>"
    return f"<{tag}<AUX>{' ' * 300}</AUX>{''.join(pages)}</{tag}\r\n".encode("iso-8859-1")


def file_303_2024(period: str = "1T", code: str = "I", **change: str) -> bytes:
    """fisco's 303 of 1T 2024 (test_taxes): 10 % 500,00 / 50,00; 21 % 1.000,00 / 210,00; devengado 260,00; purchases
    400,00 / 84,00; deducible 84,00; result 260,00 − 84,00 = 176,00. Positions of the design for 2023–2025."""
    boxes = {"04": "500,00", "06": "50,00", "07": "1000,00", "09": "210,00", "27": "260,00", "28": "400,00"}
    boxes |= {"29": "84,00", "45": "84,00", "46": "176,00", "66": "176,00", "69": "176,00", "71": "176,00"} | change
    p01 = {247: "04", 269: "06", 286: "07", 308: "09", 617: "27", 634: "28", 651: "29", 923: "45", 940: "46"}
    p03 = {221: "66", 323: "69", 374: "71"}
    one = page01("303", 2024, period, code, 1581, (130, 956), {p: num(boxes[b]) for p, b in p01.items()})
    three = record(1017, (12, 390), {1: "<T30303000>", 216: "10000", **{p: num(boxes[b]) for p, b in p03.items()}})
    three = three[:1005] + "</T30303000>"
    return envelope("303", 2024, period, [one, three])


def put(content: bytes, position: int, text: str) -> bytes:
    """``content`` with ``text`` written at a 1-based position of the whole file."""
    return content[: position - 1] + text.encode("iso-8859-1") + content[position - 1 + len(text) :]


PAGE1 = 17 + 311  # the envelope's tag and <AUX> block come before page 01 (file position = PAGE1 + position)
PAGE3 = PAGE1 + 1581  # page 03 of the 303 follows page 01


# --- reading --------------------------------------------------------------------------------------------------------


def test_a_303_file_gives_its_boxes_its_result_and_its_type():
    found = aeat.parse(file_303_2024())
    assert (found.model, found.year, found.period, found.nif, found.layout) == ("303", 2024, "1T", NIF, "303_2023.csv")
    assert (found.type_code, found.result_type, found.result_box, found.amount) == ("I", "ingreso", "71", D("176.00"))
    non_zero = {b.box: b.amount for b in found.boxes if b.amount}
    assert non_zero == {
        "04": D("500.00"),
        "06": D("50.00"),
        "07": D("1000.00"),
        "09": D("210.00"),
        "27": D("260.00"),
        "28": D("400.00"),
        "29": D("84.00"),
        "45": D("84.00"),
        "46": D("176.00"),
        "66": D("176.00"),
        "69": D("176.00"),
        "71": D("176.00"),
    }
    assert non_zero["09"] == non_zero["07"] * D("0.21") and non_zero["27"] - non_zero["45"] == non_zero["46"]


def test_a_negative_303_of_2026_is_read_with_the_2026_design():
    """2T 2026: 21 % 500,00 / 105,00; deducible 210,00; result 105,00 − 210,00 = −105,00, to offset (C). The 2026
    design moves page 01 one position (new field 130) and puts box 108 before 69 (69 at 340, 71 at 408)."""
    p01 = {326: num("500,00"), 348: num("105,00"), 696: num("105,00"), 713: num("1000,00"), 730: num("210,00")}
    p01 |= {1002: num("210,00"), 1019: num("-105,00")}
    one = page01("303", 2026, "2T", "C", 1581, (130, 1035), p01)
    p03 = {1: "<T30303000>", 216: "10000", 221: num("-105,00"), 340: num("-105,00"), 408: num("-105,00")}
    three = record(1017, (12, 424), p03)[:1005] + "</T30303000>"
    found = aeat.parse(envelope("303", 2026, "2T", [one, three]))
    assert (found.layout, found.result_type, found.amount) == ("303_2026.csv", "compensar", D("-105.00"))
    values = {b.box: b.amount for b in found.boxes}
    assert (values["07"], values["09"], values["27"], values["45"]) == (D("500"), D("105"), D("105"), D("210"))
    assert values["46"] == values["69"] == values["71"] == D("-105.00")


def test_a_111_file():
    """1T 2024: one professional, 2.000,00 at 15 % = 300,00 withheld; result 300,00 (I)."""
    fields = {193: num("1", 8), 201: num("2000,00"), 218: num("300,00"), 487: num("300,00"), 521: num("300,00")}
    found = aeat.parse(envelope("111", 2024, "1T", [page01("111", 2024, "1T", "I", 1000, (109, 537), fields)]))
    values = {b.box: b.amount for b in found.boxes if b.amount}
    assert values == {"07": 1, "08": D("2000.00"), "09": D("300.00"), "28": D("300.00"), "30": D("300.00")}
    assert [b.is_count for b in found.boxes if b.box in ("07", "08")] == [True, False]
    assert (found.result_type, found.amount, found.layout) == ("ingreso", D("300.00"), "111_2019.csv")


def test_a_115_file():
    """2T 2024: one landlord, rent 1.000,00 at 19 % = 190,00; result 190,00, direct debit (U)."""
    fields = {109: num("1", 15), 124: num("1000,00"), 141: num("190,00"), 175: num("190,00")}
    found = aeat.parse(envelope("115", 2024, "2T", [page01("115", 2024, "2T", "U", 500, (109, 191), fields)]))
    values = {b.box: b.amount for b in found.boxes}
    assert (values["01"], values["02"], values["03"], values["04"], values["05"]) == (1, 1000, 190, 0, 190)
    assert (found.result_type, found.amount) == ("domiciliacion", D("190.00"))


@pytest.mark.parametrize(
    ("deduction", "code", "result", "kind"),
    [
        # 01 10.000,00 − 02 4.000,00 = 03 6.000,00; 04 = 20 % = 1.200,00; − 06 500,00 = 07 700,00 = 12 = 14 = 17 = 19.
        ("0,00", "I", "700,00", "ingreso"),
        # the same with a deduction (13) of 1.000,00: 14 = 700,00 − 1.000,00 = −300,00 = 17 = 19, to deduct later (B).
        ("1000,00", "B", "-300,00", "compensar"),
    ],
)
def test_a_130_file_positive_and_negative(deduction, code, result, kind):
    fields = {109: num("10000,00"), 126: num("4000,00"), 143: num("6000,00"), 160: num("1200,00"), 194: num("500,00")}
    fields |= {211: num("700,00"), 296: num("700,00"), 313: num(deduction)} | {p: num(result) for p in (330, 381, 415)}
    found = aeat.parse(envelope("130", 2024, "2T", [page01("130", 2024, "2T", code, 600, (109, 431), fields)]))
    values = {b.box: b.amount for b in found.boxes}
    assert values["03"] == values["01"] - values["02"] and values["04"] == values["03"] * D("0.20")
    assert values["07"] == values["04"] - values["05"] - values["06"] == values["12"] == D("700.00")
    assert values["14"] == values["12"] - values["13"] == values["17"] == values["19"] == D(result.replace(",", "."))
    assert (found.result_type, found.amount) == (kind, D(result.replace(",", ".")))


# --- rejected files: page, position and field named ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            file_303_2024()[:1000] + file_303_2024()[1001:],
            "página 01: mide 1580 posiciones y el diseño 303_2023.csv dice 1581",
        ),
        (
            put(file_303_2024(), PAGE1 + 617 + 15, "A"),
            "página 01, posición 617 (casilla 27, longitud 17): «000000000000260A0» no es un número",
        ),
        (
            put(file_303_2024(), PAGE3 + 255, "N"),
            "página 03, posición 255 (casilla 110, longitud 17): «N0000000000000000» no es un número (solo cifras)",
        ),
        (
            put(file_303_2024(), PAGE1 + 2, "X"),
            "posición 329: se esperaba el comienzo de una página «<T303…>» y hay «<X30301000>»",
        ),
        (
            file_303_2024().replace(b"<T30303000>", b"<T30305000>").replace(b"</T30303000>", b"</T30305000>"),
            "falta la página 03",
        ),
        (b"303;2024;1T;176,00\n", "posición 1: «303;2024;1T;176,0» no es el comienzo de una declaración de la AEAT"),
        (
            file_303_2024().replace(b"20241T", b"20181T"),
            "no hay diseño de registro del modelo 303 para el ejercicio 2018",
        ),
        (put(file_303_2024(), PAGE1 + 107, "2T"), "ejercicio y periodo «2024 2T» no coinciden con los de la cabecera"),
        (file_303_2024().replace(NAME.encode(), "FISCO ÑANDÚ SL".encode()), "parece estar en UTF-8"),
    ],
)
def test_a_bad_file_is_rejected_naming_page_position_and_field(content, message):
    with pytest.raises(aeat.AeatError) as raised:
        aeat.parse(content)
    assert message in str(raised.value)


def add_file(folder: Path, name: str, content: bytes) -> None:
    (folder / "impuestos" / "aeat").mkdir(parents=True, exist_ok=True)
    (folder / "impuestos" / "aeat" / name).write_bytes(content)


def test_the_reader_names_the_file_of_a_bad_record_a_bad_type_and_a_result_of_the_wrong_sign(tmp_path):
    def problems(content: bytes) -> list:
        folder = write_company(tmp_path / "src")
        add_file(folder, "303.txt", content)
        return errors(read_folder(tmp_path))

    file = "impuestos/aeat/303.txt"
    assert problems(file_303_2024(code="Z")) == [
        (
            file,
            None,
            "Archivo de la AEAT no válido: página 01, posición 13: tipo de declaración «Z» no es uno de: "
            "I, U, G, N, C, D, V, X",
        ),
    ]
    assert problems(file_303_2024(code="C")) == [
        (
            file,
            None,
            "Archivo de la AEAT no válido: casilla 71 = 176,00 debe ser menor que cero para el tipo de "
            "declaración «C» (compensar)",
        ),
    ]


# --- files and CSV rows together ------------------------------------------------------------------------------------


def test_a_file_that_agrees_with_its_csv_rows_loads_and_the_manifest_names_it(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    add_file(write_company(settings.sources), "303_2024_1T.txt", file_303_2024())
    [result] = service.load_all(settings, companies=["fisco"])
    assert result.outcome == "published", result.problems
    snapshot = Store(settings.stores).current("fisco")
    facts = snapshot.manifest["modules"]["impuestos"]
    assert facts["aeat_files"] == [
        {
            "file": "impuestos/aeat/303_2024_1T.txt",
            "model": "303",
            "year": 2024,
            "period": "1T",
            "layout": "303_2023.csv",
            "in_csv": True,
        }
    ]
    assert facts["filings"] == len(FILING_ROWS)  # the CSV row is kept (date, receipt), not doubled
    vat = reports.vat_periods(snapshot, 2024).set_index("period")
    assert (vat.loc["1T", "output_vat"], vat.loc["1T", "final_result"], vat.loc["1T", "receipt"]) == (
        D("260.00"),
        D("176.00"),
        "3030000000001",
    )


def test_a_return_only_in_a_file_has_no_filing_date_nor_receipt(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    fields = {109: num("10000,00"), 126: num("4000,00"), 143: num("6000,00"), 160: num("1200,00")}
    fields |= {194: num("500,00")} | {p: num("700,00") for p in (211, 296, 330, 381, 415)}
    content = envelope("130", 2024, "2T", [page01("130", 2024, "2T", "I", 600, (109, 431), fields)])
    add_file(write_company(settings.sources), "130_2024_2T.txt", content)
    [result] = service.load_all(settings, companies=["fisco"])
    assert result.outcome == "published", result.problems
    snapshot = Store(settings.stores).current("fisco")
    [row] = reports.filings(snapshot, model="130").itertuples()
    assert (row.result_type, row.amount, row.receipt, row.csv, row.has_receipt) == (
        "ingreso",
        D("700.00"),
        None,
        None,
        False,
    )
    assert row.filed is None or str(row.filed) in ("NaT", "None")
    [irpf] = reports.irpf_periods(snapshot, "130", 2024).itertuples()
    assert (irpf.income, irpf.net, irpf.withheld, irpf.result) == (D("10000"), D("6000"), D("500"), D("700"))
    boxes = reports.boxes(snapshot, "130", 2024, "2T")
    assert list(boxes["box"]) == ["01", "02", "03", "04", "06", "07", "12", "14", "17", "19"]  # non-zero, form order
    assert boxes["description"].iloc[0] == "Ingresos computables (acumulado desde el 1 de enero)"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            file_303_2024(**{"27": "261,00"}),
            "Modelo 303 de 1T 2024: casilla 27 = 261,00 en el archivo y 260,00 en casillas.csv (línea 6)",
        ),
        (
            file_303_2024(code="U"),
            "Modelo 303 de 1T 2024: tipo de resultado «domiciliacion» en el archivo (tipo de declaración U) y "
            "«ingreso» en presentaciones.csv (línea 2)",
        ),
        (
            file_303_2024(**{"71": "175,00"}),
            "Modelo 303 de 1T 2024: resultado (casilla 71) = 175,00 en el archivo y 176,00 en presentaciones.csv "
            "(línea 2)",
        ),
    ],
)
def test_a_file_and_a_csv_row_that_disagree_are_rejected_naming_file_box_and_both_values(tmp_path, content, message):
    folder = write_company(tmp_path / "src")
    add_file(folder, "303_2024_1T.txt", content)
    found = errors(read_folder(tmp_path))
    assert ("impuestos/aeat/303_2024_1T.txt", None, message) in found


def test_the_same_return_in_two_files_is_rejected_and_the_inputs_include_the_files(tmp_path):
    folder = write_company(tmp_path / "src")
    add_file(folder, "a.txt", file_303_2024())
    add_file(folder, "b.txt", file_303_2024())
    assert errors(read_folder(tmp_path)) == [
        ("impuestos/aeat/b.txt", None, "Modelo 303 de 1T 2024 repetido (ya en impuestos/aeat/a.txt)")
    ]
    assert [p.name for p in taxes.inputs(folder)][-2:] == ["a.txt", "b.txt"]


def test_with_aeat_files_the_two_csv_files_are_optional(tmp_path):
    folder = write_company(tmp_path / "src", presentaciones=None, casillas=None, receipts={})
    add_file(folder, "303.txt", file_303_2024())
    assert errors(read_folder(tmp_path)) == []


# --- the layout files -----------------------------------------------------------------------------------------------


def test_the_layouts_are_picked_by_model_and_exercise_and_their_fields_do_not_overlap():
    assert aeat.layout_for("303", 2022) is None
    assert [aeat.layout_for("303", y).file_name for y in (2023, 2025, 2026, 2027)] == ["303_2023.csv"] * 2 + [
        "303_2026.csv"
    ] * 2
    assert {lay.file_name: lay.verified for lay in aeat.layouts()} == {
        "111_2019.csv": False,
        "115_2019.csv": False,
        "130_2019.csv": True,
        "303_2023.csv": False,
        "303_2026.csv": True,
    }
    for lay in aeat.layouts():
        for page, fields in lay.pages.items():
            ends = [f.position + f.length for f in fields]
            assert all(end <= nxt.position for end, nxt in zip(ends, fields[1:], strict=False)), (lay.file_name, page)
            assert fields[-1].value == f"</T{lay.model}{page}>"
            assert sum(f.name == "resultado" for fs in lay.pages.values() for f in fs) == 1


# --- the demo -------------------------------------------------------------------------------------------------------


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@pytest.mark.slow
def test_the_demo_files_give_the_figures_of_its_csv_rows_and_load(tmp_path, monkeypatch):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    generate(settings.sources, until=date(2026, 3, 15))
    read = 0
    for code in ("labrasa", "mgarcia"):
        folder = settings.sources / code / "impuestos"
        filings = {(r["modelo"], int(r["ejercicio"]), r["periodo"]): r for r in csv_rows(folder / "presentaciones.csv")}
        boxes = {
            (r["modelo"], int(r["ejercicio"]), r["periodo"], r["casilla"]): r for r in csv_rows(folder / "casillas.csv")
        }
        expected = {k for k in filings if k[0] in ("303", "111", "115", "130")}
        files = sorted((folder / "aeat").glob("*.txt"))
        assert len(files) == len(expected)
        for path in files:
            found = aeat.parse(path.read_bytes())
            key = (found.model, found.year, found.period)
            assert path.name == f"{found.model}_{found.year}_{found.period}.txt"
            row = filings[key]
            assert (found.result_type, found.amount) == (row["tipo_resultado"], D(row["importe"].replace(",", ".")))
            values = {b.box: b.amount for b in found.boxes}
            listed = {k[3]: D(v["importe"].replace(",", ".")) for k, v in boxes.items() if k[:3] == key}
            assert listed and all(values[b] == v for b, v in listed.items()), (path.name, listed)
            read += 1
    assert read == 12 * (3 + 4)  # 1T 2023–4T 2025: labrasa 303/111/115, mgarcia 303/111/115/130
    assert aeat.parse((settings.sources / "labrasa/impuestos/aeat/303_2024_3T.txt").read_bytes()).type_code == "C"
    monkeypatch.setattr(load, "readers", lambda: (taxes.READER,))
    results = service.load_all(settings, companies=["labrasa", "mgarcia"])
    assert [r.outcome for r in results] == ["published", "published"], [r.problems for r in results]
    for code in ("labrasa", "mgarcia"):
        facts = Store(settings.stores).current(code).manifest["modules"]["impuestos"]["aeat_files"]
        assert len(facts) == (36 if code == "labrasa" else 48) and all(f["in_csv"] for f in facts)
