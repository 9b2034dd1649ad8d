"""The demo firm and its six client companies, written as data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal as D

from etl.demo.model import (
    Asset,
    Bank,
    Company,
    Employee,
    Expense,
    Loan,
    Party,
    Restaurant,
    Sales,
    cents,
    cif,
    dni,
    iban,
    naf,
    nie,
)


@dataclass(frozen=True)
class Firm:
    """The advisory firm that invoices every client and runs their case files."""

    name: str
    nif: str
    address: str
    iban: str
    staff: tuple[str, ...]


FIRM = Firm(
    name="Asesoría Demo",
    nif=cif("J", "4690123"),
    address="Calle Colón 18, 4.º, 46004 Valencia",
    iban=iban("0081", "0216", "0001234567"),
    staff=("Laura Martín Soler", "Javier Ortega Vidal", "Carmen Ruiz Blasco", "Pablo Navarro Gil"),
)
FIRM_PARTY = Party("4100001", FIRM.name, FIRM.nif, days=10, method="domiciliacion")

MONTHS_Q = (1, 4, 7, 10)
EUR = cents


def _customers(province: str, rows: list[tuple], *, start: int = 1, letter: str = "B") -> tuple[Party, ...]:
    """Customers 4300001… from (name, weight, days, method[, extra keyword arguments])."""
    parties = []
    for i, row in enumerate(rows):
        name, weight, days, method, *extra = row
        nif = row_nif(name, province, start + i, letter)
        parties.append(
            Party(
                f"430{start + i:04d}", name, nif, days=days, method=method, weight=weight, **(extra[0] if extra else {})
            )
        )
    return tuple(parties)


ENTITY_PREFIXES = {"Asociación": "G", "Comunidad de Propietarios": "H", "Fundación": "G"}


def row_nif(name: str, province: str, index: int, letter: str) -> str:
    """A stable valid NIF for a generated party: a company CIF or, for a person's name, a DNI."""
    number = f"{province}{(index * 7919 + 311) % 100000:05d}"
    for prefix, entity in ENTITY_PREFIXES.items():
        if name.startswith(prefix):
            return cif(entity, number)
    if name.endswith((" SL", " SA", " SLU", " SCoop")):
        first = "A" if name.endswith(" SA") else ("F" if name.endswith(" SCoop") else letter)
        return cif(first, number)
    return dni(f"{(int(province) * 1_000_000 + index * 104729) % 100_000_000:08d}")


def _employees(rows: list[tuple], province: str) -> tuple[Employee, ...]:
    """Employees from (name, start, contract, category, group, salary €, irpf %[, keyword arguments])."""
    people = []
    for i, (name, start, contract, category, group, salary, irpf, *extra) in enumerate(rows):
        options = extra[0] if extra else {}
        nif = nie(f"X{(i * 1234577 + 7654321) % 10_000_000:07d}") if options.pop("foreign", False) else None
        people.append(
            Employee(
                nif=nif or dni(f"{(int(province) * 1_000_000 + 1_234_567 + i * 618_031) % 100_000_000:08d}"),
                naf=naf(province, f"{(i * 7_654_337 + 10_345_679) % 100_000_000:08d}"),
                name=name,
                start=date.fromisoformat(start),
                contract=contract,
                category=category,
                group=group,
                salary=EUR(str(salary)),
                irpf=D(str(irpf)),
                **options,
            )
        )
    return tuple(people)


# --- (a) Suministros Industriales Levante SL: trading company with stock ---------------------------------------

