"""A small asyncio client of Streamlit 1.67's websocket protocol: the load benchmark's virtual browser tab."""

from __future__ import annotations

import asyncio
import http.client
import re
import ssl
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PLACEHOLDER_TOKEN = "PLACEHOLDER_AUTH_TOKEN"  # what the frontend sends when it has no XSRF cookie
XSRF_COOKIE = "_streamlit_xsrf"
FINISHED_OK = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
WIDGET_KINDS = frozenset(
    {"selectbox", "multiselect", "radio", "text_input", "text_area", "number_input", "date_input", "checkbox", "button"}
)
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")  # a backslash before ASCII punctuation (the portal's plain())


def unescape(text: str) -> str:
    """Markdown text without the backslashes that escape its punctuation ("01\\/02" -> "01/02")."""
    return _ESCAPED.sub(r"\1", text)


@dataclass(frozen=True)
class Widget:
    """A widget drawn by a run: what a rerun needs to change it (its id) and what the benchmark looks at."""

    kind: str
    id: str
    label: str
    options: tuple[str, ...] = ()


@dataclass
class Run:
    """One script run, reduced to what the benchmark checks (no Arrow tables or charts are decoded)."""

    status: int | None = None  # ForwardMsg.ScriptFinishedStatus; None when the run did not finish
    seconds: float = 0.0  # from sending the BackMsg to receiving script_finished
    headings: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # markdown (captions too), alerts, metric labels, unescaped
    errors: list[str] = field(default_factory=list)  # exceptions, error alerts, page not found, timeout
    widgets: dict[str, Widget] = field(default_factory=dict)  # by label
    kinds: Counter = field(default_factory=Counter)  # element kind -> how many were drawn

    @property
    def ok(self) -> bool:
        """Finished normally, with no exception and no error message on the page."""
        return self.status in FINISHED_OK and not self.errors

    def has_text(self, fragment: str) -> bool:
        """True when a heading or a text of the run contains ``fragment``."""
        return any(fragment in text for text in (*self.headings, *self.texts))

    def widget(self, label: str, kind: str | None = None) -> Widget | None:
        """The widget with this label (or the first whose label starts with it), optionally of one kind."""
        found = self.widgets.get(label)
        if found is None:
            found = next((w for name, w in self.widgets.items() if name.startswith(label)), None)
        return found if found is not None and (kind is None or found.kind == kind) else None

    def add(self, element) -> None:
        """Record one element of a delta (only the fields the checks read)."""
        kind = element.WhichOneof("type")
        self.kinds[kind] += 1
        if kind == "heading":
            self.headings.append(unescape(element.heading.body))
        elif kind == "markdown":
            self.texts.append(unescape(element.markdown.body))
        elif kind == "alert":
            body = unescape(element.alert.body)
            (self.errors if element.alert.format == Alert.ERROR else self.texts).append(body)
        elif kind == "metric":
            self.texts.append(element.metric.label)
        elif kind == "exception":
            self.errors.append(f"{element.exception.type}: {element.exception.message}"[:300])
        elif kind in WIDGET_KINDS:
            proto = getattr(element, kind)
            options = tuple(proto.options) if kind in ("selectbox", "multiselect", "radio") else ()
            self.widgets[proto.label] = Widget(kind, proto.id, proto.label, options)


def widget_state(message: BackMsg, widget_id: str, value: object) -> None:
    """Add one widget's value to a rerun BackMsg, typed as the frontend does (selectbox and text: string_value,
    number_input: double_value, checkbox: bool_value)."""
    state = message.rerun_script.widget_states.widgets.add()
    state.id = widget_id
    if isinstance(value, bool):
        state.bool_value = value
    elif isinstance(value, int | float):
        state.double_value = float(value)
    else:
        state.string_value = str(value)


def fetch_cookies(base_url: str, timeout: float = 10.0, ssl_context: ssl.SSLContext | None = None) -> dict[str, str]:
    """The cookies a browser's first request gets (GET /_stcore/health): Streamlit's ``_streamlit_xsrf`` and, behind
    the proxy, its sticky-session cookie, so that the websocket reaches the process that set the first."""
    parts = urlsplit(base_url)
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.netloc, timeout=timeout, context=ssl_context)
    else:
        connection = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    try:
        connection.request("GET", "/_stcore/health")
        response = connection.getresponse()
        response.read()
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
    finally:
        connection.close()
    return {name: morsel.value for name, morsel in cookies.items()}


