"""Facturae XML invoices: a hand-built 3.2.2 invoice is read to the cent, each rejection rule (XML, DTD, schema,
version, another company's NIF, totals, disagreement with facturas.csv) names the file, and a rejected load keeps
the published snapshot."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from auth import passwords
from etl import service
from etl.modules import invoices
from etl.sources import CompanyInfo
from etl.store import Store
from portal import audit, clock
from portal.db import get_engine
from portal.settings import load_settings
from reports import invoices as reports
from tests.test_accounting_pages import downloaded, select, table  # noqa: F401 - fixture
from tests.test_cases import JOURNAL, write_cases
from tests.test_invoices import write_invoices
from tests.test_security import client, make_world, open_page, signed_in

D = Decimal
COMPANY_NIF, OTHER_NIF, FIRM_NIF = "B12345674", "B87654323", "A28475614"
INFO = CompanyInfo(code="desp", name="Desp", nif=COMPANY_NIF)
NS_322 = "http://www.facturae.gob.es/formato/Versiones/Facturaev3_2_2.xml"
NS_321 = "http://www.facturae.es/Facturae/2014/v3.2.1/Facturae"


@dataclass(frozen=True)
class Line:
    description: str
    quantity: str
    price: str
    amount: str


@dataclass(frozen=True)
class Inv:
    """One Invoice of the XML, amounts as the XML writes them (by hand: 1000,00 × 21 % = 210,00, × 15 % = 150,00)."""

    series: str = "FD-2025"
    number: str = "0005"
    issued: str = "2025-06-20"
    base: str = "1000.00"
    vat_rate: str = "21.00"
    vat: str = "210.00"
    irpf_rate: str = "15.00"
    irpf: str = "150.00"
    total: str = "1060.00"
    due: str = "2025-07-20"
    lines: tuple[Line, ...] = field(
        default=(
            Line("Asesoría fiscal 2T 2025", "1.0", "600.00", "600.00"),
            Line("Horas de consultoría", "5.0", "80.00", "400.00"),
        )
    )


def line_xml(line: Line, inv: Inv) -> str:
    return f"""
      <InvoiceLine>
        <ItemDescription>{line.description}</ItemDescription>
        <Quantity>{line.quantity}</Quantity>
        <UnitPriceWithoutTax>{line.price}</UnitPriceWithoutTax>
        <TotalCost>{line.amount}</TotalCost>
        <GrossAmount>{line.amount}</GrossAmount>
        <TaxesOutputs><Tax><TaxTypeCode>01</TaxTypeCode><TaxRate>{inv.vat_rate}</TaxRate>
          <TaxableBase><TotalAmount>{line.amount}</TotalAmount></TaxableBase></Tax></TaxesOutputs>
      </InvoiceLine>"""


def invoice_xml(inv: Inv) -> str:
    outstanding = D(inv.base) + D(inv.vat)
    return f"""
  <Invoice>
    <InvoiceHeader>
      <InvoiceNumber>{inv.number}</InvoiceNumber>
      <InvoiceSeriesCode>{inv.series}</InvoiceSeriesCode>
      <InvoiceDocumentType>FC</InvoiceDocumentType>
      <InvoiceClass>OO</InvoiceClass>
    </InvoiceHeader>
    <InvoiceIssueData>
      <IssueDate>{inv.issued}</IssueDate>
      <InvoiceCurrencyCode>EUR</InvoiceCurrencyCode>
      <TaxCurrencyCode>EUR</TaxCurrencyCode>
      <LanguageName>es</LanguageName>
    </InvoiceIssueData>
    <TaxesOutputs><Tax>
      <TaxTypeCode>01</TaxTypeCode><TaxRate>{inv.vat_rate}</TaxRate>
      <TaxableBase><TotalAmount>{inv.base}</TotalAmount></TaxableBase>
      <TaxAmount><TotalAmount>{inv.vat}</TotalAmount></TaxAmount>
    </Tax></TaxesOutputs>
    <TaxesWithheld><Tax>
      <TaxTypeCode>04</TaxTypeCode><TaxRate>{inv.irpf_rate}</TaxRate>
      <TaxableBase><TotalAmount>{inv.base}</TotalAmount></TaxableBase>
      <TaxAmount><TotalAmount>{inv.irpf}</TotalAmount></TaxAmount>
    </Tax></TaxesWithheld>
    <InvoiceTotals>
      <TotalGrossAmount>{inv.base}</TotalGrossAmount>
      <TotalGrossAmountBeforeTaxes>{inv.base}</TotalGrossAmountBeforeTaxes>
      <TotalTaxOutputs>{inv.vat}</TotalTaxOutputs>
      <TotalTaxesWithheld>{inv.irpf}</TotalTaxesWithheld>
      <InvoiceTotal>{inv.total}</InvoiceTotal>
      <TotalOutstandingAmount>{outstanding}</TotalOutstandingAmount>
      <TotalExecutableAmount>{outstanding}</TotalExecutableAmount>
    </InvoiceTotals>
    <Items>{"".join(line_xml(li, inv) for li in inv.lines)}
    </Items>
    <PaymentDetails><Installment>
      <InstallmentDueDate>{inv.due}</InstallmentDueDate>
      <InstallmentAmount>{inv.total}</InstallmentAmount>
      <PaymentMeans>04</PaymentMeans>
    </Installment></PaymentDetails>
  </Invoice>"""


def party(role: str, nif: str, name: str) -> str:
    return f"""
    <{role}>
      <TaxIdentification><PersonTypeCode>J</PersonTypeCode><ResidenceTypeCode>R</ResidenceTypeCode>
        <TaxIdentificationNumber>{nif}</TaxIdentificationNumber></TaxIdentification>
      <LegalEntity>
        <CorporateName>{name}</CorporateName>
        <AddressInSpain><Address>Calle Mayor 1</Address><PostCode>28013</PostCode><Town>Madrid</Town>
          <Province>Madrid</Province><CountryCode>ESP</CountryCode></AddressInSpain>
      </LegalEntity>
    </{role}>"""


def facturae(*invs: Inv, buyer: str = COMPANY_NIF, namespace: str = NS_322, version: str = "3.2.2") -> str:
    """A Facturae file (modality I for one invoice, L for a batch) from the firm to ``buyer``."""
    invs = invs or (Inv(),)
    total = sum(D(i.total) for i in invs)
    outstanding = sum(D(i.base) + D(i.vat) for i in invs)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<fe:Facturae xmlns:fe="{namespace}">
  <FileHeader>
    <SchemaVersion>{version}</SchemaVersion>
    <Modality>{"I" if len(invs) == 1 else "L"}</Modality>
    <InvoiceIssuerType>EM</InvoiceIssuerType>
    <Batch>
      <BatchIdentifier>{FIRM_NIF}{invs[0].series}{invs[0].number}</BatchIdentifier>
      <InvoicesCount>{len(invs)}</InvoicesCount>
      <TotalInvoicesAmount><TotalAmount>{total}</TotalAmount></TotalInvoicesAmount>
      <TotalOutstandingAmount><TotalAmount>{outstanding}</TotalAmount></TotalOutstandingAmount>
      <TotalExecutableAmount><TotalAmount>{outstanding}</TotalAmount></TotalExecutableAmount>
      <InvoiceCurrencyCode>EUR</InvoiceCurrencyCode>
    </Batch>
  </FileHeader>
  <Parties>{party("SellerParty", FIRM_NIF, "Asesoría Demo SLP")}{party("BuyerParty", buyer, "Despacho Cliente SL")}
  </Parties>
  <Invoices>{"".join(invoice_xml(i) for i in invs)}
  </Invoices>
</fe:Facturae>
"""


