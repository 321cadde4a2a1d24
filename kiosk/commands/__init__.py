"""`tdp` subcommands: every module here has `register(cli)` and is found automatically."""
