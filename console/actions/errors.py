"""The refusals of the actions service: plain exceptions named for what went wrong.

The service never speaks HTTP: it raises these, and the API's error handler
(``console/api/actions.py``) answers each with ``status``, read from the table at the end
(store errors keep the status ``console.errors`` gives them everywhere else).
"""
from __future__ import annotations

from adapters.base import StoreError
from console.errors import STORE_ERROR_STATUS


class ActionError(Exception):
    """A refusal with a stable snake_case ``code``; ``extra`` holds facts for the client
    (``offers``: what to do instead)."""

    def __init__(self, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra

    @property
    def status(self) -> int:
        """The HTTP status an API answers this refusal with."""
        return next(s for cls, s in HTTP_STATUS.items() if isinstance(self, cls))


class InvalidInput(ActionError):
    """The request itself is wrong (missing reason, bad amount); nothing was stored."""


class Forbidden(ActionError):
    """The actor's role (or being the requester) forbids this decision."""


class NotFound(ActionError):
    """The action or edit request named does not exist."""


class Refused(ActionError):
    """The order's state, the store's abilities or an earlier decision rule this out."""


class StoreRefused(ActionError):
    """The order store raised a typed error; its code and message go to the client."""

    def __init__(self, error: StoreError) -> None:
        super().__init__(error.code, error.message)
        self.error = error

    @property
    def status(self) -> int:
        return next((s for cls, s in STORE_ERROR_STATUS.items() if isinstance(self.error, cls)),
                    500)


HTTP_STATUS: dict[type[ActionError], int] = {
    InvalidInput: 400, Forbidden: 403, NotFound: 404, Refused: 409, ActionError: 409,
}
