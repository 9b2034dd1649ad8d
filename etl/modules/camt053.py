"""Reader of ISO 20022 camt.053 bank statements (BankToCustomerStatement, any version) under tesoreria/ (§6)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from lxml import etree
from stdnum import iban as std_iban

from etl.modules._csv import spanish

MAX_BYTES = 50 * 1024 * 1024  # a year of a busy account is a few MB
NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d{2}")
DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
AMOUNT = re.compile(r"\d{1,18}(\.\d{1,5})?")
OPENING_CODES = ("OPBD", "PRCD")  # opening booked / previously closed booked (dated the day before)
CLOSING_CODE = "CLBD"
BOOKED = "BOOK"
AEB_CONCEPT = re.compile(r"(\d{2})(\d{3})?")  # BkTxCd/Prtry/Cd of issuer AEB: Norma 43 concepto común (+ propio)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


class CamtError(ValueError):
    """A camt.053 file that cannot be accepted: the Spanish reason and the line (1-based) when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def parse_file(path: Path) -> list[dict] | None:
    """Every statement (Stmt) of a camt.053 file; None when the XML is not a camt.053 Document.

    The size is checked before reading and a DOCTYPE or ENTITY declaration rejects the file before it is parsed;
    the parser never resolves entities, loads a DTD or uses the network.
    """
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise CamtError(f"camt.053: el archivo ocupa {size:,} bytes, más del máximo de {MAX_BYTES:,}".replace(",", "."))
    raw = path.read_bytes()
    return parse_bytes(raw)


def parse_bytes(raw: bytes) -> list[dict] | None:
    """The statements of a camt.053 document given as bytes (see :func:`parse_file`)."""
    if b"\x00" in raw:
        raise CamtError("camt.053: el archivo no está en UTF-8 (u otra codificación compatible con ASCII)")
    if match := DECLARATION.search(raw):
        line = raw[: match.start()].count(b"\n") + 1
        raise CamtError("camt.053: el XML declara un DOCTYPE o entidades (<!DOCTYPE/<!ENTITY), no se admiten", line)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False
    )
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise CamtError(f"camt.053: el XML no es válido ({exc.msg})", exc.lineno) from None
    if not is_camt053(root):
        return None
    message = child(root, "BkToCstmrStmt")
    statements = children(message, "Stmt")
    if not statements:
        raise CamtError("camt.053: el archivo no contiene ningún extracto (Stmt)", message.sourceline)
    return [statement_fields(s) for s in statements]


def is_camt053(root: etree._Element) -> bool:
    """A Document root with a BkToCstmrStmt child, in a camt.053 namespace (any version) or none."""
    name = etree.QName(root)
    namespace = name.namespace or ""
    if name.localname != "Document" or (namespace and not NAMESPACE.fullmatch(namespace)):
        return False
    return child(root, "BkToCstmrStmt") is not None


# --- element helpers (by local name, so that every version reads alike) --------------------------------------------


def children(element: etree._Element | None, name: str) -> list[etree._Element]:
    """The child elements of ``element`` called ``name`` (comments and processing instructions left out)."""
    if element is None:
        return []
    return [c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == name]


def child(element: etree._Element | None, *path: str) -> etree._Element | None:
    """The first element down ``path`` (local names), None when any step is missing."""
    for name in path:
        found = children(element, name)
        element = found[0] if found else None
    return element


def text(element: etree._Element | None, *path: str) -> str:
    """The stripped text of the element down ``path`` ('' when missing)."""
    found = child(element, *path)
    return (found.text or "").strip() if found is not None else ""


# --- one statement ---------------------------------------------------------------------------------------------------