LEVANTE_CUSTOMERS = _customers(
    "46",
    [
        ("Ferretería Hermanos Ruiz SL", 6, 30, "domiciliacion", {"returns": True}),
        ("Construcciones Albufera SL", 8, 60, "transferencia", {"late": 20}),
        ("Talleres Mecánicos Turia SL", 4, 30, "domiciliacion"),
        ("Instalaciones Eléctricas Camp de Morvedre SL", 5, 45, "transferencia", {"late": 10}),
        ("Reformas Integrales Mestalla SL", 3, 30, "transferencia", {"defaults_from": date(2025, 6, 1)}),
        ("Carpintería Metálica La Safor SL", 4, 60, "pagare", {"late": 5}),
        ("Fontanería Rápida Benimaclet SL", 3, 30, "domiciliacion"),
        ("Mantenimientos Industriales Sagunto SA", 7, 60, "transferencia", {"late": 15, "bank": "5720002"}),
        ("Bricolaje Ribera SL", 5, 30, "domiciliacion"),
        ("Agrícola Horta Nord SCoop", 2, 45, "transferencia", {"late": 8}),
        ("Cerrajería Ruzafa SL", 2, 30, "domiciliacion"),
        ("Montajes Eléctricos Paterna SL", 4, 60, "transferencia", {"late": 12, "bank": "5720002"}),
        ("Pinturas y Decoración Xàtiva SL", 3, 30, "domiciliacion", {"returns": True}),
        ("Obras y Servicios Alboraya SL", 5, 90, "pagare", {"late": 3}),
        ("José Luis Ferrer Peris", 1, 0, "transferencia"),
    ],
)
LEVANTE_SUPPLIERS = (
    Party("4000001", "Herramientas Bellota Distribución SA", cif("A", "2012345"), days=60, method="transferencia"),
    Party("4000002", "Tornillería Industrial del Norte SL", cif("B", "4834567"), days=60, method="confirming"),
    Party(
        "4000003",
        "Material Eléctrico Mediterráneo SL",
        cif("B", "4656789"),
        days=45,
        method="transferencia",
        bank="5720002",
    ),
    Party("4000004", "Suministros Hidráulicos Castellón SL", cif("B", "1223456"), days=30, method="domiciliacion"),
    Party(
        "4000005", "Pinturas Industriales Onda SA", cif("A", "1267890"), days=60, method="transferencia", bank="5720002"
    ),
)
LEVANTE = Company(
    code="levante",
    name="Suministros Industriales Levante SL",
    nif=cif("B", "4612345"),
    form="SL",
    activity="Comercio al por mayor de ferretería y suministros industriales (CNAE 4674)",
    address="Polígono Fuente del Jarro, C/ Ciudad de Sevilla 23, 46988 Paterna (Valencia)",
    model="pymes",
    journal_format="a",
    with_chart=True,
    banks=(
        Bank("5720001", iban("2100", "2345", "0200123456"), "CaixaBank"),
        Bank("5720002", iban("0081", "0311", "0001987654"), "Banco Sabadell", target=EUR("90000.00")),
    ),
    opening={
        "1000000": -EUR("60000.00"),
        "1120000": -EUR("12000.00"),
        "1290000": -EUR("98765.43"),
        "3000000": EUR("92345.67"),
        "5720001": EUR("164312.55"),
        "5720002": EUR("41870.20"),
        "4750000": -EUR("18412.36"),
        "4751000": -EUR("4318.90"),
        "4760000": -EUR("6902.14"),
        "4752000": -EUR("14820.00"),
    },
    customers=LEVANTE_CUSTOMERS,
    sales=(Sales("7000000", D(21), (44, 50), (EUR("280.00"), EUR("4600.00")), "Venta de mercaderías"),),
    expenses=(
        *(
            Expense(s, "6000000", D(21), (EUR("2000.00"), EUR("7600.00")), "Compra de mercaderías", per_month=(3, 4))
            for s in LEVANTE_SUPPLIERS
        ),
        Expense(
            Party("4100002", "Transportes Turia SL", cif("B", "4678123"), days=30),
            "6240000",
            D(21),
            (EUR("150.00"), EUR("620.00")),
            "Portes de ventas",
            per_month=(6, 9),
        ),
        Expense(
            Party("4100003", "Iberdrola Clientes SAU", cif("A", "9557344"), days=10, method="domiciliacion"),
            "6280000",
            D(21),
            (EUR("690.00"), EUR("1120.00")),
            "Suministro eléctrico",
            day=8,
        ),
        Expense(
            Party("4100004", "Telefónica de España SAU", cif("A", "8201932"), days=15, method="domiciliacion"),
            "6290000",
            D(21),
            (EUR("178.00"), EUR("236.00")),
            "Telefonía e internet",
            day=3,
        ),
        Expense(
            Party("4100005", "Seguros Mutua Levantina SA", cif("A", "4612890"), days=5, method="domiciliacion"),
            "6250000",
            D(0),
            (EUR("940.00"), EUR("1080.00")),
            "Prima seguro multirriesgo trimestral",
            day=5,
            months=MONTHS_Q,
        ),
        Expense(
            None, "6260000", D(0), (EUR("18.00"), EUR("62.00")), "Comisiones bancarias", day=28, direct=True, n43="17"
        ),
        Expense(
            Party("4100006", "Ayuntamiento de Paterna", cif("P", "4619200"), days=30, method="domiciliacion"),
            "6310000",
            D(0),
            (EUR("2380.00"), EUR("2460.00")),
            "Impuesto sobre bienes inmuebles",
            day=15,
            months=(9,),
        ),
        Expense(
            Party("4100007", "Talleres Gráficos Valencia SL", cif("B", "4645612"), days=30),
            "6270000",
            D(21),
            (EUR("350.00"), EUR("1400.00")),
            "Catálogo y publicidad",
            months=(3, 10),
        ),
    ),
    employees=_employees(
        [
            ("Martínez Soler, Vicente", "2014-03-01", "100", "Encargado de almacén", 5, 31500, 14),
            ("Navarro Puig, Amparo", "2016-09-01", "100", "Administrativa", 5, 26600, 12),
            ("Gómez Ferrer, Rubén", "2019-02-01", "100", "Comercial", 4, 29400, 13),
            ("Sanchis Roig, Elena", "2021-05-01", "200", "Auxiliar administrativa", 7, 21000, 6, {"jornada": 50}),
            ("Boukhari, Youssef", "2022-01-10", "100", "Mozo de almacén", 9, 19600, 8, {"foreign": True}),
            (
                "Peris Llopis, Andrés",
                "2024-09-02",
                "402",
                "Mozo de almacén",
                9,
                19600,
                7,
                {"end": date(2025, 2, 28), "planned_end": date(2025, 2, 28), "reason": "Fin de contrato"},
            ),
            (
                "Cano Moreno, Lucía",
                "2026-06-01",
                "402",
                "Comercial",
                4,
                25200,
                9,
                {"planned_end": date(2026, 12, 31)},
            ),
        ],
        "46",
    ),
    assets=(
        Asset("2110000", "2811000", "Nave almacén Fuente del Jarro", EUR("380000.00"), date(2012, 7, 1), 50),
        Asset("2180000", "2818000", "Furgoneta Ford Transit 4521-KXZ", EUR("32400.00"), date(2021, 4, 1), 8),
        Asset("2170000", "2817000", "Equipos informáticos y TPV", EUR("8900.00"), date(2022, 2, 1), 4),
        Asset(
            "2180000",
            "2818000",
            "Furgoneta Renault Master 7764-MBD",
            EUR("38600.00"),
            date(2025, 3, 14),
            8,
            supplier=Party("5230001", "Automoción Valencia Motor SL", cif("B", "4690712"), days=0),
            paid_from="5720001",
        ),
    ),
    closing_stock={2023: EUR("101230.45"), 2024: EUR("96875.12"), 2025: EUR("108440.80")},
    tax_rate=D(25),
    prior_tax=(EUR("27100.00"), EUR("31400.00")),
    growth={2023: D("1.00"), 2024: D("1.05"), 2025: D("1.08"), 2026: D("1.10")},
    seasonality=tuple(
        D(x) for x in ("0.85", "0.95", "1.05", "1.05", "1.1", "1.05", "1.0", "0.6", "1.05", "1.1", "1.05", "0.9")
    ),
    firm_fee=EUR("180.00"),
)

# --- (b) Norte Consultores Asociados SL: services, office rent with withholding -------------------------------