# FD-2025-0002 as facturas.csv and lineas.csv of tests/test_invoices.py carry it.
IN_BOTH = Inv(
    number="0002",
    issued="2025-02-28",
    base="250.50",
    vat="52.61",
    irpf="37.58",
    total="265.53",
    due="2025-03-10",
    lines=(
        Line("Iguala mensual 02/2025", "1", "200.50", "200.50"),
        Line("Alta censal (036)", "2", "25.00", "50.00"),
    ),
)


def write_xml(folder: Path, content: str, name: str = "FD-2025-0005.xml") -> Path:
    path = folder / "facturas" / "facturae" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def read_with(tmp_path: Path, *xmls: tuple[str, str], info: CompanyInfo = INFO):
    """(reader output, its connection) on the invoices of tests/test_invoices.py plus the given XML files."""
    folder = tmp_path / "src" / "desp"
    write_invoices(folder)
    for name, content in xmls:
        write_xml(folder, content, name)
    con = duckdb.connect()
    return invoices.read(con, folder, info), con


def errors(output) -> list[tuple[str, str]]:
    return [(p.file, p.message) for p in output.problems if p.severity == "error"]


def test_a_facturae_only_invoice_is_added_with_its_lines_to_the_cent(tmp_path):
    output, con = read_with(tmp_path, ("FD-2025-0005.xml", facturae()))
    assert errors(output) == []
    assert output.manifest == {"invoices": 6, "invoice_lines": 8, "invoice_pdfs": 4, "invoices_facturae": 1}
    row = con.execute(
        "SELECT issue_date, concept, base, vat_rate, vat, withholding_rate, withholding, total, due_date,"
        " payment_method, paid_date, has_pdf, source FROM invoices WHERE number = 'FD-2025-0005'"
    ).fetchone()
    assert row == (
        date(2025, 6, 20),
        "Asesoría fiscal 2T 2025",
        D("1000.00"),
        D("21.00"),
        D("210.00"),
        D("15.00"),
        D("150.00"),
        D("1060.00"),
        date(2025, 7, 20),
        "transferencia",
        None,
        False,
        "facturae",
    )
    assert con.execute("SELECT line, description, quantity, price, amount FROM invoice_lines "
                       "WHERE number = 'FD-2025-0005' ORDER BY line").fetchall() == [
        (1, "Asesoría fiscal 2T 2025", D("1.0000"), D("600.00"), D("600.00")),
        (2, "Horas de consultoría", D("5.0000"), D("80.00"), D("400.00")),
    ]  # fmt: skip
    sources = dict(con.execute("SELECT number, source FROM invoices").fetchall())
    assert set(sources.values()) == {"csv", "facturae"} and sources["FD-2025-0002"] == "csv"
    missing = [p for p in output.problems if p.rule == "invoice_pdf_missing" and "FD-2025-0005" in p.message]
    assert [(p.severity, p.file, p.line) for p in missing] == [("warning", "facturae/FD-2025-0005.xml", None)]


