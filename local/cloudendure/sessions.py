"""Logins and sessions: who may call the emulated API, and for how long."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from local.cloudendure.clock import Clock
from local.cloudendure.errors import ApiError

FAILED_LOGINS_BEFORE_LOCKOUT = 5
LOCKOUT = timedelta(seconds=60)


@dataclass
class Session:
    """A logged-in session: the `session` cookie, its XSRF token and when it stops being valid."""

    session_id: str
    xsrf_token: str
    expires_at: datetime


class Sessions:
    """Opens sessions for the right API token and checks the session and XSRF header of every call."""

    def __init__(self, clock: Clock, api_token: str, ttl: timedelta, *, license_expired: bool) -> None:
        self.clock = clock
        self.api_token = api_token
        self.ttl = ttl
        self.license_expired = license_expired
        self._sessions: dict[str, Session] = {}
        self._failed_logins: list[datetime] = []
        self._lock = threading.Lock()

    def login(self, body: Any) -> Session:
        """Open a session for a `{"userApiToken"}` body: 401 for a wrong token, 429 when locked out."""
        now = self.clock.now()
        with self._lock:
            # The real service locks an account out after repeated failures; clients must not hammer it.
            self._failed_logins = [t for t in self._failed_logins if now - t < LOCKOUT]
            if len(self._failed_logins) >= FAILED_LOGINS_BEFORE_LOCKOUT:
                raise ApiError(429, "Too many failed login attempts, try again later", "TOO_MANY_REQUESTS")
            token = body.get("userApiToken") if isinstance(body, dict) else None
            if not isinstance(token, str) or not secrets.compare_digest(token, self.api_token):
                self._failed_logins.append(now)
                raise ApiError(401, "Invalid credentials", "UNAUTHORIZED")
            if self.license_expired:
                raise ApiError(402, "No active license for this account", "LICENSE_EXPIRED")
            session = Session(secrets.token_hex(24), secrets.token_urlsafe(24), now + self.ttl)
            self._sessions[session.session_id] = session
            return session

    def authenticate(self, session_id: str | None, xsrf_header: str | None) -> None:
        """401 unless the session is open and the X-XSRF-TOKEN header matches its token."""
        with self._lock:
            session = self._sessions.get(session_id or "")
            if session is None or self.clock.now() >= session.expires_at:
                self._sessions.pop(session_id or "", None)
                raise ApiError(401, "Session expired or not logged in", "UNAUTHORIZED")
            # The XSRF cookie is quoted; clients echo it with or without the quotes.
            if not xsrf_header or not secrets.compare_digest(xsrf_header.strip('"'), session.xsrf_token):
                raise ApiError(401, "Missing or wrong X-XSRF-TOKEN header", "UNAUTHORIZED")

    def logout(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def expire_all(self) -> int:
        """End every session at once (the admin API's way to test re-login); returns how many ended."""
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count
