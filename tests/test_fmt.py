"""Spanish formatting of money, numbers, dates and percentages, checked against literal strings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from portal import fmt


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234.56"), "1.234,56 €"),
        (Decimal("-1234.56"), "-1.234,56 €"),
        (Decimal("0"), "0,00 €"),
        (Decimal("5"), "5,00 €"),
        (Decimal("999.99"), "999,99 €"),
        (Decimal("1000"), "1.000,00 €"),
        (Decimal("1234567890.1"), "1.234.567.890,10 €"),
        (Decimal("0.005"), "0,01 €"),  # half up, not banker's rounding
        (Decimal("0.015"), "0,02 €"),
        (Decimal("2.675"), "2,68 €"),  # float(2.675) would round to 2,67
        (Decimal("-0.005"), "-0,01 €"),
        (Decimal("-0.004"), "0,00 €"),  # never "-0,00 €"
        (Decimal("1E+3"), "1.000,00 €"),
        (12, "12,00 €"),
        (0.1 + 0.2, "0,30 €"),
        (None, "—"),
        (Decimal("NaN"), "—"),
    ],
)
def test_money(value, expected):
    assert fmt.money(value) == expected


def test_money_is_exact_beyond_float_precision():
    assert fmt.money(Decimal("12345678901234567.89")) == "12.345.678.901.234.567,89 €"


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (Decimal("1234.5"), 2, "1.234,50"),
        (Decimal("-1234.5"), 0, "-1.235"),
        (Decimal("0.125"), 3, "0,125"),
        (Decimal("1.5"), 0, "2"),
        (Decimal("2.5"), 0, "3"),
        ("1234.5", 1, "1.234,5"),  # text from a CSV or the database
        (None, 2, "—"),
    ],
)
def test_number(value, decimals, expected):
    assert fmt.number(value, decimals) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5000000, "5.000.000"), (0, "0"), (999, "999"), (1000, "1.000"), (-12345, "-12.345"), (None, "—")],
)
def test_integer(value, expected):
    assert fmt.integer(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Decimal("0.125"), "12,5 %"), (Decimal("-0.5"), "-50,0 %"), (1, "100,0 %"), (None, "—")],
)
def test_percent(value, expected):
    assert fmt.percent(value) == expected


def test_percent_decimals():
    assert fmt.percent(Decimal("0.12345"), decimals=2) == "12,35 %"


def test_date_es():
    assert fmt.date_es(date(2025, 12, 31)) == "31/12/2025"
    assert fmt.date_es(date(2025, 1, 5)) == "05/01/2025"
    assert fmt.date_es("2025-02-03") == "03/02/2025"
    assert fmt.date_es(None) == "—"


def test_date_es_of_a_datetime_uses_the_madrid_day():
    # 23:30 UTC on 31 December is already 1 January in Madrid (UTC+1 in winter).
    assert fmt.date_es(datetime(2025, 12, 31, 23, 30, tzinfo=UTC)) == "01/01/2026"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2025, 12, 31, 13, 5, tzinfo=UTC), "31/12/2025 14:05"),  # winter: UTC+1
        (datetime(2025, 7, 1, 12, 0, tzinfo=UTC), "01/07/2025 14:00"),  # summer: UTC+2
        (datetime(2025, 12, 31, 13, 5), "31/12/2025 14:05"),  # naive values are UTC
        (datetime(2025, 12, 31, 14, 5, tzinfo=timezone(timedelta(hours=1))), "31/12/2025 14:05"),
        ("2025-12-31T13:05:00+00:00", "31/12/2025 14:05"),
        (None, "—"),
    ],
)
def test_datetime_es(value, expected):
    assert fmt.datetime_es(value) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (512, "512 bytes"),
        (1023, "1.023 bytes"),
        (1024, "1,0 KB"),
        (3789, "3,7 KB"),  # issue 16: the inbox showed «0,0 MB»
        (1536, "1,5 KB"),
        (1_048_524, "1.023,9 KB"),
        (1_048_575, "1,0 MB"),  # 1.023,999 KB rounds to 1.024,0: shown in the next unit
        (1_258_291, "1,2 MB"),
        (12_345_678, "11,8 MB"),
        (10 * 1024**3, "10,0 GB"),
        (None, "—"),
    ],
)
def test_file_size(size, expected):
    assert fmt.file_size(size) == expected


def test_sort_key_sorts_names_the_spanish_way():
    names = ["Zapata", "Álvarez", "Oliva", "Ñoño", "Nuzzo", "Núñez", "Muñoz", "Munoz", "abeto", "Ábaco", "Bravo"]
    assert sorted(names, key=fmt.sort_key) == [
        "Ábaco",
        "abeto",
        "Álvarez",  # with the A, not after the Z
        "Bravo",
        "Munoz",
        "Muñoz",  # ñ after n
        "Núñez",
        "Nuzzo",
        "Ñoño",
        "Oliva",
        "Zapata",
    ]
    assert fmt.sort_key(None) == ""
