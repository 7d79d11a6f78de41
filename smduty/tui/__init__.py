"""The Textual app: screens over the headless core."""