def test_an_invoice_in_the_csv_and_the_xml_that_agree_is_marked_both_and_keeps_the_csv_lines(tmp_path):
    output, con = read_with(tmp_path, ("FD-2025-0002.xsig", facturae(IN_BOTH)))  # a .xsig is read the same way
    assert errors(output) == []
    assert output.manifest["invoices"] == 5 and output.manifest["invoice_lines"] == 6
    assert con.execute("SELECT source, paid_date FROM invoices WHERE number = 'FD-2025-0002'").fetchone() == (
        "both",
        date(2025, 4, 2),  # the CSV's payment date stays
    )


def test_a_batch_with_two_invoices_adds_both(tmp_path):
    second = Inv(number="0006", issued="2025-06-30", base="100.00", vat="21.00", irpf="15.00", total="106.00",
                 due="2025-07-10", lines=(Line("Iguala mensual 06/2025", "1", "100.00", "100.00"),))  # fmt: skip
    output, con = read_with(tmp_path, ("lote.xml", facturae(Inv(), second)))
    assert errors(output) == []
    rows = con.execute(
        "SELECT number, base, vat, withholding, total FROM invoices WHERE source = 'facturae' ORDER BY number"
    ).fetchall()
    assert rows == [
        ("FD-2025-0005", D("1000.00"), D("210.00"), D("150.00"), D("1060.00")),
        ("FD-2025-0006", D("100.00"), D("21.00"), D("15.00"), D("106.00")),
    ]
    assert output.manifest["invoice_lines"] == 6 + 3


def test_a_facturae_3_2_1_file_is_read_too(tmp_path):
    output, con = read_with(tmp_path, ("v321.xml", facturae(namespace=NS_321, version="3.2.1")))
    assert errors(output) == []
    assert con.execute("SELECT total FROM invoices WHERE number = 'FD-2025-0005'").fetchone() == (D("1060.00"),)


