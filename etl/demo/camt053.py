"""The demo's camt.053 statements: one file per bank account and year, one Stmt per month (camt.053.001.02)."""

from __future__ import annotations

from datetime import date, timedelta

from lxml import etree

from etl.demo.writers import BankMovement

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def camt053_statement(
    iban: str, holder: str, start: date, end: date, opening: int, movements: list[BankMovement]
) -> bytes:
    """One account's statements from ``start`` to ``end`` as a camt.053 document, one Stmt per calendar month.

    Amounts in cents (signed: > 0 money in); the bytes depend only on the arguments.
    """
    document = etree.Element("Document", nsmap={None: NAMESPACE})
    message = sub(document, "BkToCstmrStmt")
    header = sub(message, "GrpHdr")
    sub(header, "MsgId", f"{iban[-10:]}-{start:%Y%m%d}-{end:%Y%m%d}")  # Max35Text
    sub(header, "CreDtTm", f"{end.isoformat()}T23:59:59")
    balance = opening
    for month_start, month_end in months(start, end):
        inside = [m for m in movements if month_start <= m.day <= month_end]
        balance = statement(message, iban, holder, month_start, month_end, balance, inside)
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def months(start: date, end: date) -> list[tuple[date, date]]:
    """The calendar months from ``start`` to ``end`` (the first and last cut to them)."""
    found = []
    first = start
    while first <= end:
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        found.append((first, min(following - timedelta(days=1), end)))
        first = following
    return found


def statement(
    message: etree._Element, iban: str, holder: str, start: date, end: date, opening: int, entries: list[BankMovement]
) -> int:
    """One Stmt (opening OPBD, closing CLBD, its entries); returns the closing balance."""
    closing = opening + sum(m.amount for m in entries)
    stmt = sub(message, "Stmt")
    sub(stmt, "Id", f"{iban[-4:]}-{start:%Y-%m}")
    sub(stmt, "CreDtTm", f"{end.isoformat()}T23:59:59")
    period = sub(stmt, "FrToDt")
    sub(period, "FrDtTm", f"{start.isoformat()}T00:00:00")
    sub(period, "ToDtTm", f"{end.isoformat()}T23:59:59")
    account = sub(stmt, "Acct")
    sub(sub(account, "Id"), "IBAN", iban)
    sub(account, "Ccy", "EUR")
    sub(sub(account, "Ownr"), "Nm", holder)
    add_balance(stmt, "OPBD", opening, start)
    add_balance(stmt, "CLBD", closing, end)
    summary = sub(stmt, "TxsSummry")
    for name, amounts in (
        ("TtlCdtNtries", [m.amount for m in entries if m.amount > 0]),
        ("TtlDbtNtries", [-m.amount for m in entries if m.amount < 0]),
    ):
        total = sub(summary, name)
        sub(total, "NbOfNtries", str(len(amounts)))
        sub(total, "Sum", euros(sum(amounts)))
    for movement in entries:
        entry = sub(stmt, "Ntry")
        sub(entry, "NtryRef", f"{movement.document:06d}")
        add_amount(entry, movement.amount)
        sub(entry, "Sts", "BOOK")
        sub(sub(entry, "BookgDt"), "Dt", movement.day.isoformat())
        sub(sub(entry, "ValDt"), "Dt", movement.day.isoformat())
        code = sub(sub(entry, "BkTxCd"), "Prtry")
        sub(code, "Cd", f"{movement.common}000")
        sub(code, "Issr", "AEB")
        details = sub(sub(entry, "NtryDtls"), "TxDtls")
        sub(sub(details, "RmtInf"), "Ustrd", movement.text[:140])
    return closing


def add_balance(stmt: etree._Element, code: str, cents: int, day: date) -> None:
    """A Bal of type ``code`` dated ``day``."""
    bal = sub(stmt, "Bal")
    sub(sub(sub(bal, "Tp"), "CdOrPrtry"), "Cd", code)
    add_amount(bal, cents)
    sub(sub(bal, "Dt"), "Dt", day.isoformat())


def add_amount(parent: etree._Element, cents: int) -> None:
    """Amt (Ccy EUR, no sign) and CdtDbtInd (CRDT money in or a balance in the holder's favour, DBIT otherwise)."""
    sub(parent, "Amt", euros(abs(cents))).set("Ccy", "EUR")
    sub(parent, "CdtDbtInd", "DBIT" if cents < 0 else "CRDT")


def euros(cents: int) -> str:
    """12345 -> '123.45'."""
    return f"{cents // 100}.{cents % 100:02d}"


def sub(parent: etree._Element, name: str, value: str | None = None) -> etree._Element:
    """A child element in the camt.053 namespace, with text ``value`` when given."""
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
    if value is not None:
        element.text = value
    return element
