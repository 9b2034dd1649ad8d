"""Cold first visits in Chromium: the first P&L and Diario of a company on a fresh portal process, and again warm.

Usage: ``.venv/bin/python bench/cold_pages.py [--big] [--company C] [--rounds 3] [--proxy]``. Each round starts a new
``server.py`` (nothing cached in the process), opens Debian's Chromium with a new profile (nothing cached in the
browser) signed in as ``bench-<company>`` (a server-side session, as bench/concurrency.py does), and times from
the navigation to the moment the page's key figure is on screen: the P&L's «Resultado del ejercicio» metric with its
amount, the Diario's table of latest entries. Then the same visits again in the same browser (warm). Prints the
median of the rounds per page. Needs Playwright and /usr/bin/chromium (``make dev`` installs both).

``--proxy``: the first P&L in a new browser through Debian's Caddy as production runs it (deploy/Caddyfile, HTTPS),
next to the same Caddyfile without its compression lines, on networks Chromium emulates (the portal processes warm:
what is measured is the browser and the network). Prints the seconds and the bytes received per network and proxy.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: make the project importable

from bench.concurrency import (
    BIG,
    DEMO,
    Portal,
    behind_proxy,
    floor_command,
    free_port,
    portal_command,
    prepare_data,
    server,
)
from tests.caddy import CADDYFILE

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PAGES = {  # url path -> what must be on screen
    "contabilidad-pyg": ("Resultado del ejercicio", "[data-testid='stMetricValue']"),
    "contabilidad": ("Últimos asientos", "[data-testid='stDataFrame']"),
}
FLOOR = ("Suelo", ".js-plotly-plot")  # bench/floor_app.py: its title, then its chart drawn (its table comes first)
TIMEOUT_MS = 120_000
WARMED = "Primeras pantallas preparadas"  # views/_warm.py's report in the server log


# Networks Chromium emulates (CDP Network.emulateNetworkConditions): download and upload Mbit/s, round-trip ms.
# None: the loopback as it is. The slow one is Lighthouse's mobile profile («slow 4G»).
NETWORKS = {
    "local": None,
    "4G, 10 Mbit/s, 40 ms": (10.0, 5.0, 40),
    "móvil lento, 1,6 Mbit/s, 150 ms": (1.6, 0.75, 150),
}
STALLED_MS = 60_000  # a throttled first visit that takes longer has stalled (the slowest measured takes ≈ 22 s)
STALL_TRIES = 3
COMPRESSION_LINE = "encode @streamlit_static zstd gzip"  # deploy/Caddyfile's compression (the line the baseline drops)


def visit(page, url: str, heading: str, selector: str, timeout_ms: int = TIMEOUT_MS) -> float:
    """Seconds from starting the navigation to the heading and the figure's element being visible."""
    started = time.perf_counter()
    page.goto(url, timeout=timeout_ms)
    page.get_by_text(heading).first.wait_for(timeout=timeout_ms)
    page.locator(selector).first.wait_for(timeout=timeout_ms)
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


def without_compression(workdir: Path) -> Path:
    """deploy/Caddyfile without its compression: the baseline (what the proxy sent before it compressed)."""
    text = CADDYFILE.read_text(encoding="utf-8")
    if COMPRESSION_LINE not in text:
        raise SystemExit(f"deploy/Caddyfile ya no tiene «{COMPRESSION_LINE}»: actualice bench/cold_pages.py")
    variant = workdir / "Caddyfile.sin-compresion"
    variant.write_text(text.replace(COMPRESSION_LINE, ""), encoding="utf-8")
    return variant


