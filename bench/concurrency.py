"""Load benchmark: virtual users click through the portal over Streamlit's websocket, next to a bare Streamlit floor."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from websockets.exceptions import WebSocketException

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script (`python bench/concurrency.py`): make the project importable

from bench.streamlit_ws import Run, StreamlitTab  # noqa: E402
from tests.caddy import CADDYFILE, caddy_environment, running_caddy  # noqa: E402

DEMO = "levante"  # the demo firm's company used by default
BIG = "grancorp"  # the 5,000,000-line company (etl demo --big-lines)
UNTIL = date(2026, 11, 28)  # the demo's last day, as the other benchmarks
ACCOUNT = "5720001"
MODULE = "contabilidad"
PYG, MAYOR = "contabilidad-pyg", "contabilidad-mayor"  # the pages' URL paths
SEARCH = "Buscar cuenta por código o nombre"
CARD = f"{ACCOUNT} · "  # the ledger card's first line: «5720001 · name · del … al …»
PAGER = "Página (de"  # the ledger card's page number input, «Página (de 8)»
STEPS = ("P&L", "periodo", "Mayor", "buscar cuenta", "elegir cuenta", "página siguiente")
PERIODS = {"Trimestre": "Trimestre", "Mes": "Mes", "Año hasta la fecha": "Hasta el día"}  # choice -> widget it adds
DENIED = "No tiene acceso"
PAGE = re.compile(r"página (\d[\d.]*) de (\d[\d.]*)")
THINK = (0.5, 1.5)  # seconds a user reads the page before the next click
LEVELS = (1, 5, 10, 20, 40)
WARM_UP_LIMIT = 300  # seconds: the first walk through the flow, cold caches included
LOOPBACK = ("127.0.0.1", "localhost", "::1")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- process figures (/proc) ----------------------------------------------------------------------------------


def rss_mb(pids: list[int]) -> float | None:
    """Resident memory of the processes (VmRSS), in MB; None when there is none to read."""
    total = 0.0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(match.group(1)) / 1024 if match else 0.0
    return total if pids else None


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU time the processes have used so far (every thread), in seconds."""
    total = 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return total if pids else None


# --- data and servers -----------------------------------------------------------------------------------------


def generated(sources: Path, company: str) -> bool:
    """The company's exports are in ``sources`` (the big journal is checked itself: it is the slow part to write)."""
    return (sources / company / ("diario.csv" if company == BIG else "empresa.json")).exists()


def prepare_data(workdir: Path, companies: list[str], big_lines: int) -> Path:
    """The benchmark's portal data dir with the companies published (generated and loaded once, then reused)."""
    from etl import service
    from etl.demo import generate
    from etl.store import Store
    from portal.settings import load_settings

    data = workdir / "concurrency-data"
    store = Store(load_settings({"PORTAL_DATA_DIR": str(data)}).stores)
    for company in companies:
        if store.company_dir(company).is_dir() and store.current(company) is not None:
            continue
        sources = workdir / (f"sources-{big_lines}" if company == BIG else "sources-demo")
        if not generated(sources, company):
            print(f"Generando la firma de demostración en {sources} …", flush=True)
            generate(sources, until=UNTIL, big_lines=big_lines if company == BIG else None)
        if not generated(sources, company):
            raise SystemExit(f"«{company}» no es una empresa de la demostración: cárguela antes con --data-dir")
        print(f"Cargando {company} …", flush=True)
        started = time.perf_counter()
        settings = load_settings({"PORTAL_DATA_DIR": str(data), "PORTAL_SOURCE_DIR": str(sources)})
        [result] = service.load_all(settings, companies=[company])
        if result.outcome != "published":
            raise SystemExit(f"la carga de {company} no se publicó: {result.message}")
        print(f"  cargada en {time.perf_counter() - started:.1f} s", flush=True)
    return data


