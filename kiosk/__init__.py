"""TDP Kiosk: the domain (directory, procedures, requests, notices, relay rules), store, config, CLI."""

__version__ = "0.1.0"