NORTE_CUSTOMERS = _customers(
    "39",
    [
        ("Conservas Cantábricas del Norte SA", 5, 30, "transferencia", {"late": 10}),
        ("Astilleros de Santander SA", 4, 60, "transferencia", {"late": 25}),
        ("Lácteos Pasiegos SL", 4, 30, "transferencia"),
        ("Hoteles Sardinero SL", 3, 30, "domiciliacion"),
        ("Ingeniería Besaya SL", 3, 45, "transferencia", {"late": 15}),
        ("Clínica Dental Puertochico SL", 2, 30, "domiciliacion"),
        ("Transportes Liébana SL", 3, 30, "transferencia", {"late": 5}),
        ("Fundiciones Torrelavega SA", 4, 60, "transferencia", {"late": 30}),
        ("Bodegas Campoo SL", 2, 30, "transferencia"),
        ("Cooperativa Agraria Valle del Pas SCoop", 2, 45, "transferencia", {"late": 10}),
        ("Muñoz Ibáñez Abogados SL", 2, 30, "domiciliacion"),
        ("Señorío de Comillas Turismo SL", 2, 30, "transferencia", {"late": 6}),
    ],
)
NORTE = Company(
    code="norte",
    name="Norte Consultores Asociados SL",
    nif=cif("B", "3954321"),
    form="SL",
    activity="Consultoría de gestión empresarial (CNAE 7022)",
    address="Calle Hernán Cortés 12, 3.º, 39003 Santander (Cantabria)",
    model="pymes",
    journal_format="b",
    with_chart=True,
    banks=(Bank("5720001", iban("0049", "5401", "2716543210"), "Banco Santander"),),
    opening={
        "1000000": -EUR("12000.00"),
        "1120000": -EUR("2400.00"),
        "1290000": -EUR("61234.80"),
        "5720001": EUR("118540.33"),
        "2600000": EUR("4200.00"),
        "4750000": -EUR("21305.10"),
        "4751000": -EUR("9120.45"),
        "4751100": -EUR("1197.00"),
        "4760000": -EUR("5480.70"),
        "4752000": -EUR("9870.00"),
    },
    customers=NORTE_CUSTOMERS,
    sales=(
        Sales("7050000", D(21), (7, 10), (EUR("1100.00"), EUR("4600.00")), "Servicios de consultoría"),
        Sales("7050001", D(21), (1, 3), (EUR("650.00"), EUR("2400.00")), "Formación in company", series="B"),
    ),
    expenses=(
        Expense(
            Party("4100002", "Gutiérrez Sainz, Fernando", dni("13456789"), days=4, method="transferencia"),
            "6210000",
            D(21),
            (EUR("2100.00"), EUR("2100.00")),
            "Alquiler oficina Hernán Cortés 12 – mensualidad",
            day=1,
            withholding=D(19),
            withholding_account="4751100",
            n43="04",
        ),
        Expense(
            Party("4100003", "Pérez Rueda, Ana", dni("72123456"), days=15),
            "6230000",
            D(21),
            (EUR("800.00"), EUR("2600.00")),
            "Colaboración consultoría – honorarios",
            per_month=(0, 2),
            withholding=D(15),
            n43="04",
        ),
        Expense(
            Party("4100004", "Software Cantábrico SL", cif("B", "3987654"), days=10, method="domiciliacion"),
            "6290000",
            D(21),
            (EUR("240.00"), EUR("310.00")),
            "Licencias software de gestión",
            day=2,
        ),
        Expense(
            Party("4100005", "Viesgo Energía SL", cif("B", "3912345"), days=10, method="domiciliacion"),
            "6280000",
            D(21),
            (EUR("160.00"), EUR("320.00")),
            "Suministro eléctrico oficina",
            day=12,
        ),
        Expense(
            Party("4100006", "Viajes y Congresos Cantabria SL", cif("B", "3923456"), days=30),
            "6290001",
            D(21),
            (EUR("120.00"), EUR("980.00")),
            "Desplazamientos y alojamiento – señor Núñez",
            per_month=(1, 3),
        ),
        Expense(
            Party("4100007", "Seguros Atlántico SA", cif("A", "3934567"), days=5, method="domiciliacion"),
            "6250000",
            D(0),
            (EUR("1450.00"), EUR("1520.00")),
            "Seguro de responsabilidad civil profesional (año)",
            day=10,
            months=(2,),
        ),
        Expense(
            None,
            "6260000",
            D(0),
            (EUR("8.00"), EUR("35.00")),
            "Comisión mantenimiento 12 € y transferencias",
            day=27,
            direct=True,
            n43="17",
        ),
    ),
    employees=_employees(
        [
            ("Núñez Cagigas, Íñigo", "2015-01-12", "100", "Consultor sénior", 1, 46200, 19),
            ("Fernández Peña, Begoña", "2017-04-03", "100", "Consultora", 2, 37800, 16),
            ("Ibáñez Ruiz, Sergio", "2020-10-01", "100", "Consultor", 2, 33600, 15),
            ("Castañeda Gómez, Nuria", "2019-06-01", "100", "Administrativa", 5, 25200, 11),
            (
                "Ortiz Mañanes, Pablo",
                "2023-09-01",
                "420",
                "Consultor en prácticas",
                2,
                21000,
                5,
                {"end": date(2024, 8, 31), "planned_end": date(2024, 8, 31), "reason": "Fin de contrato"},
            ),
            ("Saiz Bustamante, Lorena", "2024-09-16", "100", "Consultora", 2, 30800, 13),
        ],
        "39",
    ),
    assets=(
        Asset("2160000", "2816000", "Mobiliario de oficina", EUR("18600.00"), date(2018, 3, 1), 10),
        Asset("2170000", "2817000", "Portátiles y servidor", EUR("12400.00"), date(2021, 9, 1), 4),
        Asset(
            "2170000",
            "2817000",
            "Renovación portátiles consultores",
            EUR("9800.00"),
            date(2025, 9, 15),
            4,
            supplier=Party("5230001", "Informática Santander SL", cif("B", "3945678"), days=0),
        ),
    ),
    tax_rate=D(23),
    prior_tax=(EUR("15200.00"), EUR("18400.00")),
    growth={2023: D("1.00"), 2024: D("1.07"), 2025: D("1.11"), 2026: D("1.15")},
    seasonality=tuple(
        D(x) for x in ("0.9", "1.0", "1.1", "1.0", "1.1", "1.1", "0.9", "0.5", "1.0", "1.1", "1.1", "1.0")
    ),
    tax_payment="domiciliacion",
    firm_fee=EUR("150.00"),
)

