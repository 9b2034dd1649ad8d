"""security.md §4 test 27: XSRF and CORS stay on: a foreign origin can neither upload nor open the websocket."""

from __future__ import annotations

import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.portal_browser import running_portal
from tests.test_web_edge import Portal, portal_data
from tests.ws_client import StreamlitClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Iterator[Portal]:
    data = tmp_path_factory.mktemp("cross-site") / "data"
    settings, engine = portal_data(data)
    with running_portal(data) as url:
        yield Portal(url, settings, engine)


def test_27_the_config_keeps_xsrf_and_cors_protection_on():
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["server"]
    assert server["enableXsrfProtection"] is True and server["enableCORS"] is True


def put(url: str, headers: dict[str, str]) -> int:
    body = b"--b\r\nContent-Disposition: form-data; name=file; filename=a.txt\r\n\r\nhola\r\n--b--\r\n"
    request = urllib.request.Request(
        url, data=body, method="PUT", headers={"Content-Type": "multipart/form-data; boundary=b", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_27_an_upload_from_another_site_without_the_xsrf_token_is_refused_even_with_a_session(portal):
    xsrf = portal.xsrf()
    cookies = {"_streamlit_xsrf": xsrf, "portal_session": portal.session("lola"), "portal_pre": "p" * 43}
    with StreamlitClient(portal.url, cookies=cookies) as tab:
        tab.rerun("contabilidad")
        target = f"{portal.url}/_stcore/upload_file/{tab.session_id}/{uuid.uuid4().hex}"
        # what a page on another site can make the browser send: the cookies, but neither the token nor our origin
        forged = {"Origin": EVIL, "Cookie": f"portal_session={cookies['portal_session']}"}
        assert put(target, forged) == 403
        same_site = {
            "Origin": portal.url,
            "X-Xsrftoken": xsrf,
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        }
        assert put(target, same_site) in (200, 204)  # the same request from the portal's own page is accepted


def test_27_a_websocket_from_another_origin_is_refused(portal):
    ws_url = portal.url.replace("http://", "ws://") + "/_stcore/stream"
    protocols = ["streamlit", "PLACEHOLDER_AUTH_TOKEN"]
    with pytest.raises(InvalidStatus) as refused, connect(ws_url, subprotocols=protocols, origin=EVIL, open_timeout=30):
        pass
    assert refused.value.response.status_code == 403
    with connect(ws_url, subprotocols=["streamlit", "PLACEHOLDER_AUTH_TOKEN"], origin=portal.url, open_timeout=30):
        pass  # the portal's own origin opens it
