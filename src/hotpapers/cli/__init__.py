"""The `hotpapers` command line: `main` is the console script's entry point."""

from hotpapers.cli.main import app, main

__all__ = ["app", "main"]