# --- (c) La Brasa de Triana SL: restaurant ----------------------------------------------------------------------

LABRASA = Company(
    code="labrasa",
    name="La Brasa de Triana SL",
    nif=cif("B", "4187654"),
    form="SL",
    activity="Restaurante (CNAE 5610)",
    address="Calle Betis 45, 41010 Sevilla",
    model="pymes",
    journal_format="c",
    banks=(Bank("5720001", iban("2103", "0722", "0030012345"), "Unicaja"),),
    opening={
        "1000000": -EUR("6000.00"),
        "1120000": -EUR("1200.00"),
        "1290000": -EUR("38420.10"),
        "5700000": EUR("1512.35"),
        "5720001": EUR("46230.18"),
        "3000000": EUR("6850.00"),
        "2600000": EUR("9600.00"),
        "4750000": -EUR("6120.44"),
        "4751000": -EUR("3890.12"),
        "4751100": -EUR("1824.00"),
        "4760000": -EUR("9410.75"),
        "4752000": -EUR("4100.00"),
    },
    customers=_customers(
        "41",
        [
            ("Eventos y Congresos Giralda SL", 3, 30, "transferencia", {"late": 10}),
            ("Asociación Empresarios de Triana", 1, 15, "transferencia"),
            ("Despacho Jurídico Maestranza SL", 2, 30, "transferencia", {"late": 20}),
            ("Viajes Guadalquivir SL", 2, 30, "transferencia", {"late": 5}),
        ],
    ),
    sales=(
        Sales("7050000", D(10), (1, 3), (EUR("600.00"), EUR("3600.00")), "Servicio de catering y eventos", series="E"),
    ),
    restaurant=Restaurant(
        daily=(EUR("1300.00"), EUR("2900.00")), card_share=D("0.66"), card_fee=D("0.45"), cash_float=EUR("1000.00")
    ),
    expenses=(
        Expense(
            Party("4000001", "Cárnicas del Aljarafe SL", cif("B", "4123456"), days=30),
            "6000001",
            D(10),
            (EUR("580.00"), EUR("1850.00")),
            "Compra carnes",
            per_month=(8, 10),
        ),
        Expense(
            Party("4000002", "Pescados Huelva Mar SL", cif("B", "2134567"), days=15),
            "6000002",
            D(10),
            (EUR("390.00"), EUR("1250.00")),
            "Compra pescados y mariscos",
            per_month=(6, 8),
        ),
        Expense(
            Party(
                "4000003",
                "Distribuciones de Bebidas Guadalquivir SL",
                cif("B", "4145678"),
                days=30,
                method="domiciliacion",
            ),
            "6000005",
            D(21),
            (EUR("780.00"), EUR("2250.00")),
            "Compra bebidas",
            per_month=(3, 4),
        ),
        Expense(
            Party("4000004", "Lácteos y Cafés Andaluces SL", cif("B", "4156789"), days=30, method="domiciliacion"),
            "6000006",
            D(10),
            (EUR("210.00"), EUR("640.00")),
            "Compra lácteos y café",
            per_month=(2, 2),
        ),
        Expense(
            None,
            "6000003",
            D(4),
            (EUR("140.00"), EUR("460.00")),
            "Mercado de Triana – frutas y verduras",
            per_month=(7, 9),
            paid_from="5700000",
            direct=True,
        ),
        Expense(
            None,
            "6000004",
            D(4),
            (EUR("55.00"), EUR("140.00")),
            "Panadería San Jacinto – pan",
            per_month=(4, 5),
            paid_from="5700000",
            direct=True,
        ),
        Expense(
            Party("4100002", "Inmuebles Betis SL", cif("B", "4198765"), days=5),
            "6210000",
            D(21),
            (EUR("3200.00"), EUR("3200.00")),
            "Alquiler local Calle Betis 45",
            day=1,
            withholding=D(19),
            withholding_account="4751100",
            n43="04",
        ),
        Expense(
            Party("4100003", "Endesa Energía SAU", cif("A", "8195611"), days=10, method="domiciliacion"),
            "6280000",
            D(21),
            (EUR("980.00"), EUR("1980.00")),
            "Electricidad y gas",
            day=9,
        ),
        Expense(
            Party("4100004", "Limpiezas Sevillanas SL", cif("B", "4167890"), days=30),
            "6290000",
            D(21),
            (EUR("310.00"), EUR("420.00")),
            "Limpieza y lavandería",
            day=28,
        ),
        Expense(
            Party("4100005", "Frío Industrial Hispalense SL", cif("B", "4178901"), days=30),
            "6220000",
            D(21),
            (EUR("120.00"), EUR("1300.00")),
            "Reparación cámara frigorífica",
            per_month=(0, 1),
        ),
        Expense(
            Party("4100006", "Mapfre España SA", cif("A", "2811534"), days=5, method="domiciliacion"),
            "6250000",
            D(0),
            (EUR("620.00"), EUR("690.00")),
            "Seguro local y responsabilidad civil (trimestre)",
            day=4,
            months=MONTHS_Q,
        ),
        Expense(
            None, "6260000", D(0), (EUR("12.00"), EUR("40.00")), "Comisiones bancarias", day=28, direct=True, n43="17"
        ),
    ),
    employees=_employees(
        [
            ("Romero Vargas, Manuel", "2018-03-01", "100", "Jefe de cocina", 3, 30800, 13),
            ("Jiménez Ortega, Rocío", "2018-03-01", "100", "Jefa de sala", 5, 25900, 11),
            ("Márquez Luna, Antonio", "2019-05-01", "100", "Cocinero", 8, 21700, 8),
            ("Delgado Pozo, Cristina", "2020-02-01", "100", "Camarera", 10, 19600, 6),
            ("Ramírez Calvo, Álvaro", "2021-04-01", "100", "Camarero", 10, 19600, 6),
            (
                "Mendoza Quispe, Luis",
                "2021-09-01",
                "200",
                "Ayudante de cocina",
                10,
                18200,
                4,
                {"jornada": 75, "foreign": True},
            ),
            ("Santos Herrera, Marta", "2022-03-01", "200", "Camarera", 10, 19600, 3, {"jornada": 50}),
            ("Gallardo Ruiz, Javier", "2022-06-01", "300", "Camarero", 10, 19600, 5),
            (
                "Benítez Mora, Paula",
                "2023-06-01",
                "402",
                "Camarera de refuerzo",
                10,
                19600,
                3,
                {"end": date(2023, 9, 30), "planned_end": date(2023, 9, 30), "reason": "Fin de contrato"},
            ),
            (
                "Castro Medina, Raúl",
                "2024-04-01",
                "502",
                "Ayudante de camarero",
                10,
                19600,
                2,
                {
                    "jornada": 50,
                    "end": date(2024, 10, 31),
                    "planned_end": date(2024, 10, 31),
                    "reason": "Fin de contrato",
                },
            ),
            (
                "Díaz Fuentes, Irene",
                "2025-05-01",
                "402",
                "Camarera de refuerzo",
                10,
                19600,
                3,
                {"end": date(2025, 9, 30), "planned_end": date(2025, 9, 30), "reason": "Fin de contrato"},
            ),
            ("Ruiz Prieto, Daniel", "2025-11-03", "100", "Cocinero", 8, 22400, 8),
            (
                "Gil Aranda, Sofía",
                "2026-04-01",
                "402",
                "Camarera de refuerzo",
                10,
                20400,
                3,
                {"planned_end": date(2026, 12, 31)},
            ),
        ],
        "41",
    ),
    assets=(
        Asset("2130000", "2813000", "Equipamiento de cocina", EUR("64800.00"), date(2019, 3, 1), 10),
        Asset("2160000", "2816000", "Mobiliario de sala y terraza", EUR("29750.00"), date(2019, 3, 1), 10),
        Asset(
            "2150000",
            "2815000",
            "Reforma de cocina y terraza",
            EUR("46800.00"),
            date(2024, 8, 12),
            10,
            supplier=Party("5230002", "Reformas y Obras Hispalis SL", cif("B", "4190123"), days=0),
        ),
        Asset(
            "2130000",
            "2813000",
            "Horno mixto Rational iCombi",
            EUR("17900.00"),
            date(2025, 2, 17),
            10,
            supplier=Party("5230001", "Hostelería Equipamientos del Sur SL", cif("B", "4189012"), days=0),
        ),
    ),
    loans=(
        Loan(
            "1700001",
            "5200001",
            "5720001",
            EUR("60000.00"),
            date(2020, 7, 10),
            72,
            D("3.50"),
            "Préstamo ICO Unicaja",
        ),
    ),
    closing_stock={2023: EUR("7240.00"), 2024: EUR("6980.50"), 2025: EUR("7615.30")},
    tax_rate=D(23),
    prior_tax=(EUR("6900.00"), EUR("8800.00")),
    growth={2023: D("1.00"), 2024: D("1.04"), 2025: D("1.07"), 2026: D("1.09")},
    seasonality=tuple(
        D(x) for x in ("0.85", "0.95", "1.1", "1.25", "1.2", "1.0", "0.8", "0.6", "0.95", "1.05", "1.0", "1.2")
    ),
    firm_fee=EUR("200.00"),
)