class Portal:
    """The portal database behind a target: a client user per company and fresh signed-in sessions for it."""

    def __init__(self, environ: dict[str, str]) -> None:
        from auth import sessions
        from portal.db import get_engine
        from portal.settings import load_settings

        self.settings = load_settings(environ)
        self.engine = get_engine(self.settings.db_url)
        self.session_cookie = sessions.cookie_name(self.settings)
        self.pre_cookie = sessions.pre_cookie_name(self.settings)

    def user_for(self, company: str) -> int:
        """The id of ``bench-<company>``, a client user holding only the accounting module of the company."""
        from auth import access, users

        username = f"bench-{company}"
        found = users.get_user(self.engine, username)
        if found is None:
            users.create_user(self.engine, username, secrets.token_urlsafe(24), role="client", name="Banco de pruebas")
            found = users.get_user(self.engine, username)
        if company not in access.companies_of(self.engine, found) or MODULE not in access.modules_of(
            self.engine, found, company
        ):
            access.grant(self.engine, username, company, MODULE, actor="bench")
        return found["id"]

    def cookies(self, user_id: int) -> dict[str, str]:
        """A browser's cookies after signing in: a new server-side session and its pre-sign-in cookie."""
        from auth import sessions

        token = sessions.create(self.settings, self.engine, user_id, mfa=True, user_agent="bench/concurrency.py")
        return {self.pre_cookie: sessions.new_token(), self.session_cookie: token}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    """Wait until the server answers ``/_stcore/health`` (or fail when it exits or takes too long)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"el servidor {url} terminó con el código {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"el servidor {url} no respondió en {timeout:.0f} s")


@contextmanager
def server(command: list[str], env: dict[str, str], log: Path, port: int | None = None) -> Iterator[tuple[str, int]]:
    """Start a server on 127.0.0.1 (the command's ``{port}``: ``port`` or a free one) and stop it after: (base URL,
    pid)."""
    port = port or free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "STREAMLIT_"))}
    environment.update(env)
    with log.open("w") as output:
        process = subprocess.Popen(
            [part.format(port=port) for part in command],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, process)
            yield url, process.pid
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def portal_command() -> list[str]:
    """The portal as `make run` starts it (app.py behind server.py's routes and middleware)."""
    return [sys.executable, "server.py", "--address", "127.0.0.1", "--port", "{port}"]


def floor_command() -> list[str]:
    """The floor app with plain `streamlit run` (same .streamlit/config.toml as the portal: cwd is the project)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "bench/floor_app.py",
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        "{port}",
    ]


# --- targets and their virtual users --------------------------------------------------------------------------


class Stopped(Exception):
    """The target's measurements are over: the virtual user leaves."""


@dataclass
class Sample:
    """One finished rerun: when it ended, which step, how long it took, and what went wrong (None: nothing)."""

    done: float
    step: str
    seconds: float
    problem: str | None


@dataclass
class Target:
    """What is measured: a server, what a virtual user does there and the processes whose CPU and RSS are read."""

    name: str
    url: str
    flow: Callable[[VirtualUser], Awaitable[None]]
    pids: list[int]
    cookies: Callable[[], dict[str, str]] = dict
    floor: bool = False
    tls: ssl.SSLContext | None = None  # trusts the proxy's internal CA (``--proxy``)
    users: list[VirtualUser] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    active: int = 0
    finished: bool = False
    condition: asyncio.Condition | None = None

    def record(self, step: str, run: Run, problem: str | None) -> None:
        """Keep one rerun's figures."""
        self.samples.append(Sample(time.perf_counter(), step, run.seconds, problem))

    async def set_active(self, count: int) -> None:
        """Let the first ``count`` virtual users click (the others wait, their tabs open and idle)."""
        async with self.condition:
            self.active = count
            self.condition.notify_all()

    async def gate(self, index: int) -> None:
        """Wait until user ``index`` may click; raise Stopped when the target is done."""
        async with self.condition:
            await self.condition.wait_for(lambda: index < self.active or self.finished)
        if self.finished:
            raise Stopped

    async def add_users(self, count: int, seed: int) -> None:
        """Open tabs until there are ``count`` virtual users, each signed in once with its own session."""
        new = [VirtualUser(self, index, seed) for index in range(len(self.users), count)]
        await asyncio.gather(*(user.try_connect() for user in new))  # one that fails retries when it is to click
        self.users.extend(new)
        for user in new:
            user.task = asyncio.create_task(user.run_forever())

    async def drain(self, timeout: float = 90.0) -> None:
        """Wait (bounded) until no rerun is in flight."""
        deadline = time.monotonic() + timeout
        while any(user.busy for user in self.users) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def leave(self) -> None:
        """Every virtual user closes its tab and is gone (new ones can be added afterwards)."""
        async with self.condition:
            self.finished = True
            self.condition.notify_all()
        tasks = [user.task for user in self.users if user.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(user.close() for user in self.users), return_exceptions=True)
        self.users, self.active, self.finished = [], 0, False


class VirtualUser:
    """One signed-in browser tab that repeats its target's flow with think time between clicks."""

    def __init__(self, target: Target, index: int, seed: int) -> None:
        self.target, self.index = target, index
        self.rng = random.Random(seed * 10_007 + index)
        self.tab: StreamlitTab | None = None
        self.task: asyncio.Task | None = None
        self.busy = False
        self.think = True
        self.loops = 0

    async def connect(self) -> None:
        """Open the tab with a fresh signed-in session (the portal) or none (the floor)."""
        cookies = await asyncio.to_thread(self.target.cookies)
        self.tab = StreamlitTab(self.target.url, cookies=cookies, ssl_context=self.target.tls)
        await self.tab.open()

    async def close(self) -> None:
        """Close the tab."""
        if self.tab is not None:
            tab, self.tab = self.tab, None
            await tab.close()

    async def try_connect(self) -> bool:
        """Open the tab; a failure is recorded as an error of the step «conexión»."""
        try:
            await self.connect()
        except (OSError, TimeoutError, WebSocketException) as exc:
            self.target.record("conexión", Run(), f"no conecta: {type(exc).__name__}: {exc}"[:200])
            return False
        return True

    async def run_forever(self) -> None:
        """Repeat the flow while the target lasts; a broken tab is reopened, a flow that breaks is counted."""
        try:
            while True:
                await self.target.gate(self.index)
                if self.tab is None and not await self.try_connect():
                    await asyncio.sleep(1.0)
                    continue
                try:
                    await self.target.flow(self)
                except (Stopped, asyncio.CancelledError):
                    raise
                except Exception as exc:  # an unexpected page: counted, the tab reopened, the user goes on
                    self.target.record("flujo", Run(), f"{type(exc).__name__}: {exc}"[:200])
                    await self.close()
                self.loops += 1
        except Stopped:
            return

    async def step(
        self, name: str, page: str | None, widgets: dict[str, object] | None, check: Callable[[Run], str | None]
    ) -> Run | None:
        """One click: wait for the gate, rerun, check what the page drew, record it, think. The run, or None when it
        failed (the flow then starts again)."""
        await self.target.gate(self.index)
        self.busy = True
        try:
            run = await self.tab.rerun(page, widgets)
        finally:
            self.busy = False
        problem = problem_of(run) or check(run)
        self.target.record(name, run, problem)
        if run.status is None:  # timed out or closed: what arrives later would belong to no run of ours
            await self.close()
        if self.think:
            await asyncio.sleep(self.rng.uniform(*THINK))
        return None if problem is not None or self.tab is None else run


def problem_of(run: Run) -> str | None:
    """Why a run counts as an error whatever the page: it did not finish, raised, showed an error or refused."""
    if run.status is None or not run.ok:
        return "; ".join(run.errors)[:200] or f"terminó con el estado {run.status}"
    if run.has_text(DENIED):
        return "«No tiene acceso»"
    return None


def expect(*texts: str, widgets: tuple[str, ...] = (), kinds: tuple[str, ...] = ()) -> Callable[[Run], str | None]:
    """A check: these texts (headings, markdown, metrics), widgets (by label) and element kinds were drawn."""

    def check(run: Run) -> str | None:
        """What the run did not draw, or None."""
        missing = [t for t in texts if not run.has_text(t)]
        missing += [w for w in widgets if run.widget(w) is None]
        missing += [k for k in kinds if not run.kinds[k]]
        return f"falta {', '.join(missing)}" if missing else None

    return check


async def portal_flow(user: VirtualUser) -> None:
    """P&L → change period → Mayor → open the account (search its first digits; pick it when it is not the first
    match) → next page of its ledger card."""
    pnl = expect("Pérdidas y ganancias", "Resultado del ejercicio", widgets=("Periodo",))
    run = await user.step("P&L", PYG, None, pnl)
    if run is None:
        return
    choice = list(PERIODS)[user.loops % len(PERIODS)]
    state = {run.widget("Periodo").id: choice}
    run = await user.step("periodo", None, state, expect("Resultado del ejercicio", widgets=(PERIODS[choice],)))
    if run is None:
        return
    run = await user.step("Mayor", MAYOR, None, expect("Mayor", widgets=(SEARCH,)))
    if run is None:
        return
    state = {run.widget(SEARCH).id: ACCOUNT[:3]}
    run = await user.step("buscar cuenta", None, state, has_account_option)
    if run is None:
        return
    if not run.has_text(CARD):
        picker = run.widget("Cuenta")
        state[picker.id] = next(o for o in picker.options if o.startswith(f"{ACCOUNT} "))
        run = await user.step("elegir cuenta", None, state, expect(CARD, widgets=(PAGER,)))
        if run is None:
            return
    page, pages = current_page(run)
    state[run.widget(PAGER).id] = page % pages + 1
    await user.step("página siguiente", None, state, expect(f"página {page % pages + 1} de"))


def has_account_option(run: Run) -> str | None:
    """The search found the account (the «Cuenta» picker offers it); when its card opened, it has several pages."""
    picker = run.widget("Cuenta", "selectbox")
    if picker is None or not any(o.startswith(f"{ACCOUNT} ") for o in picker.options):
        return f"la búsqueda no ofrece {ACCOUNT}"
    if run.has_text(CARD) and run.widget(PAGER, "number_input") is None:
        return "la ficha no tiene paginación"
    return None


def current_page(run: Run) -> tuple[int, int]:
    """(page shown, pages) from the ledger card's caption «… · página 1 de 1.125»."""
    for text in run.texts:
        match = PAGE.search(text)
        if match:
            return int(match.group(1).replace(".", "")), int(match.group(2).replace(".", ""))
    return 1, 2


async def floor_flow(user: VirtualUser) -> None:
    """A rerun of the floor page (its table and chart redrawn)."""
    await user.step("suelo", "", None, expect("Suelo", kinds=("dataframe", "plotly_chart")))


# --- measurement ----------------------------------------------------------------------------------------------


def percentile(seconds: list[float], fraction: float) -> float | None:
    """Latency percentile in milliseconds (nearest rank); None without runs."""
    if not seconds:
        return None
    ordered = sorted(seconds)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)] * 1000


