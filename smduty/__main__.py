"""Allows `python -m smduty`."""

from smduty.cli import main

if __name__ == "__main__":
    main()