# --- (d) María García López: self-employed architect -----------------------------------------------------------

MGARCIA = Company(
    code="mgarcia",
    name="María García López",
    nif=dni("50123456"),
    form="autonomo",
    activity="Arquitecta (IAE 841, CNAE 7111)",
    address="Calle de Ponzano 58, 2.º B, 28003 Madrid",
    model="pymes",
    journal_format="d",
    banks=(Bank("5720001", iban("1465", "0100", "9712345678"), "ING"),),
    opening={"5720001": EUR("21450.90")},
    customers=_customers(
        "28",
        [
            ("Promociones Chamberí SL", 4, 30, "transferencia", {"withholds": True, "late": 15}),
            ("Constructora Castellana SA", 3, 45, "transferencia", {"withholds": True, "late": 20}),
            ("Comunidad de Propietarios Ponzano 40", 2, 30, "transferencia", {"withholds": True}),
            ("Inmobiliaria Retiro SL", 2, 30, "transferencia", {"withholds": True, "late": 10}),
            ("Álvarez Montes, Carlos", 2, 15, "transferencia"),
            ("Sánchez Beltrán, Lucía", 2, 15, "transferencia"),
            ("Moreno Ortega, Javier", 1, 15, "transferencia"),
            ("Díaz Ferrán, Patricia", 1, 15, "transferencia", {"late": 30}),
        ],
    ),
    sales=(
        Sales(
            "7050000",
            D(21),
            (4, 7),
            (EUR("700.00"), EUR("3400.00")),
            "Honorarios proyecto, dirección de obra",
            series="MG",
        ),
    ),
    expenses=(
        Expense(
            Party("4100002", "Coworking Chamberí SL", cif("B", "2887654"), days=5, method="domiciliacion"),
            "6210000",
            D(21),
            (EUR("390.00"), EUR("390.00")),
            "Puesto fijo coworking, cuota mensual",
            day=1,
            withholding=D(19),
            withholding_account="4751100",
        ),
        Expense(
            Party("4100003", "Arquitectura Digital Software SL", cif("B", "2876543"), days=5, method="domiciliacion"),
            "6290000",
            D(21),
            (EUR("96.00"), EUR("118.00")),
            "Licencias CAD y BIM",
            day=3,
        ),
        Expense(
            Party("4100004", "Orange Espagne SAU", cif("A", "8290965"), days=10, method="domiciliacion"),
            "6290001",
            D(21),
            (EUR("48.00"), EUR("72.00")),
            "Telefonía móvil, fibra",
            day=6,
        ),
        Expense(
            Party("4100005", "Gómez Arranz, Pedro (ingeniero de estructuras)", dni("51234567"), days=30),
            "6230000",
            D(21),
            (EUR("600.00"), EUR("2200.00")),
            "Cálculo de estructuras, colaboración",
            per_month=(1, 1),
            months=(2, 5, 9, 11),
            withholding=D(15),
            n43="04",
        ),
        Expense(
            Party(
                "4100006",
                "Colegio Oficial de Arquitectos de Madrid",
                cif("Q", "2863001"),
                days=5,
                method="domiciliacion",
            ),
            "6290002",
            D(0),
            (EUR("118.00"), EUR("118.00")),
            "Cuota colegial trimestral",
            day=10,
            months=MONTHS_Q,
        ),
        Expense(
            Party("4100007", "Asemas Mutua de Seguros", cif("V", "0863201"), days=5, method="domiciliacion"),
            "6250000",
            D(0),
            (EUR("760.00"), EUR("790.00")),
            "Seguro de responsabilidad civil profesional",
            day=15,
            months=(3,),
        ),
        Expense(
            None, "6260000", D(0), (EUR("0.00"), EUR("9.00")), "Comisiones bancarias", day=27, direct=True, n43="17"
        ),
    ),
    assets=(
        Asset("2170000", "2817000", "Estación de trabajo y plotter", EUR("4380.00"), date(2022, 5, 1), 4),
        Asset(
            "2170000",
            "2817000",
            "Portátil de obra",
            EUR("2140.00"),
            date(2024, 9, 12),
            4,
            supplier=Party("5230001", "Microinformática Madrid SL", cif("B", "2865432"), days=0),
        ),
    ),
    tax_rate=None,
    growth={2023: D("1.00"), 2024: D("1.06"), 2025: D("1.10"), 2026: D("1.12")},
    seasonality=tuple(
        D(x) for x in ("0.9", "1.0", "1.1", "1.0", "1.1", "1.1", "1.0", "0.4", "1.0", "1.1", "1.1", "1.2")
    ),
    owner_draw=EUR("6500.00"),
    reta=EUR("294.00"),
    tax_payment="domiciliacion",
    firm_fee=EUR("60.00"),
)