@dataclass
class Level:
    """One target at N active users over the measurement window."""

    users: int
    seconds: float
    samples: list[Sample]  # the runs that ended inside the window
    server_cpu: float | None  # percent of one core
    bench_cpu: float  # the generator's own CPU, percent of one core

    @property
    def latencies(self) -> list[float]:
        """Seconds of the runs that went well."""
        return [s.seconds for s in self.samples if s.problem is None]

    @property
    def errors(self) -> int:
        """Runs that failed (not finished, exception, error on the page, refusal, missing content)."""
        return sum(1 for s in self.samples if s.problem is not None)

    @property
    def rate(self) -> float:
        """Reruns that went well, per second."""
        return len(self.latencies) / self.seconds

    def percentile(self, fraction: float) -> float | None:
        """Latency percentile of the runs that went well, in milliseconds."""
        return percentile(self.latencies, fraction)

    def of_step(self, step: str) -> list[float]:
        """Seconds of the runs of one step of the flow that went well."""
        return [s.seconds for s in self.samples if s.problem is None and s.step == step]


@dataclass
class Round:
    """One round of the memory phase: fresh sessions make reruns, then leave; the server's RSS around it."""

    sessions: int
    reruns: int
    seconds: float
    before: float | None
    after: float | None  # once the reruns are done, the tabs still open
    left: float | None  # ``--leave-wait`` seconds after every tab closed


