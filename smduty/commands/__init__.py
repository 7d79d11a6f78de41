"""CLI subcommands, one module per concept; each exposes COMMANDS for cli.py to register."""
