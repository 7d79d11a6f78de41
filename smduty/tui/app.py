"""placeholder"""


def run_app(path, actor):
    raise SystemExit("TUI not built yet")
