"""The kiosk package's one exception root. The CLI turns every TdpError into a one-line message."""


class TdpError(Exception):
    """Root of every error the kiosk package raises on purpose; its message is for the user.

    `vietnamese` is the same reason in plain Vietnamese, for the kiosk screen; when a raise site
    gives none, the screen falls back to a per-class text (kiosk/ui/messages.py).
    """

    def __init__(self, message: str = "", vietnamese: str = ""):
        super().__init__(message)
        self.vietnamese = vietnamese


class ConfigError(TdpError, ValueError):
    """The config file is missing, unreadable, or has a wrong key or type."""


class StoreError(TdpError):
    """The SQLite store cannot be opened, migrated or written."""


class NotFound(TdpError, LookupError):
    """A named record (resident, group, request, procedure…) does not exist."""


class InvalidInput(TdpError, ValueError):
    """User input failed validation; the message says what to fix."""


class RateLimited(TdpError):
    """Too many attempts from one source (an OTP to one phone, from one kiosk); `.wait_seconds`
    says how long until the next one is allowed."""

    def __init__(self, message: str = "", vietnamese: str = "", wait_seconds: int = 0):
        super().__init__(message, vietnamese)
        self.wait_seconds = wait_seconds
