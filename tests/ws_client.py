"""A small raw websocket client speaking Streamlit 1.67's protocol, for tests that must not go through a browser.

The frontend's own handshake: ``/_stcore/stream`` with the subprotocols ``["streamlit", <XSRF token or
PLACEHOLDER_AUTH_TOKEN>, <an existing session id, to re-attach>]`` and the page's cookies; then binary protobufs:
``BackMsg`` from the client (``rerun_script`` with the page and query string, ``clear_cache``,
``backend_operation_request``, …) and ``ForwardMsg`` from the server (``new_session`` carries the session id,
``delta`` the elements, ``script_finished`` the end of a run).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

PLACEHOLDER_TOKEN = "PLACEHOLDER_AUTH_TOKEN"  # what the frontend sends when it has no XSRF cookie


@dataclass
class Run:
    """What one script run sent: every ForwardMsg, the elements of its deltas and how it finished."""

    messages: list[ForwardMsg] = field(default_factory=list)
    elements: list[Message] = field(default_factory=list)
    finished: int | None = None  # ForwardMsg.ScriptFinishedStatus, None when the run did not finish in time

    @property
    def texts(self) -> list[str]:
        """Every string in every element (labels, markdown bodies, alerts, headings, widget options, …)."""
        return [text for element in self.elements for text in strings(element)]

    def text(self) -> str:
        return "\n".join(self.texts)

    def of_type(self, kind: str) -> list[Message]:
        """The elements of one kind (``Element.WhichOneof("type")``: "markdown", "download_button", "imgs", …)."""
        return [getattr(e, kind) for e in self.elements if e.WhichOneof("type") == kind]


def strings(message: Message) -> Iterator[str]:
    """Every non-empty string field of a protobuf message, depth first (bytes fields, e.g. Arrow data, skipped)."""
    for descriptor, value in message.ListFields():
        values = value if descriptor.is_repeated else [value]
        if descriptor.type == FieldDescriptor.TYPE_STRING:
            yield from (v for v in values if v)
        elif descriptor.type == FieldDescriptor.TYPE_MESSAGE:
            if descriptor.message_type.GetOptions().map_entry:
                values = value.values() if hasattr(value, "values") else []
                for v in values:
                    if isinstance(v, Message):
                        yield from strings(v)
                    elif isinstance(v, str) and v:
                        yield v
                continue
            for v in values:
                yield from strings(v)


class StreamlitClient:
    """One websocket connection to a Streamlit server: ``with StreamlitClient(url, cookies=...) as client: ...``."""

    def __init__(
        self,
        base_url: str,
        *,
        cookies: Mapping[str, str] | None = None,
        xsrf: str | None = None,
        session_id: str | None = None,
        origin: bool = True,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.ws_url = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}/_stcore/stream"
        self.cookies = dict(cookies or {})
        if xsrf is None:
            xsrf = self.cookies.get("_streamlit_xsrf")
        self.subprotocols = ["streamlit", xsrf or PLACEHOLDER_TOKEN, *([session_id] if session_id else [])]
        self.origin = f"{parts.scheme}://{parts.netloc}" if origin else None
        self.timeout = timeout
        self.session_id: str | None = None
        self.connection: ClientConnection | None = None
        self._connect = None
        self.others: list[ForwardMsg] = []  # messages read outside a run (e.g. backend operation answers)

    def __enter__(self) -> StreamlitClient:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else None
        self._connect = connect(
            self.ws_url,
            subprotocols=self.subprotocols,  # type: ignore[arg-type]
            additional_headers=headers,
            origin=self.origin,  # type: ignore[arg-type]
            open_timeout=self.timeout,
            max_size=None,
        )
        self.connection = self._connect.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.connection is not None:
            self.connection = None
            self._connect.__exit__(None, None, None)

    # --- sending ------------------------------------------------------------------------------------------------

    def send(self, message: BackMsg) -> None:
        assert self.connection is not None, "not connected"
        self.connection.send(message.SerializeToString())

    def send_raw(self, data: bytes) -> None:
        assert self.connection is not None, "not connected"
        self.connection.send(data)

    def rerun(self, page: str = "", query_string: str = "", *, page_script_hash: str = "") -> Run:
        """Run the app for a page (its URL path, e.g. "cargas"; "" for the main page) and read the whole run."""
        message = BackMsg()
        message.rerun_script.query_string = query_string
        message.rerun_script.page_name = page
        message.rerun_script.page_script_hash = page_script_hash
        self.send(message)
        return self.read_run()

    def clear_cache(self) -> None:
        message = BackMsg()
        message.clear_cache = True
        self.send(message)

    def deferred_file(self, file_id: str) -> ForwardMsg | None:
        """Ask the server to run a deferred download's callable (what a click on the button does); its answer."""
        message = BackMsg()
        request = message.backend_operation_request
        request.request_id = uuid.uuid4().hex
        request.session_id = self.session_id or ""
        request.deferred_file.file_id = file_id
        self.send(message)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            forward = self.receive(deadline - time.monotonic())
            if forward is None:
                break
            if (
                forward.WhichOneof("type") == "backend_operation_response"
                and forward.backend_operation_response.request_id == request.request_id
            ):
                return forward
            self.others.append(forward)
        return None

    # --- receiving ----------------------------------------------------------------------------------------------

    def receive(self, timeout: float | None = None) -> ForwardMsg | None:
        """The next ForwardMsg, or None when nothing came in ``timeout`` seconds or the socket closed."""
        assert self.connection is not None, "not connected"
        try:
            data = self.connection.recv(timeout=self.timeout if timeout is None else max(timeout, 0.01))
        except (TimeoutError, ConnectionClosed):
            return None
        if isinstance(data, str):
            raise AssertionError(f"unexpected text frame: {data[:80]!r}")
        forward = ForwardMsg.FromString(data)
        if forward.WhichOneof("type") == "new_session":
            self.session_id = forward.new_session.initialize.session_id
        return forward

    def read_run(self, timeout: float | None = None) -> Run:
        """Read ForwardMsgs until the current script run finishes (or ``timeout``): its messages and elements."""
        run = Run()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while time.monotonic() < deadline:
            forward = self.receive(deadline - time.monotonic())
            if forward is None:
                break
            run.messages.append(forward)
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                run.elements.append(forward.delta.new_element)
            elif kind == "script_finished":
                run.finished = forward.script_finished
                break
        return run

    def quiet(self, seconds: float) -> list[ForwardMsg]:
        """Everything that arrives in the next ``seconds`` (to show that nothing does)."""
        received = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            forward = self.receive(deadline - time.monotonic())
            if forward is None:
                break
            received.append(forward)
        return received