def statement_fields(stmt: etree._Element) -> dict:
    """The fields of one Stmt in the shape of a Norma 43 account (treasury.py checks the roll-forward)."""
    ident = text(stmt, "Id") or "sin Id"
    where = f"camt.053, extracto «{ident}»"
    code = std_iban.compact(text(stmt, "Acct", "Id", "IBAN"))
    if not code:
        raise CamtError(f"{where}: la cuenta no viene identificada por IBAN (Acct/Id/IBAN)", stmt.sourceline)
    if not std_iban.is_valid(code):
        raise CamtError(f"{where}: el IBAN «{code}» de la cuenta no es válido", stmt.sourceline)
    where = f"{where}, cuenta {std_iban.format(code)}"
    opening, opening_day, opening_code = balance(stmt, OPENING_CODES, where)
    closing, closing_day, _ = balance(stmt, (CLOSING_CODE,), where)
    currency = opening[1]
    if closing[1] != currency:
        raise CamtError(f"{where}: el saldo inicial está en {currency} y el final en {closing[1]}", stmt.sourceline)
    start = opening_day + timedelta(days=1) if opening_code == "PRCD" else opening_day
    end = closing_day
    if (period := child(stmt, "FrToDt")) is not None:
        start = day_of(text(period, "FrDtTm"), f"{where}: FrToDt/FrDtTm", period.sourceline)
        end = day_of(text(period, "ToDtTm"), f"{where}: FrToDt/ToDtTm", period.sourceline)
    if end < start:
        raise CamtError(f"{where}: el periodo termina ({end:%d/%m/%Y}) antes de empezar ({start:%d/%m/%Y})")
    movements = []
    for position, entry in enumerate(children(stmt, "Ntry"), start=1):
        movement = entry_fields(entry, f"{where}, apunte {position} (línea {entry.sourceline})", currency)
        if movement is None:
            continue
        if not start <= movement["operation_date"] <= end:
            raise CamtError(
                f"{where}, apunte {position} (línea {entry.sourceline}): la fecha {movement['operation_date']:%d/%m/%Y}"
                f" está fuera del periodo del extracto ({start:%d/%m/%Y}–{end:%d/%m/%Y})",
                entry.sourceline,
            )
        movements.append({"sequence": len(movements) + 1, **movement})
    income = [m["amount"] for m in movements if m["amount"] > 0]
    expense = [-m["amount"] for m in movements if m["amount"] < 0]
    check_summary(stmt, where, income, expense)
    return {
        "iban": code,
        "start_date": start,
        "end_date": end,
        "opening_balance": opening[0],
        "closing_balance": closing[0],
        "currency": currency,
        "income_count": len(income),
        "income": sum(income, ZERO),
        "expense_count": len(expense),
        "expense": sum(expense, ZERO),
        "holder": text(stmt, "Acct", "Ownr", "Nm") or text(stmt, "Acct", "Nm"),
        "movements": movements,
        "statement_id": ident,
        "where": where,
        "line": stmt.sourceline,
    }


def balance(stmt: etree._Element, codes: tuple[str, ...], where: str) -> tuple[tuple[Decimal, str], date, str]:
    """((signed amount, currency), date, code) of the first Bal whose Tp/CdOrPrtry/Cd is one of ``codes``."""
    for code in codes:
        for bal in children(stmt, "Bal"):
            if text(bal, "Tp", "CdOrPrtry", "Cd") != code:
                continue
            label = f"{where}: saldo {code}"
            amount = signed(bal, label)
            when = child(bal, "Dt")
            value = text(when, "Dt") or text(when, "DtTm")
            return amount, day_of(value, f"{label}, fecha", bal.sourceline), code
    names = " o ".join(codes)
    kind = "inicial" if codes == OPENING_CODES else "final"
    raise CamtError(f"{where}: falta el saldo {kind} (Bal con Tp/CdOrPrtry/Cd {names})", stmt.sourceline)


