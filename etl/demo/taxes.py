"""Tax returns of the demo: filing deadlines, box labels, the record of one return filed and its AEAT file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from random import Random

from etl.demo.model import Company, working_day
from etl.modules import aeat

# (modelo, period) → (month, day) of the deadline; the year is the filing year (next year for 4T and annual).
DEADLINES: dict[str, dict[str, tuple[int, int]]] = {
    "303": {"1T": (4, 20), "2T": (7, 20), "3T": (10, 20), "4T": (1, 30)},
    "111": {"1T": (4, 20), "2T": (7, 20), "3T": (10, 20), "4T": (1, 20)},
    "115": {"1T": (4, 20), "2T": (7, 20), "3T": (10, 20), "4T": (1, 20)},
    "130": {"1T": (4, 20), "2T": (7, 20), "3T": (10, 20), "4T": (1, 30)},
    "202": {"1P": (4, 20), "2P": (10, 20), "3P": (12, 20)},
    "390": {"0A": (1, 30)},
    "190": {"0A": (1, 31)},
    "180": {"0A": (1, 31)},
    "200": {"0A": (7, 25)},
}
# Returns of a year whose deadline falls in the next calendar year.
NEXT_YEAR_PERIODS = {"4T", "0A"}

BOX_LABELS: dict[str, dict[str, str]] = {
    "303": {
        "01": "Régimen general 4 %: base imponible",
        "03": "Régimen general 4 %: cuota",
        "04": "Régimen general 10 %: base imponible",
        "06": "Régimen general 10 %: cuota",
        "07": "Régimen general 21 %: base imponible",
        "09": "Régimen general 21 %: cuota",
        "27": "Total cuota devengada",
        "28": "Operaciones interiores corrientes: base",
        "29": "Operaciones interiores corrientes: cuota deducible",
        "30": "Operaciones interiores bienes de inversión: base",
        "31": "Operaciones interiores bienes de inversión: cuota deducible",
        "45": "Total a deducir",
        "46": "Resultado régimen general",
        "66": "Atribuible a la Administración del Estado",
        "110": "Cuotas a compensar pendientes de periodos anteriores",
        "78": "Cuotas a compensar aplicadas en este periodo",
        "87": "Cuotas a compensar pendientes para periodos posteriores",
        "69": "Resultado",
        "71": "Resultado de la liquidación",
    },
    "111": {
        "01": "Rendimientos del trabajo dinerarios: nº de perceptores",
        "02": "Rendimientos del trabajo dinerarios: importe de las percepciones",
        "03": "Rendimientos del trabajo dinerarios: importe de las retenciones",
        "07": "Actividades económicas dinerarias: nº de perceptores",
        "08": "Actividades económicas dinerarias: importe de las percepciones",
        "09": "Actividades económicas dinerarias: importe de las retenciones",
        "28": "Suma de retenciones",
        "30": "Resultado a ingresar",
    },
    "115": {
        "01": "Nº de perceptores",
        "02": "Base de las retenciones",
        "03": "Retenciones e ingresos a cuenta",
        "05": "Resultado a ingresar",
    },
    "130": {
        "01": "Ingresos computables del periodo (acumulado desde el 1 de enero)",
        "02": "Gastos fiscalmente deducibles (acumulado)",
        "03": "Rendimiento neto",
        "04": "20 % del rendimiento neto",
        "05": "Pagos fraccionados de trimestres anteriores del ejercicio",
        "06": "Retenciones e ingresos a cuenta soportados (acumulado)",
        "07": "Pago fraccionado previo del trimestre",
        "19": "Resultado de la declaración",
    },
    "202": {
        "01": "Base del pago fraccionado: cuota del último periodo impositivo declarado",
        "03": "Pago fraccionado (18 %)",
        "06": "Resultado a ingresar",
    },
    "390": {
        "01": "Régimen general 4 %: base imponible",
        "02": "Régimen general 4 %: cuota",
        "03": "Régimen general 10 %: base imponible",
        "04": "Régimen general 10 %: cuota",
        "05": "Régimen general 21 %: base imponible",
        "06": "Régimen general 21 %: cuota",
        "47": "Total cuotas devengadas",
        "48": "Operaciones interiores corrientes: base",
        "49": "Operaciones interiores corrientes: cuota deducible",
        "56": "Operaciones interiores bienes de inversión: base",
        "57": "Operaciones interiores bienes de inversión: cuota deducible",
        "64": "Suma de deducciones",
        "65": "Resultado régimen general",
        "84": "Suma de resultados",
        "95": "Total resultados a ingresar en las autoliquidaciones del ejercicio",
        "97": "Resultado de la última autoliquidación: a compensar",
        "98": "Resultado de la última autoliquidación: a devolver",
        "108": "Volumen total de operaciones",
    },
    "190": {
        "01": "Número total de perceptores",
        "02": "Importe total de las percepciones",
        "03": "Importe total de las retenciones e ingresos a cuenta",
    },
    "180": {
        "01": "Número total de perceptores",
        "02": "Base de las retenciones",
        "03": "Retenciones e ingresos a cuenta",
    },
    "200": {
        "00500": "Resultado de la cuenta de pérdidas y ganancias antes de impuestos",
        "00552": "Base imponible",
        "00558": "Tipo de gravamen (%)",
        "00562": "Cuota íntegra",
        "00592": "Cuota líquida positiva",
        "00601": "Pagos fraccionados",
        "00611": "Cuota diferencial",
    },
}

# Boxes that hold counts (written as integers) rather than euros; 00558 is a percentage with two decimals.
COUNT_BOXES = {("111", "01"), ("111", "07"), ("115", "01"), ("190", "01"), ("180", "01")}


@dataclass
class Filing:
    """One return presented: what, when, the result and the boxes (amounts in cents)."""

    modelo: str
    year: int
    period: str
    filed: date
    result_type: str
    amount: int
    receipt: str
    code: str
    boxes: list[tuple[str, int]] = field(default_factory=list)
    charged: date | None = None  # when the payment or refund moves the bank


def deadline(modelo: str, year: int, period: str) -> date:
    """The last filing day of a return (weekends move to the next Monday)."""
    month, day = DEADLINES[modelo][period]
    filing_year = year + 1 if period in NEXT_YEAR_PERIODS else year
    return working_day(date(filing_year, month, day))


def result_type(amount: int, period: str, payment: str, *, informative: bool = False) -> str:
    """ingreso / domiciliacion / compensar / devolucion / sin_actividad / informativa."""
    if informative:
        return "informativa"
    if amount > 0:
        return payment
    if amount < 0:
        return "devolucion" if period in ("4T", "0A") else "compensar"
    return "sin_actividad"


def filing_day(last: date, result: str, rng: Random) -> date:
    """A working day some days before the deadline (direct debits must be filed five days earlier)."""
    earliest_gap = 5 if result == "domiciliacion" else 0
    day = last - timedelta(days=earliest_gap + rng.randint(0, 6))
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def receipt_number(modelo: str, rng: Random) -> str:
    """A 13-digit justificante: the model code and ten digits."""
    return f"{modelo}{rng.randrange(10**9, 10**10)}"


def secure_code(rng: Random) -> str:
    """A 16-character código seguro de verificación."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(rng.choice(alphabet) for _ in range(16))


