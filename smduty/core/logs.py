"""The log file: a rotating file in the user log folder (SMDUTY_HOME/logs under a test or demo).

What the operator reads is one sentence on the screen or stderr; what went on behind it (a
traceback, a failed poll's detail) goes here. The file is private (0600): an error can quote a
mention. `--verbose` adds debug lines.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs

from smduty.core.config import APP_NAME

LOG_BYTES = 1_000_000
LOG_FILES = 5  # the current file and four before it


def log_dir() -> Path:
    home = os.environ.get("SMDUTY_HOME")
    if home:
        return Path(home) / "logs"
    return platformdirs.user_log_path(APP_NAME)


def log_file() -> Path:
    return log_dir() / "smduty.log"


def start_logging(verbose: bool = False) -> Path | None:
    """Send smduty's (and its libraries') log lines to the file; None if it cannot be written
    (a read-only home): the program runs on, without a log."""
    root = logging.getLogger()
    path = log_file()
    for handler in [h for h in root.handlers if getattr(h, "smduty", False)]:
        if Path(handler.baseFilename) == path:
            return path
        root.removeHandler(handler)  # another home (tests run many in one process)
        handler.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
        handler = RotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=LOG_FILES - 1, encoding="utf-8"
        )
    except OSError:
        return None
    handler.smduty = True  # type: ignore[attr-defined]
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("httpx", "httpcore", "apscheduler", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    return path
