"""The channel register: every official channel, its fields, the CSV import, what fails policy."""