def percent(cpu: float | None, seconds: float) -> float | None:
    """CPU seconds over a wall time as a percent of one core."""
    return None if cpu is None else 100 * cpu / seconds


async def warm_up(target: Target, seed: int) -> None:
    """One user walks the flow once without thinking (first runs compile pages and fill caches); not measured."""
    await target.add_users(1, seed)
    user = target.users[0]
    user.think = False
    await target.set_active(1)
    deadline = time.monotonic() + WARM_UP_LIMIT
    while user.loops < 1:
        if time.monotonic() > deadline:
            raise SystemExit(f"{target.name}: el calentamiento no terminó en {WARM_UP_LIMIT} s ({target.samples[-3:]})")
        await asyncio.sleep(0.05)
    await target.set_active(0)
    await target.drain()
    user.think = True
    broken = [s.problem for s in target.samples if s.problem]
    if broken:
        print(f"  aviso ({target.name}), calentamiento con errores: {broken[:3]}", flush=True)
    target.samples.clear()


async def measure_level(target: Target, users: int, args: argparse.Namespace) -> Level:
    """N users click for warm-up + measured seconds; the runs that end inside the window and the CPU used in it."""
    await target.add_users(users, args.seed)
    await target.set_active(users)
    await asyncio.sleep(args.warmup)
    start, server0, bench0 = time.perf_counter(), cpu_seconds(target.pids), cpu_seconds([os.getpid()])
    await asyncio.sleep(args.seconds)
    end, server1, bench1 = time.perf_counter(), cpu_seconds(target.pids), cpu_seconds([os.getpid()])
    await target.set_active(0)
    await target.drain()
    elapsed = end - start
    return Level(
        users=users,
        seconds=elapsed,
        samples=[s for s in target.samples if start <= s.done < end],
        server_cpu=None if server0 is None or server1 is None else percent(server1 - server0, elapsed),
        bench_cpu=percent(bench1 - bench0, elapsed),
    )


