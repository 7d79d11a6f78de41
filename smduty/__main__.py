"""Allows `python -m smduty`."""

from smduty.launch import main

if __name__ == "__main__":
    main()