BODY = facturae().split("?>\n", 1)[1]
XXE = '<!DOCTYPE fe [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n' + BODY.replace("Calle Mayor 1", "&x;")
LAUGHS_DTD = '<!DOCTYPE fe [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
LAUGHS = LAUGHS_DTD + BODY.replace("Calle Mayor 1", "&b;")
F = "El archivo facturae/FD-2025-0005.xml"
W = "facturae/FD-2025-0005.xml, factura FD-2025-0005"
REJECTIONS = [
    ("not well-formed", facturae().replace("</Invoices>", "</Invoice>"), f"{F} no es un XML bien formado: "),
    ("external entity", XXE, f"{F} contiene una declaración DTD o entidades: no se admite"),
    ("entity expansion", LAUGHS, f"{F} contiene una declaración DTD o entidades: no se admite"),
    ("schema", facturae().replace("<InvoiceClass>OO</InvoiceClass>", ""),
     f"{F} no cumple el esquema Facturae 3.2.2: línea "),
    ("schema value", facturae().replace("<PaymentMeans>04", "<PaymentMeans>99"),
     f"{F} no cumple el esquema Facturae 3.2.2: línea "),
    ("version 3.2", facturae(namespace="http://www.facturae.es/Facturae/2009/v3.2/Facturae", version="3.2"),
     f"{F} no es una factura Facturae de versión admitida (3.2.1 o 3.2.2): «3.2»"),
    ("not facturae", "<factura><numero>FD-2025-0005</numero></factura>",
     f"{F} no es una factura Facturae de versión admitida (3.2.1 o 3.2.2): «sin versión»"),
    ("another company", facturae(buyer=OTHER_NIF),
     f"{F} va dirigido al NIF {OTHER_NIF} (BuyerParty) y la empresa es {COMPANY_NIF}: no se carga en esta empresa"),
    ("lines", facturae(Inv(lines=(Line("Asesoría", "1.0", "600.00", "600.00"),))),
     f"{W}: los importes no cuadran: la suma de las 1 líneas (GrossAmount) = 600,00 no es "
     "TotalGrossAmountBeforeTaxes = 1000,00"),
    ("total", facturae(Inv(total="1070.00")),
     f"{W}: los importes no cuadran: base 1000,00 + IVA 210,00 − IRPF 150,00 = 1060,00 no es InvoiceTotal = 1070,00"),
    ("vat", facturae(Inv(vat="200.00", total="1050.00")),
     f"{W}: los importes no cuadran: IVA 200,00 no es base × 21.00 % = 210,00 (redondeo al céntimo)"),
    ("quantity", facturae(Inv(lines=(Line("Asesoría", "INF", "600.00", "1000.00"),))),
     f"{W}: Quantity «Infinity» de la línea 1 no es una cantidad con hasta cuatro decimales"),
    ("cents", facturae(Inv(base="1000.004")),
     f"{W}: TotalGrossAmountBeforeTaxes «1000.004» tiene más de dos decimales"),
    ("number", facturae(Inv(series="2025")),
     "facturae/FD-2025-0005.xml, factura 2025-0005: InvoiceSeriesCode-InvoiceNumber «2025-0005» no tiene "
     "el formato FD-<año>-<nnnn>"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "message"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS])
def test_each_facturae_rejection_names_the_file_and_publishes_nothing(tmp_path, content, message):
    output, _ = read_with(tmp_path, ("FD-2025-0005.xml", content))
    found = errors(output)
    assert [m[: len(message)] for _, m in found] == [message], found
    assert found[0][0] == "facturae/FD-2025-0005.xml"
    assert output.tables == {}


def test_the_schema_error_gives_the_line_and_the_first_schema_message(tmp_path):
    output, _ = read_with(tmp_path, ("FD-2025-0005.xml", facturae().replace("<InvoiceClass>OO</InvoiceClass>", "")))
    [problem] = [p for p in output.problems if p.severity == "error"]
    assert problem.line is not None
    assert problem.message.startswith(f"{F} no cumple el esquema Facturae 3.2.2: línea {problem.line}: Element ")
    assert "InvoiceClass" in problem.message  # the missing element is named by the validator


def test_a_company_without_nif_reads_no_facturae(tmp_path):
    output, _ = read_with(tmp_path, ("FD-2025-0005.xml", facturae()), info=replace(INFO, nif=""))
    assert errors(output) == [
        (
            "facturae/FD-2025-0005.xml",
            "El archivo facturae/FD-2025-0005.xml no se puede leer: la empresa no tiene NIF en empresa.json y no se "
            "puede comprobar que la factura va dirigida a ella",
        )
    ]


def test_the_buyer_nif_is_compared_without_prefix_spaces_or_case(tmp_path):
    output, _ = read_with(tmp_path, ("FD-2025-0005.xml", facturae(buyer="es-b12345674")))
    assert errors(output) == []


def test_csv_and_xml_disagreeing_is_an_error_naming_both(tmp_path):
    xml = facturae(replace(IN_BOTH, due="2025-03-31"))
    output, _ = read_with(tmp_path, ("FD-2025-0002.xml", xml))
    assert errors(output) == [
        (
            "facturae/FD-2025-0002.xml",
            "La factura FD-2025-0002 de facturas/facturas.csv (línea 4) y de facturae/FD-2025-0002.xml no coinciden: "
            "vencimiento 10/03/2025 en facturas.csv y 31/03/2025 en facturae/FD-2025-0002.xml",
        )
    ]
    assert output.tables == {}


def test_the_same_invoice_in_two_xml_files_is_an_error(tmp_path):
    output, _ = read_with(tmp_path, ("a.xml", facturae()), ("b.xml", facturae()))
    assert errors(output) == [("facturae/b.xml", "facturae/b.xml: la factura FD-2025-0005 ya está en facturae/a.xml")]