async def memory_round(target: Target, args: argparse.Namespace) -> Round:
    """Fresh ``--memory-sessions`` sessions make ``--memory-reruns`` reruns (bounded by ``--memory-timeout``), then
    every tab closes; RSS before, after the reruns and ``--leave-wait`` seconds after leaving."""
    await target.leave()  # the tabs of the levels close first: each round starts from sessions of its own
    before = rss_mb(target.pids)
    await target.add_users(args.memory_sessions, args.seed + len(target.samples))
    mark, started = len(target.samples), time.perf_counter()
    await target.set_active(args.memory_sessions)
    deadline = time.monotonic() + args.memory_timeout
    while len(target.samples) - mark < args.memory_reruns and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await target.set_active(0)
    await target.drain()
    seconds, reruns = time.perf_counter() - started, len(target.samples) - mark
    after = rss_mb(target.pids)
    await target.leave()
    await asyncio.sleep(args.leave_wait)
    return Round(args.memory_sessions, reruns, seconds, before, after, rss_mb(target.pids))


async def benchmark(targets: list[Target], args: argparse.Namespace) -> tuple[dict, dict]:
    """Every level for every target, interleaved per N (the machine's noise hits all alike), then the memory rounds.

    Returns the levels per target and its memory: RSS after the warm-up, after the levels and the rounds.
    """
    for target in targets:
        target.condition = asyncio.Condition()
    memory: dict[str, dict] = {}
    for target in targets:
        print(f"Calentando {target.name} …", flush=True)
        await warm_up(target, args.seed)
        memory[target.name] = {"start": rss_mb(target.pids)}
    levels: dict[str, list[Level]] = {t.name: [] for t in targets}
    for users in args.levels:
        for target in targets:
            level = await measure_level(target, users, args)
            levels[target.name].append(level)
            print(
                f"  {target.name}: N={users:>2}  {level.rate:6.2f} reruns/s  p95 {number(level.percentile(0.95))} ms  "
                f"errores {level.errors}",
                flush=True,
            )
    for target in targets:
        memory[target.name]["levels"] = rss_mb(target.pids)
        memory[target.name]["rounds"] = []
        for number_ in range(1, args.memory_rounds + 1):
            print(
                f"Memoria de {target.name}, ronda {number_}: {args.memory_sessions} sesiones, "
                f"{args.memory_reruns} reruns …",
                flush=True,
            )
            memory[target.name]["rounds"].append(await memory_round(target, args))
    return levels, memory