# --- (e) Transportes y Logística Mediterráneo SA: larger company (abreviado) -----------------------------------

_FIRST = (
    "Antonio",
    "José",
    "Francisco",
    "Juan",
    "Manuel",
    "David",
    "Javier",
    "Carlos",
    "Miguel",
    "Rafael",
    "Pedro",
    "Ángel",
    "Sergio",
    "Pablo",
    "Jorge",
    "Alberto",
    "Luis",
    "Raúl",
    "Iván",
    "Rubén",
    "Óscar",
    "Adrián",
    "María",
    "Carmen",
    "Laura",
    "Marta",
    "Silvia",
    "Rosa",
    "Pilar",
    "Nuria",
)
_LAST = (
    "García",
    "Martínez",
    "López",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Hernández",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Alonso",
    "Gutiérrez",
    "Navarro",
    "Torres",
    "Domínguez",
    "Vázquez",
    "Ramos",
    "Gil",
    "Ramírez",
    "Serrano",
    "Blanco",
    "Molina",
    "Morales",
    "Suárez",
    "Ortega",
    "Castillo",
    "Rubio",
)
_ROLES = (
    ("Conductor mecánico", 8, 27300, 10, 22),
    ("Mozo de almacén", 9, 21000, 7, 4),
    ("Jefe de tráfico", 3, 39200, 16, 2),
    ("Administrativo", 5, 25200, 11, 3),
    ("Mecánico", 8, 26600, 10, 2),
    ("Director financiero", 1, 63000, 27, 1),
    ("Gerente", 1, 75600, 30, 1),
)


def _mediterraneo_staff() -> list[tuple]:
    rows: list[tuple] = []
    k = 0
    for role, group, salary, irpf, count in _ROLES:
        for _ in range(count):
            name = f"{_LAST[(k * 7) % len(_LAST)]} {_LAST[(k * 11 + 3) % len(_LAST)]}, {_FIRST[(k * 13) % len(_FIRST)]}"
            start = date(2008 + k % 15, 1 + (k * 5) % 12, 1).isoformat()
            extra: dict = {"foreign": True} if k % 9 == 4 else {}
            if k == 6:
                extra |= {"end": date(2024, 5, 31), "reason": "Dimisión"}
            if k == 15:
                extra |= {"end": date(2025, 10, 15), "reason": "Despido disciplinario"}
            rows.append((name, start, "100", role, group, salary + (k % 4) * 700, irpf, extra))
            k += 1
    rows.append(("Quiles Berenguer, Héctor", "2024-06-03", "100", "Conductor mecánico", 8, 26600, 9))
    rows.append(("Pastor Climent, Noelia", "2025-11-03", "100", "Administrativa", 5, 25900, 10))
    rows.append(
        ("Soler Amorós, Iker", "2026-03-02", "402", "Mozo de almacén", 9, 21700, 5, {"planned_end": date(2026, 12, 15)})
    )
    return rows


MED_CUSTOMERS = _customers(
    "03",
    [
        ("Mercadona SA", 12, 45, "confirming", {"late": 2}),
        ("Frutas Vega Baja SCoop", 5, 60, "transferencia", {"late": 20}),
        ("Calzados Elda Export SL", 4, 60, "pagare", {"late": 5}),
        ("Juguetes Ibi Toys SA", 5, 60, "transferencia", {"late": 15, "bank": "5720002"}),
        ("Turrones Jijona Tradición SL", 3, 30, "domiciliacion", {"returns": True}),
        ("Mármoles Novelda SA", 4, 90, "pagare", {"late": 10}),
        ("Cerámicas Castellón Export SA", 4, 60, "transferencia", {"late": 20}),
        ("Textiles Alcoy SL", 3, 45, "transferencia", {"late": 25, "bank": "5720002"}),
        ("Distribuciones Alimentarias Elche SL", 5, 30, "domiciliacion"),
        ("Hipermercados del Sureste SA", 6, 60, "confirming", {"late": 3}),
        ("Vinos de Alicante DOP SL", 2, 30, "domiciliacion", {"returns": True}),
        ("Papelera de Petrer SA", 3, 60, "transferencia", {"late": 12}),
        ("Embalajes Villena SL", 2, 30, "transferencia"),
        ("Agroexport Orihuela SL", 4, 60, "transferencia", {"late": 30, "bank": "5720002"}),
        ("Muebles Yecla Diseño SL", 3, 60, "pagare"),
        ("Logística Inversa Levante SL", 2, 30, "transferencia", {"defaults_from": date(2024, 9, 1)}),
        ("Químicas del Vinalopó SA", 3, 60, "transferencia", {"late": 18}),
        ("Plásticos Crevillent SL", 2, 30, "domiciliacion"),
    ],
)


