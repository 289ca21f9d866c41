"""One error shape for every party, the API and the CLI.

A domain error carries a stable reason code (``code``), a message in Japanese and
in English, and the input field it is about. The API turns it into
``{"error": {"code", "message", "field"}}`` with an HTTP status; the CLI prints one
line and exits non-zero. Nothing here knows about the web or the database.
"""

from __future__ import annotations

from typing import ClassVar

from kojin.core.i18n import current_language


class KojinError(Exception):
    """Base of every error a user may see (利用者に示すエラー)."""

    status: ClassVar[int] = 400

    def __init__(
        self,
        code: str,
        message_ja: str,
        message_en: str | None = None,
        *,
        field: str | None = None,
    ) -> None:
        super().__init__(message_en or message_ja)
        self.code = code
        self.message_ja = message_ja
        self.message_en = message_en or message_ja
        self.field = field

    @property
    def message(self) -> str:
        return self.message_en if current_language() == "en" else self.message_ja

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}

    def one_line(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"error {self.code}{where}: {self.message}"

    def report_lines(self) -> list[str]:
        """What a command prints for this error: its one line, and whatever else the user must see to fix it."""
        return [self.one_line()]


class InvalidInput(KojinError):
    """Input that fails validation (入力誤り)."""

    status = 422


class NotFound(KojinError):
    """A thing that does not exist (該当なし)."""

    status = 404


class Conflict(KojinError):
    """A request that contradicts what is already recorded (重複・状態不整合)."""

    status = 409


class NotPermitted(KojinError):
    """A request the rules do not allow (不許可)."""

    status = 403


class Unauthenticated(KojinError):
    """A request without valid authentication (未認証)."""

    status = 401


class TooManyRequests(KojinError):
    """A request over a rate limit (回数制限超過): the same request may succeed later."""

    status = 429
