"""Errors users see. Every expected failure is an AichorError with a one-line message.

The CLI prints `str(error)` and exits with `exit_code`; nothing else is shown, so the message
must name the field, file or value at fault.
"""

from __future__ import annotations


class AichorError(Exception):
    """A failure caused by input or environment, reported without a traceback."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(AichorError):
    """User input (a manifest, a flag, a Dockerfile) is wrong; `field` says where."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class NotFound(AichorError):
    """A file, experiment or resource that was named does not exist."""


class Conflict(AichorError):
    """The request contradicts the current state (e.g. not enough resources on this machine)."""


class BuildFailed(AichorError):
    """The experiment's environment could not be built; the build log says why."""


class ExperimentFailed(AichorError):
    """The workload ran and failed; exit code is the experiment's."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Unauthorized(AichorError):
    """No valid credentials: a wrong password, an unknown or revoked token, a missing session."""


class Forbidden(AichorError):
    """The caller is known but their roles do not allow this."""


class TooLarge(AichorError):
    """An upload or request body exceeds a limit."""


class RateLimited(AichorError):
    """Too many attempts (failed logins); retry later."""


class Unavailable(AichorError):
    """Something the request needs is not running (a TensorBoard that failed to start, a Ray
    head that is not up yet); retry later."""


HTTP_STATUS: dict[type[AichorError], int] = {
    InvalidInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    RateLimited: 429,
    Unavailable: 503,
}
"""The HTTP status of each error class: the server answers with it, the client maps it back.
A subclass takes its nearest listed ancestor's status; anything else is 400."""
