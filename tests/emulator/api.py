"""A deliberately independent, minimal CloudEndure caller for the emulator's own tests.

It is written from the API document, not from the project's client, so the emulator is
checked against the API rather than against our own reading of it.
"""

from __future__ import annotations

from typing import Any

import requests


class RawApi:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def login(self, token: str) -> requests.Response:
        response = self.http.post(f"{self.base_url}/login", json={"userApiToken": token}, timeout=5)
        xsrf = self.http.cookies.get("XSRF-TOKEN")
        if xsrf:
            self.http.headers["X-XSRF-TOKEN"] = xsrf.strip('"')
        return response

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.http.get(f"{self.base_url}{path}", params=params, timeout=5)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.http.post(f"{self.base_url}{path}", json=body, timeout=5)

    def project_id(self) -> str:
        return str(self.get("/projects").json()["items"][0]["id"])

    def machines(self) -> list[dict[str, Any]]:
        return list(self.get(f"/projects/{self.project_id()}/machines").json()["items"])

    def launch(self, launch_type: str = "RECOVERY", items: list[dict[str, Any]] | None = None) -> requests.Response:
        items = items if items is not None else [{"machineId": m["id"]} for m in self.machines()]
        return self.post(f"/projects/{self.project_id()}/launchMachines", {"launchType": launch_type, "items": items})