# --- report ---------------------------------------------------------------------------------------------------


def number(value: float | None, digits: int = 0) -> str:
    """A figure for the tables ('—' when unknown)."""
    return "—" if value is None else f"{value:,.{digits}f}"


def ratio(value: float | None, floor: float | None) -> str:
    """value / floor as '3.20×' ('—' when either is unknown or the floor is zero)."""
    return "—" if value is None or not floor else f"{value / floor:.2f}×"


def level_table(levels: list[Level], floor: list[Level] | None) -> str:
    """The Markdown table of one target, with the ratios to the floor at the same N."""
    lines = [
        "| N | reruns/s | p50 ms | p95 ms | errors | server CPU % | generator CPU % | p95 / floor | reruns/s / floor |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    floors = {level.users: level for level in floor or []}
    for level in levels:
        base = floors.get(level.users)
        lines.append(
            f"| {level.users} | {level.rate:.2f} | {number(level.percentile(0.5))} | {number(level.percentile(0.95))} "
            f"| {level.errors} | {number(level.server_cpu)} | {number(level.bench_cpu)} "
            f"| {ratio(level.percentile(0.95), base.percentile(0.95) if base else None)} "
            f"| {ratio(level.rate, base.rate if base else None)} |"
        )
    return "\n".join(lines)


def step_table(levels: list[Level]) -> str:
    """p50 / p95 milliseconds of each step of the flow at each N."""
    lines = [
        "| step | " + " | ".join(f"N={level.users} p50 / p95" for level in levels) + " |",
        "|---|" + "---:|" * len(levels),
    ]
    for step in STEPS:
        cells = [level.of_step(step) for level in levels]
        if any(cells):
            figures = [f"{number(percentile(c, 0.5))} / {number(percentile(c, 0.95))}" for c in cells]
            lines.append(f"| {step} | " + " | ".join(figures) + " |")
    return "\n".join(lines)


def memory_table(memory: dict[str, dict]) -> str:
    """The server's RSS through the run, per target: after the warm-up, after the levels, around each round."""
    lines = [
        "| target | after warm-up | after levels | round | sessions × reruns (s) | after reruns | after leaving |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for name, figures in memory.items():
        for index, one in enumerate(figures["rounds"], start=1):
            first = index == 1
            lines.append(
                f"| {name if first else ''} | {number(figures['start']) if first else ''} "
                f"| {number(figures['levels']) if first else ''} | {index} "
                f"| {one.sessions} × {one.reruns} ({one.seconds:.0f} s) | {number(one.after)} | {number(one.left)} |"
            )
    return "\n".join(lines)


def report(targets: list[Target], levels: dict[str, list[Level]], memory: dict[str, dict], wait: float) -> None:
    """Print the Markdown tables: one per target (with its steps for the portal), then the memory table."""
    floor = next((levels[t.name] for t in targets if t.floor), None)
    for target in targets:
        print(f"\n### {target.name}\n")
        print(level_table(levels[target.name], None if target.floor else floor))
        problems = Counter(s.problem for level in levels[target.name] for s in level.samples if s.problem)
        for problem, count in problems.most_common(5):
            print(f"\n- {count} × {problem}")
        if not target.floor:
            print(f"\nPer step ({target.name}, ms):\n")
            print(step_table(levels[target.name]))
    print(f"\n### Server RSS, MB (after leaving: {wait:.0f} s after the last tab closed)\n")
    print(memory_table(memory))


# --- command line ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options; ``--quick`` shortens everything for a smoke check."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--company", action="append", help=f"company to click through (repeatable; default {DEMO})")
    parser.add_argument("--big", action="store_true", help=f"add {BIG}, the 5,000,000-line company (built once)")
    parser.add_argument("--big-lines", type=int, default=5_000_000, help="journal lines of the big company")
    parser.add_argument("--url", action="append", default=[], help="a running portal to measure (repeatable)")
    parser.add_argument("--data-dir", help="PORTAL_DATA_DIR of the --url portals (users and sessions are made there)")
    parser.add_argument("--server-pid", type=int, action="append", default=[], help="pid of a --url portal process")
    parser.add_argument("--no-floor", action="store_true", help="do not start and measure the floor app")
    parser.add_argument(
        "--proxy", action="store_true", help="measure 1 and 2 portal processes behind Caddy (HTTPS, sticky sessions)"
    )
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="active users per level, e.g. 1,5,10")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per level and target")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds at the start of each level")
    parser.add_argument("--memory-sessions", type=int, default=40, help="sessions of the memory phase")
    parser.add_argument("--memory-reruns", type=int, default=1000, help="reruns of the memory phase")
    parser.add_argument("--memory-rounds", type=int, default=2, help="rounds of the memory phase, fresh sessions each")
    parser.add_argument("--memory-timeout", type=float, default=600.0, help="longest memory round, seconds")
    parser.add_argument("--leave-wait", type=float, default=15.0, help="seconds after leaving before reading RSS")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "portal-bench"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true", help="smoke check: N=1,5; 5 s each; 100 reruns by 5 sessions")
    args = parser.parse_args(argv)
    if args.quick:
        args.levels, args.seconds, args.warmup = "1,5", 5.0, 1.0
        args.memory_sessions, args.memory_reruns, args.memory_rounds, args.leave_wait = 5, 100, 1, 5.0
    args.levels = sorted({int(n) for n in args.levels.split(",") if n.strip()})
    args.company = (args.company or ([] if args.big else [DEMO])) + ([BIG] if args.big else [])
    for url in args.url:
        if urlsplit(url).hostname not in LOOPBACK:
            parser.error(f"--url must point at this machine (127.0.0.1): {url}")
    if args.url and not args.data_dir:
        parser.error("--url needs --data-dir (the portal's PORTAL_DATA_DIR: users and sessions are created there)")
    return args


