"""Reading the files people name and writing the files smduty makes, without hanging or lying.

Whatever a command or screen reads (an export, a channel CSV, a rules or config file) is opened
here: only a regular file, at most a set size, refused at once otherwise. `/dev/zero`, a FIFO or
a folder would otherwise never finish, or fill memory. Whatever smduty writes (a calendar, a
report) goes through `write_output`, which says plainly why a file could not be written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

from smduty.core.errors import BadInput

MB = 1024 * 1024
# Settings and small data files: rules, config, playbook, assessment guide, a channel CSV.
MAX_SETTINGS_BYTES = 10 * MB
# Export files of social media tools; `max_import_mb` in config changes it (checked when an
# import starts; later opens of the same file are held to the ceiling only).
MAX_EXPORT_BYTES = 2048 * MB
EXPORT_CEILING = 65536 * MB


class UnreadableFile(BadInput):
    """A file that cannot be read as asked; the message names it and says why."""


class UnwritableFile(BadInput):
    """A file that cannot be written; the message names it and says why."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _too_big(path: Path | str, size: int, limit: int, what: str) -> UnreadableFile:
    return UnreadableFile(
        f"{path}: {what} is {size / MB:,.1f} MB, more than the {limit / MB:,.0f} MB smduty reads"
    )


def open_input(path: Path | str, max_bytes: int, what: str = "the file") -> BinaryIO:
    """`path` opened for reading as bytes, if it is a regular file of at most `max_bytes`.

    Opened non-blocking and checked on the open descriptor, so a FIFO swapped in after a check
    cannot make the open wait for a writer.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UnreadableFile(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UnreadableFile(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"{path}: is {_kind(info.st_mode)}, not a file smduty can read")
        if info.st_size > max_bytes:
            raise _too_big(path, info.st_size, max_bytes, what)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_small_bytes(path: Path | str, max_bytes: int = MAX_SETTINGS_BYTES) -> bytes:
    with open_input(path, max_bytes) as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while being read
        raise _too_big(path, len(data), max_bytes, "the file")
    return data


def read_small_text(path: Path | str, max_bytes: int = MAX_SETTINGS_BYTES) -> str:
    """A small UTF-8 text file (a BOM is allowed); UnreadableFile otherwise."""
    data = read_small_bytes(path, max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"{path}: is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None


def not_a_file(path: Path | str) -> str | None:
    """Why `path` could never be read as a file (a folder, a device, a name too long), or None
    when it is a regular file or does not exist yet (a source may name a file still to come)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be used: {exc.strerror or exc}"
    return None if stat.S_ISREG(mode) else f"is {_kind(mode)}, not a regular file"


def check_readable(path: Path | str, max_bytes: int, what: str = "the file") -> int:
    """The size of `path` if `open_input` would take it (UnreadableFile otherwise)."""
    with open_input(path, max_bytes, what) as stream:
        return os.fstat(stream.fileno()).st_size


def _write_to_device(path: Path, payload: bytes) -> None:
    """A device or pipe the user named (/dev/stdout, a process substitution). Opened without
    waiting: a pipe nobody reads would otherwise hold the command for ever."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise UnwritableFile(f"{path}: is a pipe nobody is reading") from None
        raise
    os.set_blocking(fd, True)
    with os.fdopen(fd, "wb") as stream:
        stream.write(payload)


def write_output(path: Path | str, data: bytes | str) -> Path:
    """Write a file smduty made: a regular file is replaced whole (a temporary file renamed
    over it, so a failure leaves the old one); a device or pipe that exists is written to."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        existing = path.stat()
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise UnwritableFile(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        if existing is not None and stat.S_ISDIR(existing.st_mode):
            raise UnwritableFile(f"{path}: is a folder; name a file to write")
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            _write_to_device(path, payload)
            return path
        if not path.parent.is_dir():
            raise UnwritableFile(f"{path}: the folder {path.parent} does not exist")
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(payload)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    except OSError as exc:
        raise UnwritableFile(f"{path}: cannot write: {exc.strerror or exc}") from None
    return path
