"""The hardware package's one exception root."""


class HardwareError(Exception):
    """Root of every error the hardware package raises on purpose; its message is for the user."""
