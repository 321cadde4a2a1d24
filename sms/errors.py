"""The sms package's one exception root; leaves also subclass the matching builtin."""


class SmsError(Exception):
    """Root of every error the sms package raises on purpose; its message is for the user."""