def portal_targets(
    portal: Portal,
    urls: list[tuple[str, list[int]]],
    companies: list[str],
    *,
    names: list[str] | None = None,
    tls: list[ssl.SSLContext | None] | None = None,
) -> list[Target]:
    """A target per portal URL and company, each with its own bench user."""
    targets = []
    for company in companies:
        user_id = portal.user_for(company)
        for index, (url, pids) in enumerate(urls):
            name = f"portal {company}" if len(urls) == 1 else f"portal {company} @ {url}"
            if names is not None:
                name = f"{names[index]} · {company}"
            context = tls[index] if tls is not None else None
            targets.append(Target(name, url, portal_flow, pids, lambda uid=user_id: portal.cookies(uid), tls=context))
    return targets


def behind_proxy(
    stack: ExitStack, data: Path, workdir: Path, processes: int, label: str, config: Path = CADDYFILE
) -> tuple[tuple[str, list[int]], ssl.SSLContext]:
    """``processes`` portal processes behind Debian's Caddy on deploy/Caddyfile (or ``config``, a variant of it;
    HTTPS with its internal CA, sticky sessions), as production runs them: ((proxy URL, the portals' pids), an SSL
    context trusting the proxy)."""
    base = workdir / f"proxy-{label}"
    base.mkdir(parents=True, exist_ok=True)
    url = f"https://127.0.0.1:{free_port()}"
    env = {"PORTAL_DATA_DIR": str(data), "PORTAL_BASE_URL": url}
    started = [
        stack.enter_context(server(portal_command(), env, workdir / f"concurrency-{label}-{number}.log"))
        for number in range(processes)
    ]
    variables = caddy_environment(
        base,
        PORTAL_BASE_URL=url,
        PORTAL_PROXY_TLS="internal",
        PORTAL_PROXY_UPSTREAMS=" ".join(urlsplit(backend).netloc for backend, _ in started),
        PORTAL_PROXY_STICKY_KEY=secrets.token_hex(16),
        PORTAL_PROXY_HTTP_PORT=str(free_port()),
        PORTAL_PROXY_ACCESS_LOG=str(base / "access.log"),
        PORTAL_PROXY_ADMIN="off",
    )
    tls = stack.enter_context(running_caddy(base, variables, url, config))
    return (url, [pid for _, pid in started]), tls


