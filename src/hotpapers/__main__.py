"""Run the command line with `python -m hotpapers`."""

from hotpapers.cli import main

main()
