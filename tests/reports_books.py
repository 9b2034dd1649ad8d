"""A small hand-made company for the report tests: two fiscal years touching every sign rule, loaded for real."""

from __future__ import annotations

import json
from pathlib import Path

from etl import service
from etl.store import Snapshot, Store
from portal.settings import load_settings

HEADER = "fecha;asiento;cuenta;concepto;debe;haber;tipo\n"

# 2024: capital, a machine, a sale and a purchase, depreciation (281 contra), bad-debt allowance (490 contra),
# then regularización (result 400,00 to 129) and cierre. 2025: apertura, the 2024 result to reserves, a
# collection, a supplier paid from bank 2 which goes overdrawn, a sale, salaries, a loan to one partner (551
# debit) and from another (551 credit), interest, a purchase and depreciation; 2025 is not closed.
JOURNAL = HEADER + (
    "01/01/2024;1;5720001;Aportación capital;10.000,00;;normal\n"
    "01/01/2024;1;1000000;Aportación capital;;10.000,00;normal\n"
    "15/01/2024;2;2130000;Compra máquina;6.000,00;;normal\n"
    "15/01/2024;2;5720001;Compra máquina;;6.000,00;normal\n"
    "10/03/2024;3;4300001;Factura 1;2.420,00;;normal\n"
    "10/03/2024;3;7000000;Factura 1;;2.000,00;normal\n"
    "10/03/2024;3;4770000;Factura 1;;420,00;normal\n"
    "20/03/2024;4;6000000;Compra mercaderías;800,00;;normal\n"
    "20/03/2024;4;4720000;Compra mercaderías;168,00;;normal\n"
    "20/03/2024;4;4000001;Compra mercaderías;;968,00;normal\n"
    "31/12/2024;5;6810000;Amortización;600,00;;normal\n"
    "31/12/2024;5;2813000;Amortización;;600,00;normal\n"
    "31/12/2024;6;6940000;Deterioro clientes;200,00;;normal\n"
    "31/12/2024;6;4900000;Deterioro clientes;;200,00;normal\n"
    "31/12/2024;7;7000000;Regularización;2.000,00;;regularizacion\n"
    "31/12/2024;7;6000000;Regularización;;800,00;regularizacion\n"
    "31/12/2024;7;6810000;Regularización;;600,00;regularizacion\n"
    "31/12/2024;7;6940000;Regularización;;200,00;regularizacion\n"
    "31/12/2024;7;1290000;Regularización;;400,00;regularizacion\n"
    "31/12/2024;8;1000000;Cierre;10.000,00;;cierre\n"
    "31/12/2024;8;2813000;Cierre;600,00;;cierre\n"
    "31/12/2024;8;4770000;Cierre;420,00;;cierre\n"
    "31/12/2024;8;4000001;Cierre;968,00;;cierre\n"
    "31/12/2024;8;4900000;Cierre;200,00;;cierre\n"
    "31/12/2024;8;1290000;Cierre;400,00;;cierre\n"
    "31/12/2024;8;5720001;Cierre;;4.000,00;cierre\n"
    "31/12/2024;8;2130000;Cierre;;6.000,00;cierre\n"
    "31/12/2024;8;4300001;Cierre;;2.420,00;cierre\n"
    "31/12/2024;8;4720000;Cierre;;168,00;cierre\n"
    "01/01/2025;1;5720001;Apertura;4.000,00;;apertura\n"
    "01/01/2025;1;2130000;Apertura;6.000,00;;apertura\n"
    "01/01/2025;1;4300001;Apertura;2.420,00;;apertura\n"
    "01/01/2025;1;4720000;Apertura;168,00;;apertura\n"
    "01/01/2025;1;1000000;Apertura;;10.000,00;apertura\n"
    "01/01/2025;1;2813000;Apertura;;600,00;apertura\n"
    "01/01/2025;1;4770000;Apertura;;420,00;apertura\n"
    "01/01/2025;1;4000001;Apertura;;968,00;apertura\n"
    "01/01/2025;1;4900000;Apertura;;200,00;apertura\n"
    "01/01/2025;1;1290000;Apertura;;400,00;apertura\n"
    "15/02/2025;2;1290000;Aplicación resultado;400,00;;normal\n"
    "15/02/2025;2;1120000;Aplicación resultado;;40,00;normal\n"
    "15/02/2025;2;1130000;Aplicación resultado;;360,00;normal\n"
    "20/02/2025;3;5720001;Cobro factura 1;2.420,00;;normal\n"
    "20/02/2025;3;4300001;Cobro factura 1;;2.420,00;normal\n"
    "10/03/2025;4;4000001;Pago proveedor;968,00;;normal\n"
    "10/03/2025;4;5720002;Pago proveedor;;968,00;normal\n"
    "15/04/2025;5;4300002;Factura 2;3.630,00;;normal\n"
    "15/04/2025;5;7050000;Factura 2;;3.000,00;normal\n"
    "15/04/2025;5;4770000;Factura 2;;630,00;normal\n"
    "20/05/2025;6;6400000;Nóminas;1.500,00;;normal\n"
    "20/05/2025;6;5720001;Nóminas;;1.500,00;normal\n"
    "10/06/2025;7;5510001;Préstamo a socio A;500,00;;normal\n"
    "10/06/2025;7;5720001;Préstamo a socio A;;500,00;normal\n"
    "10/06/2025;7;5720001;Préstamo de socio B;300,00;;normal\n"
    "10/06/2025;7;5510002;Préstamo de socio B;;300,00;normal\n"
    "30/06/2025;8;6620000;Intereses;50,00;;normal\n"
    "30/06/2025;8;5720001;Intereses;;50,00;normal\n"
    "15/07/2025;9;6000000;Compra mercaderías;1.000,00;;normal\n"
    "15/07/2025;9;4720000;Compra mercaderías;210,00;;normal\n"
    "15/07/2025;9;4000002;Compra mercaderías;;1.210,00;normal\n"
    "31/12/2025;10;6810000;Amortización;600,00;;normal\n"
    "31/12/2025;10;2813000;Amortización;;600,00;normal\n"
)


def load_company(root: Path, code: str, journal: str, empresa: dict) -> Snapshot:
    """Write the company's exports under ``root``, load them through the real ETL, return the published snapshot."""
    settings = load_settings({"PORTAL_DATA_DIR": str(root / "data")})
    folder = settings.sources / code
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "diario.csv").write_text(journal, encoding="utf-8")
    (folder / "empresa.json").write_text(json.dumps(empresa), encoding="utf-8")
    [result] = service.load_all(settings, companies=[code])
    assert result.outcome == "published", result.message
    snapshot = Store(settings.stores).current(code)
    assert snapshot is not None
    return snapshot


def published(root: Path, code: str, write) -> Snapshot:
    """``write(settings)`` the company's exports under ``root``, load them through the real ETL, return the snapshot."""
    settings = load_settings({"PORTAL_DATA_DIR": str(root / "data")})
    write(settings)
    [result] = service.load_all(settings, companies=[code])
    assert result.outcome == "published", result.message
    snapshot = Store(settings.stores).current(code)
    assert snapshot is not None
    return snapshot
