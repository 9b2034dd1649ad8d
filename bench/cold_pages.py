"""Cold first visits in Chromium: the first P&L and Diario of a company on a fresh portal process, and again warm.

Usage: ``.venv/bin/python bench/cold_pages.py [--big] [--company C] [--rounds 3]``. Each round starts a new
``server.py`` (nothing cached in the process), opens Debian's Chromium with a new profile (nothing cached in the
browser) signed in as ``bench-<company>`` (a server-side session, as bench/concurrency.py does), and times from
the navigation to the moment the page's key figure is on screen: the P&L's «Resultado del ejercicio» metric with its
amount, the Diario's table of latest entries. Then the same visits again in the same browser (warm). Prints the
median of the rounds per page. Needs Playwright and /usr/bin/chromium (``make dev`` installs both).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make the project importable

from bench.concurrency import BIG, DEMO, Portal, floor_command, free_port, portal_command, prepare_data, server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PAGES = {  # url path -> what must be on screen
    "contabilidad-pyg": ("Resultado del ejercicio", "[data-testid='stMetricValue']"),
    "contabilidad": ("Últimos asientos", "[data-testid='stDataFrame']"),
}
FLOOR = ("Suelo", ".js-plotly-plot")  # bench/floor_app.py: its title, then its chart drawn (its table comes first)
TIMEOUT_MS = 120_000
WARMED = "Primeras pantallas preparadas"  # views/_warm.py's report in the server log


def visit(page, url: str, heading: str, selector: str) -> float:
    """Seconds from starting the navigation to the heading and the figure's element being visible."""
    started = time.perf_counter()
    page.goto(url)
    page.get_by_text(heading).first.wait_for(timeout=TIMEOUT_MS)
    page.locator(selector).first.wait_for(timeout=TIMEOUT_MS)
    return time.perf_counter() - started


def wait_for_line(log: Path, text: str, timeout: float = 600.0) -> None:
    """Wait until the server's log has a line with ``text`` (the warmer's report: the first screens are built)."""
    deadline = time.monotonic() + timeout
    while text not in log.read_text(encoding="utf-8", errors="replace"):
        if time.monotonic() > deadline:
            raise SystemExit(f"el servidor no escribió «{text}» en {timeout:.0f} s (véase {log})")
        time.sleep(0.2)


def one_round(data: Path, company: str, workdir: Path) -> dict[str, float]:
    """Four visits of each page: in a new browser on a new server process; in the same browser (its HTTP cache
    holds Streamlit's bundles, Plotly's included) on another new server process on the same address (what a
    returning client meets after a publication or a restart); the same on a new server process whose warmer has
    built the first screens (views/_warm.py; the two before run with it off); and again (warm server and browser)."""
    from playwright.sync_api import sync_playwright

    portal = Portal({"PORTAL_DATA_DIR": str(data)})
    cookies = portal.cookies(portal.user_for(company))
    port, log = free_port(), workdir / "cold-portal.log"
    cold = {"PORTAL_DATA_DIR": str(data), "PORTAL_WARM_COMPANIES": "0"}  # nothing built before the visit
    found: dict[str, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-ES")
        page = context.new_page()
        running = None
        for when in ("navegador nuevo, servidor nuevo", "servidor nuevo", "servidor nuevo, preparado", "caliente"):
            if when != "caliente":
                if running is not None:
                    running.__exit__(None, None, None)
                warm = when.endswith("preparado")
                running = server(portal_command(), {"PORTAL_DATA_DIR": str(data)} if warm else cold, log, port)
                url, _pid = running.__enter__()
                if warm:
                    wait_for_line(log, WARMED)
                context.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
            for path, (heading, selector) in PAGES.items():
                found[f"{path} ({when})"] = visit(page, f"{url}/{path}", heading, selector)
        running.__exit__(None, None, None)
        # The floor in a new browser of its own, the same three ways: what any Streamlit page with a table and a
        # Plotly chart costs on this machine.
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-ES")
        page, port = context.new_page(), free_port()
        for when in ("navegador nuevo, servidor nuevo", "servidor nuevo", "caliente"):
            if when != "caliente":
                running = server(floor_command(), {}, workdir / "cold-floor.log", port)
                url, _pid = running.__enter__()
            found[f"suelo ({when})"] = visit(page, url, *FLOOR)
            if when == "navegador nuevo, servidor nuevo":
                running.__exit__(None, None, None)
        running.__exit__(None, None, None)
        browser.close()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Primeras visitas en Chromium: P&L y Diario, en frío y en caliente.")
    parser.add_argument("--company", default=DEMO, help="empresa (por defecto levante)")
    parser.add_argument("--big", action="store_true", help="la empresa de 5.000.000 de apuntes (grancorp)")
    parser.add_argument("--big-lines", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", default="/tmp/portal-bench")
    args = parser.parse_args(argv)
    company = BIG if args.big else args.company
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    data = prepare_data(workdir, [company], args.big_lines)
    rounds = [one_round(data, company, workdir) for _ in range(args.rounds)]
    print(f"\n{company}: mediana de {args.rounds} rondas (servidor y navegador nuevos en cada una)\n")
    print("| página | segundos |\n|---|---:|")
    for name in rounds[0]:
        print(f"| {name} | {statistics.median(r[name] for r in rounds):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
