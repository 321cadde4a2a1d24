"""The hub package's one exception root. The CLI and the API turn HubError into a one-line message."""


class HubError(Exception):
    """Root of every error the hub raises on purpose; its message is for the user.

    `vietnamese` is the same message in Vietnamese for the web console (the English one when a
    raise site gives none): the same convention as kiosk's TdpError and hardware's PrinterError.
    """

    status = 400

    def __init__(self, message: str, vietnamese: str | None = None):
        super().__init__(message)
        self.vietnamese = vietnamese or message


class InvalidInput(HubError, ValueError):
    """A request or command failed validation; the message says what to fix."""

    status = 400


class NotFound(HubError, LookupError):
    """A named kiosk, official or notice does not exist (or is not visible to the caller)."""

    status = 404


class Unauthorized(HubError):
    """A missing, wrong or revoked kiosk token, or a bad login."""

    status = 401


class Forbidden(HubError):
    """The official is logged in but not allowed to act on that kiosk."""

    status = 403


class TooLarge(HubError):
    """A request body over the API's size limit."""

    status = 413


class Conflict(HubError):
    """The action clashes with stored state (a name already taken, a notice already cancelled)."""

    status = 409
