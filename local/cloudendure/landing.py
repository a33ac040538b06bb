"""The recovered webserver's landing page, served for real on a loopback address.

Each launched replica of the scenario's webserver gets its own loopback address
(127.0.x.y, also its `publicIps[0]`) and a tiny HTTP server on that address. All landing pages
share one port, chosen when the emulator starts and reported as `landingPort` by
`GET /_emulator/info` (and printed by `python -m local.cloudendure`): a health check reaches the
page at `http://<publicIps[0]>:<landingPort>/`. In AWS the same check uses port 80.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from local.cloudendure.scenario import LandingPageSpec
from local.tls import local_ca


class QuietServer(ThreadingHTTPServer):
    """A server for emulated peers: a client that hangs up (a timeout, a dropped connection) is
    part of the scenario, not an error worth a traceback."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LandingPages:
    """The landing-page servers of all running replicas."""

    def __init__(self, spec: LandingPageSpec, port: int | None = None) -> None:
        self.spec = spec
        self.port = port or free_port()
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._lock = threading.Lock()

    def serve(self, replica_id: str, address: str, hostname: str) -> None:
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                spec = pages.spec
                if spec.delay_seconds:
                    time.sleep(spec.delay_seconds)
                if spec.redirect_to_address:
                    pages.serve_elsewhere(spec.redirect_to_address)
                    self.send_response(302)
                    self.send_header("Location", f"http://{spec.redirect_to_address}:{pages.port}/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = spec.body.replace("{hostname}", hostname).encode()
                self.send_response(spec.status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        server = QuietServer((address, self.port), Handler)
        if self.spec.tls:
            site = local_ca().site
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(site.certificate, site.key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, name=f"landing-{address}", daemon=True).start()
        with self._lock:
            self._servers[replica_id] = server

    def serve_elsewhere(self, address: str) -> None:
        """The server a redirecting landing page forwards to: the default page, on `address`."""
        with self._lock:
            if f"elsewhere-{address}" in self._servers:
                return
        pages = LandingPages(LandingPageSpec(), self.port)
        pages.serve(f"elsewhere-{address}", address, hostname="somewhere-else")
        with self._lock:
            self._servers.update(pages._servers)

    def stop(self, replica_id: str) -> None:
        with self._lock:
            server = self._servers.pop(replica_id, None)
        if server is not None:
            server.shutdown()
            server.server_close()

    def stop_all(self) -> None:
        for replica_id in list(self._servers):
            self.stop(replica_id)