def throttled_visit(playwright, url: str, cookies: dict[str, str], network: tuple | None) -> tuple[float, int] | None:
    """The first P&L in a new browser on ``network``: seconds to the key figure and bytes received (bodies as sent,
    compressed or not, plus headers) until then. None when the page never finished loading: Chromium's emulated
    networks sometimes leave every request of a page pending (with or without compression, more often with several
    contexts in one browser, never unthrottled), so each visit gets a new Chromium process and a stalled one is
    counted and tried again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-ES", ignore_https_errors=True)
    context.add_cookies([{"name": k, "value": v, "url": url, "secure": True} for k, v in cookies.items()])
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    received: list[int] = []
    cdp.on("Network.loadingFinished", lambda event: received.append(int(event["encodedDataLength"])))
    if network is not None:
        down, up, rtt = network
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": rtt, "downloadThroughput": down * 1e6 / 8, "uploadThroughput": up * 1e6 / 8},
        )
    try:
        seconds = visit(page, f"{url}/contabilidad-pyg", *PAGES["contabilidad-pyg"], timeout_ms=STALLED_MS)
        return seconds, sum(received)
    except PlaywrightTimeout:
        return None
    finally:
        browser.close()


def proxy_rounds(data: Path, company: str, workdir: Path, rounds: int) -> dict[str, list[tuple[float, int]]]:
    """Both proxies (compressing, not compressing), each in front of its own warm portal process; per round, network
    and proxy (alternating which goes first) one first visit in a new browser."""
    from playwright.sync_api import sync_playwright

    portal = Portal({"PORTAL_DATA_DIR": str(data), "PORTAL_BASE_URL": "https://127.0.0.1"})
    user = portal.user_for(company)
    proxies = {"Caddyfile (comprime)": CADDYFILE, "sin compresión": without_compression(workdir)}
    found: dict[str, list[tuple[float, int]]] = {}
    stalls: dict[str, int] = {}
    with contextlib.ExitStack() as stack, sync_playwright() as playwright:
        urls = {
            name: behind_proxy(stack, data, workdir, 1, f"cold-{number}", config)[0][0]
            for number, (name, config) in enumerate(proxies.items())
        }
        for url in urls.values():  # the server's first screens built: only the browser and the network are measured
            if throttled_visit(playwright, url, portal.cookies(user), None) is None:
                raise SystemExit(f"la P&L no se abrió tras {url}")
        for round_no in range(rounds):
            for network_name, network in NETWORKS.items():
                order = list(urls.items()) if round_no % 2 == 0 else list(reversed(urls.items()))
                for name, url in order:
                    for _attempt in range(STALL_TRIES):
                        if (done := throttled_visit(playwright, url, portal.cookies(user), network)) is not None:
                            break
                        stalls[name] = stalls.get(name, 0) + 1
                        print(f"  ronda {round_no + 1}: {network_name}, {name}: atascada, otra vez", flush=True)
                    else:
                        raise SystemExit(f"{STALL_TRIES} visitas atascadas seguidas: {network_name}, {name}")
                    seconds, size = done
                    found.setdefault(f"{network_name} | {name}", []).append((seconds, size))
                    figures = f"{seconds:.2f} s, {size / 1e6:.2f} MB"
                    print(f"  ronda {round_no + 1}: {network_name}, {name}: {figures}", flush=True)
    print(f"visitas atascadas (repetidas): {stalls or 'ninguna'}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Primeras visitas en Chromium: P&L y Diario, en frío y en caliente.")
    parser.add_argument("--company", default=DEMO, help="empresa (por defecto levante)")
    parser.add_argument("--big", action="store_true", help="la empresa de 5.000.000 de apuntes (grancorp)")
    parser.add_argument("--big-lines", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", default="/tmp/portal-bench")
    parser.add_argument("--proxy", action="store_true", help="primera visita tras Caddy, con y sin compresión")
    args = parser.parse_args(argv)
    company = BIG if args.big else args.company
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    data = prepare_data(workdir, [company], args.big_lines)
    if args.proxy:
        found = proxy_rounds(data, company, workdir, args.rounds)
        print(f"\n{company}: primera P&L en un navegador nuevo tras Caddy, mediana de {args.rounds} rondas\n")
        print("| red | proxy | segundos | MB recibidos |\n|---|---|---:|---:|")
        for name, runs in found.items():
            network, proxy = name.split(" | ")
            seconds = statistics.median(r[0] for r in runs)
            size = statistics.median(r[1] for r in runs)
            print(f"| {network} | {proxy} | {seconds:.2f} | {size / 1e6:.2f} |")
        return 0
    rounds = [one_round(data, company, workdir) for _ in range(args.rounds)]
    print(f"\n{company}: mediana de {args.rounds} rondas (servidor y navegador nuevos en cada una)\n")
    print("| página | segundos |\n|---|---:|")
    for name in rounds[0]:
        print(f"| {name} | {statistics.median(r[name] for r in rounds):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
