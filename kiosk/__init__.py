"""TDP Kiosk: the appliance, one subpackage per concept (see README, "Where is…").

Foundations at the top: errors (the one exception root), clock, text, tabular, files, cli.
Concepts: directory, dossiers, notices, volunteers, relay, reports, voice, appliance, sync, ui.
"""

__version__ = "0.1.0"
