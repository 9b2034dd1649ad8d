"""Validation problems: what went wrong, where (file, line, entry) and a Spanish message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding of a validation rule; ``error`` rejects the company's load, ``warning`` does not."""

    rule: str
    message: str
    file: str = ""
    line: int | None = None
    entry: str | None = None
    severity: Severity = "error"

    def where(self) -> str:
        """'archivo, línea N, asiento E' for messages and tables."""
        parts = [self.file] if self.file else []
        if self.line is not None:
            parts.append(f"línea {self.line}")
        if self.entry is not None:
            parts.append(f"asiento {self.entry}")
        return ", ".join(parts)


def has_errors(problems: list[Problem]) -> bool:
    """True when any problem rejects the load."""
    return any(p.severity == "error" for p in problems)


# What staff read instead of a rule's internal name (the name stays in the database, the CLI and the logs).
SEVERITY_ES = {"error": "Error", "warning": "Aviso"}
RULE_LABELS = {
    # company folder and journal
    "company_file": "Ficha de la empresa",
    "source_symlink": "Enlace simbólico en la carpeta",
    "no_journal": "Falta el diario",
    "empty_file": "Archivo vacío",
    "unreadable_file": "Archivo ilegible",
    "undecodable_bytes": "Caracteres ilegibles (codificación)",
    "missing_column": "Falta una columna",
    "unknown_columns": "Columnas desconocidas",
    "bad_line": "Línea mal formada",
    "bad_date": "Fecha no válida",
    "bad_entry": "Número de asiento no válido",
    "bad_amount": "Importe no válido",
    "ambiguous_decimal": "Separador decimal dudoso",
    "both_sides": "Importe en el debe y en el haber",
    "bad_account": "Cuenta no válida",
    "bad_entry_type": "Tipo de asiento no válido",
    "account_not_in_chart": "Cuenta fuera del plan de cuentas",
    "duplicate_account": "Cuenta repetida en el plan de cuentas",
    "unbalanced_entry": "Asiento descuadrado",
    "entry_multiple_dates": "Asiento con varias fechas",
    "date_outside_fiscal_years": "Fecha fuera de los ejercicios",
    "year_end_effect": "Asientos de fin de ejercicio",
    "unknown_journal_format": "Diario en un formato no reconocido",
    "journal_profile": "Perfil de diario desconocido",
    "contaplus_pesetas": "ContaPlus: importes en pesetas",
    # sumas y saldos (etl/trial_balance_input.py)
    "tb_with_journal": "Diario y sumas y saldos a la vez",
    "tb_no_period": "Sumas y saldos: fecha del balance",
    "tb_not_cumulative": "Sumas y saldos: balance no acumulado",
    "tb_row_balance": "Sumas y saldos: saldo distinto de sumas debe − haber",
    "tb_both_balances": "Sumas y saldos: saldo deudor y acreedor a la vez",
    "tb_duplicate_account": "Sumas y saldos: cuenta repetida",
    "tb_group_total": "Sumas y saldos: cuenta de grupo que no suma sus subcuentas",
    "tb_unbalanced_sums": "Sumas y saldos: sumas descuadradas",
    "tb_unbalanced_balances": "Sumas y saldos: saldos descuadrados",
    "tb_after_closing": "Sumas y saldos: balance después de la regularización",
    "tb_duplicate_period": "Sumas y saldos: dos balances de la misma fecha",
    "tb_missing_year_end": "Sumas y saldos: falta el balance de cierre de un ejercicio",
    "tb_decreasing_sums": "Sumas y saldos: sumas acumuladas que bajan",
    # impuestos
    "tax_missing_file": "Impuestos: falta un archivo",
    "tax_filing": "Impuestos: declaración no válida",
    "tax_box": "Impuestos: casilla no válida",
    "tax_duplicate": "Impuestos: registro repetido",
    "tax_orphan_box": "Impuestos: casilla sin declaración",
    "tax_missing_receipt": "Impuestos: falta el justificante",
    "tax_receipt_not_pdf": "Impuestos: justificante que no es un PDF",
    "tax_vat_journal": "IVA: el modelo 303 no cuadra con el diario",
    "tax_annual_sum": "Impuestos: el resumen anual no cuadra con los trimestres",
    "tax_aeat_file": "Impuestos: fichero de la AEAT no válido",
    "tax_aeat_duplicate": "Impuestos: declaración repetida en ficheros de la AEAT",
    "tax_aeat_mismatch": "Impuestos: el fichero de la AEAT no coincide con presentaciones/casillas",
    # libros registro de IVA
    "vatbook_file": "Libros de IVA: archivo ilegible",
    "vatbook_columns": "Libros de IVA: cabecera del libro",
    "vatbook_row": "Libros de IVA: línea no válida",
    "vatbook_quota": "Libros de IVA: cuota distinta de base × tipo",
    "vatbook_total": "Libros de IVA: total distinto de base + cuotas",
    "vatbook_deductible": "Libros de IVA: cuota deducible mayor que la soportada",
    "vatbook_nif": "Libros de IVA: NIF no válido o ausente",
    "vatbook_duplicate": "Libros de IVA: línea repetida",
    # tesorería
    "treasury_banks": "Tesorería: cuentas bancarias",
    "treasury_item": "Tesorería: vencimiento no válido",
    "treasury_duplicate": "Tesorería: registro repetido",
    "treasury_nif": "Tesorería: NIF no válido",
    "treasury_n43": "Tesorería: extracto Norma 43 ilegible",
    "treasury_n43_account": "Tesorería: extracto de una cuenta desconocida",
    "treasury_n43_iban": "Tesorería: IBAN del extracto",
    "treasury_n43_name": "Tesorería: nombre del extracto",
    "treasury_n43_year": "Tesorería: año del extracto",
    "treasury_n43_chain": "Tesorería: saldos de extractos que no encadenan",
    "treasury_n43_overlap": "Tesorería: extractos solapados",
    "treasury_camt": "Tesorería: extracto camt.053 no válido",
    "treasury_bank_ledger": "Tesorería: el banco no cuadra con el diario",
    "treasury_cartera_ledger": "Tesorería: la cartera no cuadra con el diario",
    # facturas del despacho
    "invoice_missing_file": "Facturas: falta un archivo",
    "invoice_row": "Facturas: factura no válida",
    "invoice_line": "Facturas: línea no válida",
    "invoice_duplicate": "Facturas: registro repetido",
    "invoice_line_unknown": "Facturas: línea de una factura desconocida",
    "invoice_lines_total": "Facturas: las líneas no suman la base",
    "invoice_pdf_missing": "Facturas: falta el PDF",
    "invoice_pdf_invalid": "Facturas: PDF no válido",
    "invoice_pdf_unlisted": "Facturas: PDF sin factura",
    "invoice_facturae": "Facturas: Facturae no válida",
    "invoice_facturae_duplicate": "Facturas: Facturae repetida",
    "invoice_facturae_mismatch": "Facturas: la Facturae no coincide",
    "invoice_facturae_skipped": "Facturas: Facturae sin leer",
    # laboral
    "labour_missing_file": "Laboral: falta un archivo",
    "labour_employee": "Laboral: empleado no válido",
    "labour_payroll": "Laboral: nómina no válida",
    "labour_leave": "Laboral: baja no válida",
    "labour_duplicate": "Laboral: registro repetido",
    "labour_unknown_employee": "Laboral: empleado desconocido",
    "labour_journal_mismatch": "Laboral: las nóminas no cuadran con el diario",
    # expedientes y documentos
    "case_missing_file": "Expedientes: falta un archivo",
    "case_row": "Expedientes: expediente no válido",
    "case_event": "Expedientes: hito no válido",
    "case_duplicate": "Expedientes: registro repetido",
    "case_event_unknown": "Expedientes: hito de un expediente desconocido",
    "case_event_date": "Expedientes: hito anterior a la apertura",
    "document_missing_file": "Documentos: falta un archivo",
    "document_row": "Documentos: documento no válido",
    "document_duplicate": "Documentos: registro repetido",
}
RULE_AREAS = {
    "tax": "Impuestos",
    "vatbook": "Libros de IVA",
    "treasury": "Tesorería",
    "invoice": "Facturas",
    "labour": "Laboral",
    "case": "Expedientes",
    "document": "Documentos",
}
RULE_SUFFIXES = {"encoding": "codificación del archivo", "columns": "columnas del archivo"}


def rule_label(rule: str) -> str:
    """The Spanish name of a validation rule for the staff pages ('tax_vat_journal' -> 'IVA: el modelo 303 no cuadra
    con el diario'); a rule without its own label reads as its area's check, never as its internal name."""
    if rule in RULE_LABELS:
        return RULE_LABELS[rule]
    area, _, rest = rule.partition("_")
    if area in RULE_AREAS:
        return f"{RULE_AREAS[area]}: {RULE_SUFFIXES.get(rest, 'comprobación de los datos')}"
    return "Comprobación de los datos"
