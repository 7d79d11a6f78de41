"""Allows `python -m smduty`."""

from smduty.cli import main

main()