# --- AEAT return files (etl/modules/aeat.py) -------------------------------------------------------------------------

# Companies whose 303, 111, 115 and 130 are also written as AEAT files (impuestos/aeat/); their CSV rows stay, so the
# load checks that both agree. labrasa has the negative 303 of 3T 2024, mgarcia the 130.
AEAT_COMPANIES = ("labrasa", "mgarcia")
AEAT_MODELS = ("303", "111", "115", "130")
# tipo_resultado -> tipo de declaración (inverse of etl.modules.aeat.RESULT_CODES for the codes the demo uses).
TYPE_CODES = {
    "303": {"ingreso": "I", "domiciliacion": "U", "compensar": "C", "devolucion": "D", "sin_actividad": "N"},
    "111": {"ingreso": "I", "domiciliacion": "U", "sin_actividad": "N"},
    "115": {"ingreso": "I", "domiciliacion": "U", "sin_actividad": "N"},
    "130": {"ingreso": "I", "domiciliacion": "U", "compensar": "B", "sin_actividad": "N"},
}
PROGRAM_VERSION = "DEMO"


def _field_text(field: aeat.Field, filing: Filing, values: dict[str, int], nif: str, name: str) -> str:
    """One field of a page as the tax program writes it (boxes in cents, counts as integers)."""
    texts = {
        "tipo_declaracion": TYPE_CODES[filing.modelo][filing.result_type],
        "nif": nif,
        "nombre": name.upper(),
        "ejercicio": str(filing.year),
        "periodo": filing.period,
        "porcentaje_estado": "10000",  # 100,00 % (common territory only)
    }
    if field.type == "Const":
        return field.value
    if field.name in texts:
        return texts[field.name][: field.length].ljust(field.length)
    if field.type in ("An", "A"):
        return " " * field.length
    value = values.get(field.box, 0)
    if value < 0 and field.type != "N":
        raise ValueError(f"casilla {field.box} negativa en un campo sin signo")
    sign = "N" if value < 0 else ""
    return sign + str(abs(value)).rjust(field.length - len(sign), "0")


def aeat_file(filing: Filing, nif: str, name: str) -> bytes:
    """The AEAT file of one return (envelope, <AUX> block and every page of its layout), ISO-8859-1, CRLF."""
    layout = aeat.layout_for(filing.modelo, filing.year)
    if layout is None:
        raise ValueError(f"sin diseño de registro para el modelo {filing.modelo} de {filing.year}")
    values = dict(filing.boxes)
    pages = []
    for page, fields in layout.pages.items():
        record = [" "] * layout.page_length(page)
        for spec in fields:
            start = spec.position - 1
            record[start : start + spec.length] = _field_text(spec, filing, values, nif, name)
        pages.append("".join(record))
    tag = f"T{filing.modelo}0{filing.year}{filing.period}0000>"
    aux = "<AUX>" + " " * 70 + PROGRAM_VERSION + " " * 4 + " " * 9 + " " * 213 + "</AUX>"
    return f"<{tag}{aux}{''.join(pages)}</{tag}\r\n".encode(aeat.ENCODING)


def write_aeat_files(folder: Path, filings: list[Filing], company: Company) -> None:
    """impuestos/aeat/<modelo>_<ejercicio>_<periodo>.txt for the 303/111/115/130 of the companies in AEAT_COMPANIES."""
    if company.code not in AEAT_COMPANIES:
        return
    (folder / aeat.FOLDER).mkdir(parents=True, exist_ok=True)
    for f in filings:
        if f.modelo in AEAT_MODELS:
            path = folder / aeat.FOLDER / f"{f.modelo}_{f.year}_{f.period}{aeat.SUFFIX}"
            path.write_bytes(aeat_file(f, company.nif, company.name))
