"""The landing-page probe judges the probed address itself: redirects elsewhere are unhealthy."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dr_autopilot.clients.http_probe import MAX_REDIRECTS, probe

EXPECTED = "Hello from the PHP webserver"
Answer = tuple[int, dict[str, str], str]
Routes = dict[str, Answer]
Serve = Callable[..., str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Serve `routes` (path -> status, headers, body) on a loopback address; returns its base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(routes: Routes, address: str = "127.0.0.1") -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, headers, body = routes.get(self.path, (404, {}, "not found"))
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body.encode()))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        server = ThreadingHTTPServer((address, 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://{address}:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_redirect_to_another_address_is_unhealthy_even_if_that_page_passes(serve: Serve) -> None:
    # Given a healthy page on another address, and the probed address answering 302 to it
    elsewhere = serve({"/": (200, {}, EXPECTED)}, address="127.0.0.2")
    probed = serve({"/": (302, {"Location": f"{elsewhere}/"}, "")})
    # When the probed address is checked
    result = probe(f"{probed}/", EXPECTED, timeout_seconds=2)
    # Then it is unhealthy, and the detail names where it sends visitors
    assert not result.healthy and result.status_code == 302
    assert "redirects to 127.0.0.2, not the probed address 127.0.0.1" in result.detail


def test_a_redirect_on_the_probed_address_is_followed(serve: Serve) -> None:
    # Given the probed address redirects / to /index.php on itself, which serves the page
    probed = serve({"/": (301, {"Location": "/index.php"}, ""), "/index.php": (200, {}, EXPECTED)})
    # When it is checked
    result = probe(f"{probed}/", EXPECTED, timeout_seconds=2)
    # Then it is healthy
    assert result.healthy, result.detail


def test_a_redirect_loop_on_the_probed_address_is_unhealthy(serve: Serve) -> None:
    # Given the probed address redirects to itself forever
    probed = serve({"/": (302, {"Location": "/"}, "")})
    # When it is checked
    result = probe(f"{probed}/", EXPECTED, timeout_seconds=2)
    # Then it is unhealthy after a bounded number of hops
    assert not result.healthy and f"more than {MAX_REDIRECTS} redirects" in result.detail


@pytest.mark.parametrize(
    ("answer", "detail"),
    [((200, {}, "<h1>It works!</h1>"), "lacks"), ((503, {}, EXPECTED), "HTTP 503")],
)
def test_a_page_is_healthy_only_with_200_and_the_expected_text(serve: Serve, answer: Answer, detail: str) -> None:
    # Given the probed address answers a wrong page or an error that contains the text
    probed = serve({"/": answer})
    # When it is checked
    result = probe(f"{probed}/", EXPECTED, timeout_seconds=2)
    # Then it is unhealthy, saying why
    assert not result.healthy and detail in result.detail


@pytest.mark.parametrize(
    "location",
    ["http://{elsewhere}\\@{probed}/", "http://user@{probed}/", "//{elsewhere}/"],
)
def test_a_redirect_parsers_could_read_two_ways_is_never_followed(serve: Serve, location: str) -> None:
    # Given a healthy page elsewhere, and a Location that names the probed host to one parser and
    # the other host to the one that connects (found by the red team: a backslash before '@')
    elsewhere = serve({"/": (200, {}, EXPECTED)}, address="127.0.0.2")
    probed_host = "127.0.0.1"
    target = location.format(elsewhere=elsewhere.split("//", 1)[1], probed=probed_host)
    probed = serve({"/": (302, {"Location": target}, "")})
    # When the probed address is checked
    result = probe(f"{probed}/", EXPECTED, timeout_seconds=2)
    # Then it is unhealthy
    assert not result.healthy, result.detail
