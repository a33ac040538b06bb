"""The one error the emulator answers with, shaped as CloudEndure's error body."""

from __future__ import annotations


class ApiError(Exception):
    """An API error answer: HTTP status plus CloudEndure's `{"message", "code"}` body."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
