"""Rates the demo books with, per year, as data (Social Security, corporate tax, pay rises)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import TypeVar

T = TypeVar("T")

# Social Security contribution rates (% of the contribution base), domain.md §6.3.
# Keys: employer / worker common contingencies, unemployment (indefinite, temporary), FOGASA, training, MEI.
SS_COMMON = {"employer": D("23.60"), "worker": D("4.70")}
SS_UNEMPLOYMENT = {
    "indefinido": {"employer": D("5.50"), "worker": D("1.55")},
    "temporal": {"employer": D("6.70"), "worker": D("1.60")},
}
SS_FOGASA = D("0.20")
SS_TRAINING = {"employer": D("0.60"), "worker": D("0.10")}
SS_MEI = {
    2023: {"employer": D("0.50"), "worker": D("0.10")},
    2024: {"employer": D("0.58"), "worker": D("0.12")},
    2025: {"employer": D("0.67"), "worker": D("0.13")},
    2026: {"employer": D("0.75"), "worker": D("0.15")},
}
# Monthly contribution base limits, cents (2026 minimum assumed; see domain.md §6.3).
SS_MAX_BASE = {2023: 449550, 2024: 472050, 2025: 490950, 2026: 510120}
SS_MIN_BASE = {2023: 126000, 2024: 132300, 2025: 138120, 2026: 142440}

# Collective-agreement pay rises applied every January (%).
PAY_RISE = {2023: D(0), 2024: D("4.0"), 2025: D("3.0"), 2026: D("2.5")}

# Monthly RETA (self-employed) contribution growth: the 2023 amount is in the company data.
RETA_RISE = {2023: D(0), 2024: D("3.5"), 2025: D("3.0"), 2026: D("2.5")}

# Temporary contract codes (the rest are indefinite) and the description of every code used.
TEMPORARY_CONTRACTS = {"402", "502", "410", "510", "420"}
CONTRACT_NAMES = {
    "100": "Indefinido ordinario a tiempo completo",
    "189": "Indefinido a tiempo completo (transformación de temporal)",
    "200": "Indefinido a tiempo parcial",
    "300": "Fijo discontinuo",
    "402": "Temporal por circunstancias de la producción, tiempo completo",
    "502": "Temporal por circunstancias de la producción, tiempo parcial",
    "410": "Sustitución de persona trabajadora, tiempo completo",
    "420": "Formativo para la obtención de práctica profesional",
}


def of_year(table: dict[int, T], year: int) -> T:
    """The value of a year; years after the last one known repeat the last one."""
    return table[min(year, max(table))]