def test_an_invoice_csv_error_is_reported_before_any_xml_is_read(tmp_path):
    folder = tmp_path / "src" / "desp"
    write_invoices(folder, lineas="numero;linea\n")
    write_xml(folder, "not xml")
    output = invoices.read(duckdb.connect(), folder, INFO)
    found = errors(output)
    assert ("facturas/lineas.csv", "Faltan columnas: descripcion, cantidad, precio, importe") in found
    assert not [f for f, _ in found if f.startswith("facturae/")]


# --- the whole load: published snapshot, report and rejection --------------------------------------------------


def write_company(sources: Path) -> Path:
    folder = sources / "desp"
    write_invoices(folder)
    write_cases(folder)
    (folder / "diario.csv").write_text(JOURNAL, encoding="utf-8")
    empresa = {"nombre": "Despacho Cliente SL", "nif": COMPANY_NIF}
    (folder / "empresa.json").write_text(json.dumps(empresa), encoding="utf-8")
    write_xml(folder, facturae())
    write_xml(folder, facturae(IN_BOTH), "FD-2025-0002.xml")
    return folder


def test_the_published_report_shows_the_facturae_invoice_pending_then_overdue(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    write_company(settings.sources)
    [result] = service.load_all(settings, companies=["desp"])
    assert result.outcome == "published", result.message
    snapshot = Store(settings.stores).current("desp")
    frame = reports.invoices(snapshot, date(2025, 7, 20))
    row = frame[frame["number"] == "FD-2025-0005"].iloc[0]
    assert (row["state"], row["total"], row["source"]) == ("pending", D("1060.00"), "facturae")
    later = reports.invoices(snapshot, date(2025, 7, 21))
    assert later[later["number"] == "FD-2025-0005"].iloc[0]["state"] == "overdue"
    assert dict(zip(frame["number"], frame["source"], strict=True))["FD-2025-0002"] == "both"
    assert reports.totals(reports.invoices(snapshot, date(2025, 7, 20), year=2025)).total == D(
        "106.00") + D("265.53") + D("63.60") + D("84.80") + D("1060.00")  # fmt: skip
    assert [(li.description, li.amount) for li in reports.lines(snapshot, "FD-2025-0005").itertuples()] == [
        ("Asesoría fiscal 2T 2025", D("600.00")),
        ("Horas de consultoría", D("400.00")),
    ]


@pytest.mark.parametrize("content", [facturae(buyer=OTHER_NIF), XXE], ids=["another company", "external entity"])
def test_a_rejected_facturae_keeps_the_published_snapshot(tmp_path, content):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    folder = write_company(settings.sources)
    [first] = service.load_all(settings, companies=["desp"])
    assert first.outcome == "published", first.message
    published = Store(settings.stores).current("desp").snapshot_id
    write_xml(folder, content, "FD-2025-0007.xml")
    [second] = service.load_all(settings, companies=["desp"])
    assert second.outcome == "rejected"
    assert Store(settings.stores).current("desp").snapshot_id == published


# --- the page: «Facturae» badge and the XML download, audited like the PDF ------------------------------------


@pytest.fixture(scope="module")
def page_template(tmp_path_factory):
    data = tmp_path_factory.mktemp("facturae-pages") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources)
    [result] = service.load_all(settings, companies=["desp"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        client(engine, "fina", {"desp": ["facturas"]})
    engine.dispose()
    return data


def test_the_page_badges_facturae_and_audits_the_xml(page_template, tmp_path, monkeypatch, downloaded):  # noqa: F811
    monkeypatch.setattr(clock, "today_madrid", lambda: date(2025, 7, 1))
    world = make_world(page_template, tmp_path, monkeypatch)
    at = open_page(signed_in("fina"), "facturas")
    assert not at.exception, at.exception
    first = table(at)[0]
    assert (first["Número"], first["Total"], first["Estado"]) == ("FD-2025-0005", "1.060,00 €", "Pendiente")
    assert ":blue-badge[:material/verified: Facturae]" in [m.proto.body for m in at.get("markdown")]
    xml = downloaded["FD-2025-0005.xml"]
    assert xml == facturae().encode("utf-8")
    [event] = audit.entries(world.engine, event="invoice_download")
    assert (event["actor"], event["company"], event["target"], event["detail"]) == (
        "fina",
        "desp",
        "FD-2025-0005",
        "archivo=FD-2025-0005.xml formato=facturae",
    )
    select(at, "Factura", "FD-2025-0003")  # from the CSV only: no badge, no XML button
    assert not [m for m in at.get("markdown") if "Facturae" in m.proto.body]
    assert not [b for b in at.get("download_button") if "Facturae" in b.proto.label]