def _med_suppliers() -> tuple[Expense, ...]:
    fuel = Party(
        "4000001", "Solred Carburantes SA", cif("A", "7912345"), days=15, method="domiciliacion", bank="5720001"
    )
    subcontractors = [
        Party(f"400{2 + i:04d}", name, cif("B", f"03{31 + i * 7:03d}{i}1"), days=60)
        for i, name in enumerate(
            (
                "Transportes Hermanos Pastor SL",
                "Autocares y Cargas Marina Alta SL",
                "Trans-Segura Logística SL",
                "Camiones del Vinalopó SL",
                "Frigoríficos Levante Express SL",
            )
        )
    ]
    return (
        Expense(fuel, "6280001", D(21), (EUR("1600.00"), EUR("4600.00")), "Gasóleo flota", per_month=(24, 30)),
        *(
            Expense(p, "6070000", D(21), (EUR("1700.00"), EUR("6600.00")), "Portes subcontratados", per_month=(5, 7))
            for p in subcontractors
        ),
        Expense(
            Party("4100002", "Autopistas del Mediterráneo SA", cif("A", "0812345"), days=10, method="domiciliacion"),
            "6290001",
            D(21),
            (EUR("750.00"), EUR("2100.00")),
            "Peajes",
            per_month=(4, 4),
        ),
        Expense(
            Party("4100003", "Talleres Diésel Alicante SL", cif("B", "0398765"), days=30),
            "6220000",
            D(21),
            (EUR("380.00"), EUR("3100.00")),
            "Mantenimiento y reparación flota",
            per_month=(6, 10),
        ),
        Expense(
            Party("4100004", "Neumáticos San Vicente SL", cif("B", "0387654"), days=45),
            "6220001",
            D(21),
            (EUR("900.00"), EUR("4800.00")),
            "Neumáticos",
            per_month=(1, 2),
        ),
        Expense(
            Party("4100005", "Allianz Compañía de Seguros SA", cif("A", "2800739"), days=5, method="domiciliacion"),
            "6250000",
            D(0),
            (EUR("18200.00"), EUR("21400.00")),
            "Seguro flota y mercancías (trimestre)",
            day=5,
            months=MONTHS_Q,
            paid_from="5720002",
        ),
        Expense(
            Party("4100006", "Naves Logísticas Agua Amarga SL", cif("B", "0376543"), days=5),
            "6210000",
            D(21),
            (EUR("6500.00"), EUR("6500.00")),
            "Alquiler nave 2 Polígono Agua Amarga",
            day=1,
            withholding=D(19),
            withholding_account="4751100",
            n43="04",
        ),
        Expense(
            Party("4100007", "Iberdrola Clientes SAU", cif("A", "9557344"), days=10, method="domiciliacion"),
            "6280000",
            D(21),
            (EUR("1800.00"), EUR("3400.00")),
            "Electricidad naves",
            day=8,
        ),
        Expense(
            Party("4100008", "Sistemas Informáticos Alicante SL", cif("B", "0365432"), days=30),
            "6290000",
            D(21),
            (EUR("980.00"), EUR("1450.00")),
            "Mantenimiento ERP y localización GPS",
            day=2,
        ),
        Expense(
            Party("4100009", "Gestoría Tacógrafos y Permisos SL", cif("B", "0354321"), days=30),
            "6230001",
            D(21),
            (EUR("250.00"), EUR("900.00")),
            "Tarjetas de transporte y tacógrafos",
            per_month=(0, 1),
        ),
        Expense(
            None,
            "6260000",
            D(0),
            (EUR("90.00"), EUR("280.00")),
            "Comisiones y gastos bancarios",
            day=28,
            direct=True,
            n43="17",
        ),
        Expense(
            None,
            "6260000",
            D(0),
            (EUR("30.00"), EUR("95.00")),
            "Comisiones cuenta operativa",
            day=28,
            direct=True,
            n43="17",
            paid_from="5720002",
        ),
    )


