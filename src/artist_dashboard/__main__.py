"""Command line: ``python -m artist_dashboard`` runs `artist_dashboard.cli`."""

from .cli import run

run()