def signed(element: etree._Element, label: str) -> tuple[Decimal, str]:
    """(Amt with the sign of CdtDbtInd: CRDT positive, DBIT negative; Amt/@Ccy) of a Bal or Ntry."""
    amt = child(element, "Amt")
    value = text(element, "Amt")
    if amt is None or not AMOUNT.fullmatch(value):
        raise CamtError(f"{label}: importe «{value}» no es un importe (formato 1234.56)", element.sourceline)
    amount = Decimal(value)
    if amount != amount.quantize(CENT):
        raise CamtError(f"{label}: importe «{value}» tiene fracciones de céntimo", element.sourceline)
    indicator = text(element, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise CamtError(f"{label}: CdtDbtInd «{indicator}» no es CRDT ni DBIT", element.sourceline)
    currency = amt.get("Ccy", "").strip()
    if not currency:
        raise CamtError(f"{label}: falta la moneda del importe (Amt/@Ccy)", element.sourceline)
    amount = amount.quantize(CENT)
    return (amount if indicator == "CRDT" else -amount), currency


def day_of(value: str, label: str, line: int | None) -> date:
    """The date of an ISODate or ISODateTime ('2025-01-31', '2025-01-31T23:59:59+01:00'), as written."""
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise CamtError(f"{label} «{value}» no es una fecha AAAA-MM-DD", line) from None


def entry_fields(entry: etree._Element, where: str, currency: str) -> dict | None:
    """One booked Ntry as a movement (None for a pending or information entry, Sts other than BOOK)."""
    status = text(entry, "Sts", "Cd") or text(entry, "Sts")
    if status != BOOKED:
        return None
    amount, entry_currency = signed(entry, where)
    if entry_currency != currency:
        raise CamtError(f"{where}: importe en {entry_currency}, el extracto está en {currency}", entry.sourceline)
    booked = child(entry, "BookgDt")
    if booked is None:
        raise CamtError(f"{where}: falta la fecha de apunte (BookgDt)", entry.sourceline)
    operation = day_of(text(booked, "Dt") or text(booked, "DtTm"), f"{where}: BookgDt", entry.sourceline)
    valued = child(entry, "ValDt")
    value_day = operation
    if valued is not None:
        value_day = day_of(text(valued, "Dt") or text(valued, "DtTm"), f"{where}: ValDt", entry.sourceline)
    common, own = aeb_concept(entry)
    details = [d for block in children(entry, "NtryDtls") for d in children(block, "TxDtls")]
    remittance = [text(line) for d in details for line in children(child(d, "RmtInf"), "Ustrd")]
    concept = " ".join(r for r in remittance if r) or text(entry, "AddtlNtryInf")
    return {
        "operation_date": operation,
        "value_date": value_day,
        "common_concept": common,
        "own_concept": own,
        "amount": amount,
        "document_number": text(entry, "NtryRef"),
        "reference1": text(entry, "AcctSvcrRef"),
        "reference2": next((r for d in details if (r := text(d, "Refs", "EndToEndId"))), ""),
        "concept": concept,
    }


def aeb_concept(entry: etree._Element) -> tuple[int | None, int | None]:
    """(concepto común, concepto propio) when BkTxCd/Prtry has Issr AEB and a Norma 43 code; else (None, None)."""
    proprietary = child(entry, "BkTxCd", "Prtry")
    match = AEB_CONCEPT.fullmatch(text(proprietary, "Cd"))
    if text(proprietary, "Issr").upper() != "AEB" or match is None:
        return None, None
    return int(match.group(1)), int(match.group(2)) if match.group(2) else None


def check_summary(stmt: etree._Element, where: str, income: list[Decimal], expense: list[Decimal]) -> None:
    """When TxsSummry gives the credit or debit entries' count and sum, they must be those of the booked entries."""
    summary = child(stmt, "TxsSummry")
    for name, label, amounts in (("TtlCdtNtries", "abonos", income), ("TtlDbtNtries", "cargos", expense)):
        total = child(summary, name)
        if total is None:
            continue
        count, value = text(total, "NbOfNtries"), text(total, "Sum")
        if value and not AMOUNT.fullmatch(value):
            raise CamtError(f"{where}: TxsSummry/{name}/Sum «{value}» no es un importe", total.sourceline)
        if (count and count != str(len(amounts))) or (value and Decimal(value) != sum(amounts, ZERO)):
            raise CamtError(
                f"{where}: el resumen TxsSummry/{name} dice {count or '?'} {label} por {value or '?'} pero los apuntes "
                f"son {len(amounts)} por {spanish(sum(amounts, ZERO))}",
                total.sourceline,
            )