def scaling_table(levels: dict[str, list[Level]], one: str, two: str) -> str:
    """Reruns/s of two processes against one, per N, and at saturation (the best level of each)."""
    lines = ["| N | 1 proceso (reruns/s) | 2 procesos (reruns/s) | 2 ÷ 1 |", "|---:|---:|---:|---:|"]
    for first, second in zip(levels[one], levels[two], strict=True):
        lines.append(f"| {first.users} | {first.rate:.2f} | {second.rate:.2f} | {ratio(second.rate, first.rate)} |")
    best_one, best_two = (max(level.rate for level in levels[name]) for name in (one, two))
    lines.append(f"| máximo | {best_one:.2f} | {best_two:.2f} | {ratio(best_two, best_one)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Start the servers (or take --url ones), measure, print the tables."""
    args = parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ExitStack() as stack:
        targets = []
        if not args.no_floor:
            url, pid = stack.enter_context(server(floor_command(), {}, workdir / "concurrency-floor.log"))
            targets.append(Target("floor (bench/floor_app.py)", url, floor_flow, [pid], floor=True))
        names = tls = None
        if args.url:
            portal = Portal({**os.environ, "PORTAL_DATA_DIR": args.data_dir})
            urls = [(url.rstrip("/"), args.server_pid) for url in args.url]
        elif args.proxy:
            data = prepare_data(workdir, args.company, args.big_lines)
            portal = Portal({"PORTAL_DATA_DIR": str(data), "PORTAL_BASE_URL": "https://127.0.0.1"})
            for company in args.company:
                portal.user_for(company)
            one = behind_proxy(stack, data, workdir, 1, "one")
            two = behind_proxy(stack, data, workdir, 2, "two")
            urls, tls = [one[0], two[0]], [one[1], two[1]]
            names = ["1 proceso tras Caddy", "2 procesos tras Caddy"]
        else:
            data = prepare_data(workdir, args.company, args.big_lines)
            portal = Portal({"PORTAL_DATA_DIR": str(data)})
            for company in args.company:
                portal.user_for(company)  # before the server starts: it reads users from the database per click
            env = {"PORTAL_DATA_DIR": str(data)}
            url, pid = stack.enter_context(server(portal_command(), env, workdir / "concurrency-portal.log"))
            urls = [(url, [pid])]
        targets += portal_targets(portal, urls, args.company, names=names, tls=tls)
        print(
            f"{os.cpu_count()} núcleos; niveles {args.levels}, {args.seconds:.0f} s medidos (+{args.warmup:.0f} s) "
            f"por nivel y objetivo; espera {THINK[0]}–{THINK[1]} s entre clics",
            flush=True,
        )
        levels, memory = asyncio.run(benchmark(targets, args))
    report(targets, levels, memory, args.leave_wait)
    if names is not None:
        for company in args.company:
            print(f"\n### Escala: 2 procesos frente a 1, tras Caddy ({company})\n")
            print(scaling_table(levels, f"{names[0]} · {company}", f"{names[1]} · {company}"))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
