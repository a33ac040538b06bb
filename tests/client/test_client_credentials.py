"""The API token: a rotation takes effect at once, and the token only ever goes to the API host."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dr_autopilot.errors import AuthenticationFailed, InvalidResponse
from dr_autopilot.providers.cloudendure.client import CloudEndureClient, RetrySettings

from tests.conftest import EmulatorFactory

FAST_RETRY = RetrySettings(attempts=1, backoff_factor=0, read_timeout=5)


def test_a_rotated_token_is_read_again_after_a_401(start_emulator: EmulatorFactory) -> None:
    # Given the cached token is the old one and the secret now holds the new one (found by the red
    # team: a rotation took up to 5 minutes, the cache's age, to take effect)
    emulator = start_emulator("two-tier")
    client = CloudEndureClient(
        api_token=lambda: "the-old-token",
        fresh_api_token=lambda: emulator.api_token,
        base_url=emulator.base_url,
        retry=FAST_RETRY,
    )
    # When the client calls the API
    projects = client.projects()
    # Then the login was refused once, retried with the secret read again, and succeeded
    assert projects and client.stats.relogins == 1


def test_a_token_refused_even_when_read_again_is_an_authentication_failure(start_emulator: EmulatorFactory) -> None:
    # Given a token that is wrong in the secret too
    emulator = start_emulator("two-tier")
    client = CloudEndureClient(
        api_token=lambda: "wrong", fresh_api_token=lambda: "still-wrong", base_url=emulator.base_url, retry=FAST_RETRY
    )
    # When the client calls the API
    # Then it fails as AuthenticationFailed, naming the 401
    with pytest.raises(AuthenticationFailed, match="401"):
        client.projects()


@pytest.fixture
def redirect_elsewhere() -> Iterator[tuple[str, list[bytes]]]:
    """An 'API' on 127.0.0.1 whose login answers 307 to another host, which records what it gets."""
    received: list[bytes] = []

    class Elsewhere(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    other = ThreadingHTTPServer(("127.0.0.2", 0), Elsewhere)

    class Api(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.2:{other.server_address[1]}/api/v5/login")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    for server in (other, api):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{api.server_address[1]}/api/latest", received
    for server in (other, api):
        server.shutdown()
        server.server_close()


def test_a_login_redirected_to_another_host_is_refused_and_the_token_never_sent(
    redirect_elsewhere: tuple[str, list[bytes]],
) -> None:
    # Given the API answers the login with a 307 to another host (found by the red team: the client
    # followed it and sent the token there)
    base_url, received = redirect_elsewhere
    client = CloudEndureClient(api_token=lambda: "s3cr3t-token", base_url=base_url, retry=FAST_RETRY)
    # When the client logs in
    # Then it refuses, naming the other host, and that host never received anything
    with pytest.raises(InvalidResponse, match=r"127\.0\.0\.2"):
        client.login()
    assert received == []