MEDITERRANEO = Company(
    code="mediterraneo",
    name="Transportes y Logística Mediterráneo SA",
    nif=cif("A", "0345678"),
    form="SA",
    activity="Transporte de mercancías por carretera y almacenaje (CNAE 4941, 5210)",
    address="Polígono Industrial Agua Amarga, Calle del Puerto 142, 03008 Alicante",
    model="abreviado",
    journal_format="e",
    with_chart=True,
    banks=(
        Bank("5720001", iban("0049", "6742", "2510034567"), "Banco Santander"),
        Bank("5720002", iban("0182", "3410", "0201512345"), "BBVA", target=EUR("150000.00")),
        Bank("5720003", iban("2100", "4350", "0200234567"), "CaixaBank", target=EUR("25000.00")),
    ),
    opening={
        "1000000": -EUR("600000.00"),
        "1120000": -EUR("120000.00"),
        "1290000": -EUR("412630.25"),
        "5720001": EUR("786320.71"),
        "5720002": EUR("152400.00"),
        "5720003": EUR("31250.48"),
        "2600000": EUR("19500.00"),
        "4750000": -EUR("61240.18"),
        "4751000": -EUR("58310.40"),
        "4751100": -EUR("3705.00"),
        "4760000": -EUR("41880.63"),
        "4752000": -EUR("52300.00"),
    },
    customers=MED_CUSTOMERS,
    sales=(
        Sales("7050000", D(21), (85, 105), (EUR("1400.00"), EUR("6600.00")), "Servicio de transporte", series="T"),
        Sales(
            "7050001",
            D(21),
            (10, 14),
            (EUR("2100.00"), EUR("5900.00")),
            "Servicio de almacenaje y preparación",
            series="L",
        ),
    ),
    expenses=_med_suppliers(),
    employees=_employees(_mediterraneo_staff(), "03"),
    assets=(
        Asset("2110000", "2811000", "Nave logística Agua Amarga", EUR("1250000.00"), date(2015, 5, 1), 33),
        *(
            Asset("2180000", "2818000", f"Tractora {model} {plate}", EUR(cost), date.fromisoformat(day), 8)
            for model, plate, cost, day in (
                ("Volvo FH 500", "7384-KLM", "96500.00", "2019-02-01"),
                ("Volvo FH 500", "7391-KLM", "96500.00", "2019-02-01"),
                ("Scania R450", "2210-LBC", "101200.00", "2020-06-01"),
                ("Scania R450", "2218-LBC", "101200.00", "2020-06-01"),
                ("Mercedes Actros 1845", "9052-LPS", "104800.00", "2021-03-01"),
                ("Mercedes Actros 1845", "9060-LPS", "104800.00", "2021-03-01"),
                ("DAF XF 480", "4477-MCH", "99900.00", "2022-04-01"),
                ("DAF XF 480", "4481-MCH", "99900.00", "2022-04-01"),
            )
        ),
        Asset("2180001", "2818001", "Semirremolques frigoríficos (6)", EUR("228000.00"), date(2020, 1, 1), 10),
        Asset(
            "2170000", "2817000", "Equipos informáticos y terminales de flota", EUR("45300.00"), date(2021, 10, 1), 4
        ),
        Asset("2060000", "2806000", "ERP de gestión de transporte", EUR("28400.00"), date(2022, 1, 1), 3),
        Asset(
            "2180000",
            "2818000",
            "Tractora Volvo FH 500 1190-NDR",
            EUR("150000.00"),
            date(2024, 12, 30),
            8,
            supplier=Party("5230001", "Volvo Trucks Alicante SA", cif("A", "0334567"), days=0),
            paid_from="5720002",
        ),
        Asset(
            "2180000",
            "2818000",
            "Tractora Scania R500 5531-NHJ",
            EUR("118500.00"),
            date(2025, 6, 16),
            8,
            supplier=Party("5230002", "Scania Hispania SA", cif("A", "2813579"), days=0),
        ),
    ),
    loans=(
        Loan(
            "1700001",
            "5200001",
            "5720003",
            EUR("900000.00"),
            date(2022, 3, 15),
            84,
            D("4.25"),
            "Préstamo CaixaBank flota",
        ),
    ),
    tax_rate=D(25),
    prior_tax=(EUR("98500.00"), EUR("112400.00")),
    dividend_share=D("0.40"),
    growth={2023: D("1.00"), 2024: D("1.04"), 2025: D("1.07"), 2026: D("1.09")},
    seasonality=tuple(
        D(x) for x in ("0.9", "0.95", "1.05", "1.0", "1.05", "1.1", "1.05", "0.8", "1.05", "1.1", "1.05", "1.1")
    ),
    firm_fee=EUR("650.00"),
    at_rate=D("3.35"),
    shares=EUR("600000.00"),
)

# --- (f) Almazara El Olivo SL: its package exports no journal, only «sumas y saldos» (etl/demo/trial_balance.py) ---

OLIVO = replace(
    NORTE,
    code="olivo",
    name="Almazara El Olivo SL",
    nif=cif("B", "2318642"),
    activity="Fabricación de aceite de oliva (CNAE 1043)",
    address="Carretera de Bailén km 4, 23740 Andújar (Jaén)",
    journal_format="sumas_y_saldos",
    with_chart=False,
    banks=(Bank("5720001", iban("3067", "0023", "0012345678"), "Caja Rural de Jaén"),),
    sales=(
        Sales("7000000", D(4), (7, 10), (EUR("1100.00"), EUR("4600.00")), "Aceite de oliva virgen extra a granel"),
        Sales("7000001", D(4), (1, 3), (EUR("650.00"), EUR("2400.00")), "Aceite envasado", series="B"),
    ),
)

# --- (g) Talleres Ebro SL: ContaPlus; its journal is a backup zip with one DIARIO.DBF per year ---

EBRO = replace(
    NORTE,
    code="ebro",
    name="Talleres Ebro SL",
    nif=cif("B", "5012347"),
    activity="Mantenimiento y reparación de vehículos de motor (CNAE 4520)",
    address="Polígono Cogullada, C/ Río Ebro 12, 50014 Zaragoza",
    journal_format="contaplus",
    with_chart=False,
    banks=(Bank("5720001", iban("2085", "0100", "0123456789"), "Ibercaja"),),
)

# --- (h) Bodegas Duero SL: a3ECO; its journal is a listing with one amount and a D/H key per line ---

DUERO = replace(
    NORTE,
    code="duero",
    name="Bodegas Duero SL",
    nif=cif("B", "4703218"),
    activity="Elaboración de vinos (CNAE 1102)",
    address="Carretera de Soria km 2, 47300 Peñafiel (Valladolid)",
    journal_format="a3eco",
    with_chart=False,
    banks=(Bank("5720001", iban("2103", "0400", "0012345678"), "Unicaja"),),
)

# Companies whose journal is another package's export (after the others: they take no part in the firm's invoices).
PACKAGE_COMPANIES = (EBRO, DUERO)

COMPANIES: tuple[Company, ...] = (LEVANTE, NORTE, LABRASA, MGARCIA, MEDITERRANEO, OLIVO, *PACKAGE_COMPANIES)

# Shareholders paid dividends by the companies that distribute profits (no withholding: a parent company).
DIVIDEND_PAYEE = {"mediterraneo": ("Grupo Mediterráneo Holding SL", cif("B", "0399887"))}
