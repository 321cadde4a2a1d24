"""The sms package's one exception root; leaves also subclass the matching builtin."""


class SmsError(Exception):
    """Root of every error the sms package raises on purpose; its message is for the user."""


class OutboxError(SmsError, ValueError):
    """A message the outbox refuses (bad number, empty text, too long, bad policy); says why."""
