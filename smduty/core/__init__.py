"""Headless core of smduty: plain Python over SQLite. Never imports textual or rich."""
