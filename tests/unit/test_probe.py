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


@pytest.fixture
def serve_tls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple[str, list[str], list[str]]]]:
    """Serve `routes` over TLS with the drill CA's certificate for www.example.com / drill.example.com,
    trusted as the runtime's CAs; returns the base URL (by IP) and the SNI names and Host headers seen."""
    import ssl

    from local.cloudendure.landing import QuietServer
    from local.tls import local_ca

    ca = local_ca()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca.bundle))
    servers: list[ThreadingHTTPServer] = []

    def start(routes: Routes) -> tuple[str, list[str], list[str]]:
        names: list[str] = []
        hosts: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hosts.append(self.headers.get("Host", ""))
                status, headers, body = routes.get(self.path, (404, {}, "not found"))
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body.encode()))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(ca.site.certificate, ca.site.key)
        context.sni_callback = lambda _socket, name, _context: names.append(name or "")  # type: ignore[func-returns-value]
        server = QuietServer(("127.0.0.1", 0), Handler)  # a refused handshake is the point, not an error
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"https://127.0.0.1:{server.server_address[1]}", names, hosts

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_https_is_probed_at_the_address_for_the_site_name_and_its_certificate(
    serve_tls: Callable[..., tuple[str, list[str], list[str]]],
) -> None:
    # Given the recovered webserver serving the site over TLS with a certificate for www.example.com
    probed, names, hosts = serve_tls({"/": (200, {}, EXPECTED)})
    port = probed.rsplit(":", 1)[1]
    # When it is probed at its address for the site's name
    result = probe(f"{probed}/", EXPECTED, timeout_seconds=2, site_name="www.example.com")
    # Then it is healthy: the TLS handshake named the site (SNI), the certificate was verified for
    # it, and the request asked for the site (Host)
    assert result.healthy, result.detail
    assert names == ["www.example.com"] and hosts == [f"www.example.com:{port}"]


@pytest.mark.parametrize(("site_name", "words"), [(None, "127.0.0.1"), ("shop.example.org", "shop.example.org")])
def test_https_without_the_site_name_or_for_another_name_is_unhealthy(
    serve_tls: Callable[..., tuple[str, list[str], list[str]]], site_name: str | None, words: str
) -> None:
    # Given the site served over TLS with a certificate for www.example.com
    probed, _, _ = serve_tls({"/": (200, {}, EXPECTED)})
    # When it is probed by its bare IP, or for a name its certificate does not cover
    result = probe(f"{probed}/", EXPECTED, timeout_seconds=2, site_name=site_name)
    # Then the certificate does not verify: unhealthy, saying so
    assert not result.healthy and result.detail.startswith(f"TLS failed for {words}"), result.detail


def test_a_redirect_to_the_site_name_is_followed_at_the_probed_address(
    serve_tls: Callable[..., tuple[str, list[str], list[str]]],
) -> None:
    # Given the landing page redirecting to the site's canonical URL (by name, same port)
    routes: Routes = {"/home": (200, {}, EXPECTED)}
    probed, names, hosts = serve_tls(routes)
    routes["/"] = (301, {"Location": f"https://www.example.com:{probed.rsplit(':', 1)[1]}/home"}, "")
    # When it is probed for the site
    result = probe(f"{probed}/", EXPECTED, timeout_seconds=2, site_name="www.example.com")
    # Then the redirect was followed on the probed address (never via DNS, which points elsewhere)
    assert result.healthy, result.detail
    assert len(hosts) == 2 and set(names) == {"www.example.com"}