class StreamlitTab:
    """One websocket to a Streamlit server, as one browser tab: ``await tab.open()``, then ``await tab.rerun(...)``."""

    def __init__(
        self,
        base_url: str,
        *,
        cookies: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.ws_url = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}/_stcore/stream"
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.cookies = dict(cookies or {})
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.connection: ClientConnection | None = None
        self.session_id: str | None = None
        self.page_hash = ""  # the page the server ran last (its navigation message)

    async def open(self) -> None:
        """Get the first cookies (GET /_stcore/health) and open the websocket with the cookies and the Origin."""
        self.cookies |= await asyncio.to_thread(fetch_cookies, self.base_url, self.timeout, self.ssl_context)
        xsrf = self.cookies.get(XSRF_COOKIE)
        cookie_header = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        self.connection = await connect(
            self.ws_url,
            subprotocols=["streamlit", xsrf or PLACEHOLDER_TOKEN],  # type: ignore[list-item]
            additional_headers={"Cookie": cookie_header} if cookie_header else None,
            origin=self.origin,  # type: ignore[arg-type]
            open_timeout=self.timeout,
            ping_interval=None,  # the server pings; the client only answers
            max_size=None,
            **({"ssl": self.ssl_context} if self.ssl_context is not None else {}),
        )

    async def close(self) -> None:
        """Close the websocket (the tab is closed)."""
        if self.connection is not None:
            connection, self.connection = self.connection, None
            await connection.close()

    async def rerun(
        self, page: str | None = None, widgets: Mapping[str, object] | None = None, *, timeout: float | None = None
    ) -> Run:
        """Run a page (its URL path; None: the page shown now, as a widget change does) with these widget values
        (id -> value) and read the whole run; ``Run.seconds`` is the time from sending to ``script_finished``."""
        assert self.connection is not None, "not connected"
        message = BackMsg()
        if page is None:
            message.rerun_script.page_script_hash = self.page_hash
        else:
            message.rerun_script.page_name = page
        message.rerun_script.widget_states.SetInParent()
        for widget_id, value in (widgets or {}).items():
            widget_state(message, widget_id, value)
        started = time.perf_counter()
        await self.connection.send(message.SerializeToString())
        run = await self.read_run(self.timeout if timeout is None else timeout)
        run.seconds = time.perf_counter() - started
        return run

    async def read_run(self, timeout: float) -> Run:
        """Read ForwardMsgs until the run's ``script_finished`` (or ``timeout``, or the socket closing)."""
        assert self.connection is not None, "not connected"
        run = Run()
        deadline = time.monotonic() + timeout
        while True:
            try:
                data = await asyncio.wait_for(self.connection.recv(), max(deadline - time.monotonic(), 0.001))
            except TimeoutError:
                run.errors.append(f"sin script_finished en {timeout:.0f} s")
                return run
            except ConnectionClosed as closed:
                run.errors.append(f"websocket cerrado ({closed.rcvd.code if closed.rcvd else 'sin código'})")
                return run
            if isinstance(data, str):
                run.errors.append(f"trama de texto inesperada: {data[:80]!r}")
                continue
            forward = ForwardMsg.FromString(data)
            kind = forward.WhichOneof("type")
            if kind == "delta":
                if forward.delta.WhichOneof("type") == "new_element":
                    run.add(forward.delta.new_element)
            elif kind == "script_finished":
                run.status = forward.script_finished
                return run
            elif kind == "navigation":
                self.page_hash = forward.navigation.page_script_hash
            elif kind == "new_session":
                self.session_id = forward.new_session.initialize.session_id or self.session_id
                self.page_hash = forward.new_session.page_script_hash or self.page_hash
            elif kind == "page_not_found":
                run.errors.append(f"página no encontrada: {forward.page_not_found.page_name}")
