"""Reading a big export file in a second process, so that reading and writing run side by side.

An export spends about as long being read, cleaned, keyed and flagged as being written to
SQLite, and one Python process does one at a time. For a big file the writer starts
`python -m smduty.core.monitoring.reader_process`, sends it the job (pickled, on its stdin) and
receives prepared mentions in batches (pickled, on its stdout). A thread of the writer's takes
them off the pipe as they come (a few batches ahead), so the child never waits while the writer
writes: a pipe holds 64 KB and a batch is about 350 KB.

The child never opens the database. The writer's import (`imports`) is the only write, so a
failure on either side (a bad line, a crash, a killed child) undoes everything, as in one process.
Messages from the child: ("ready",) once it has the job, then ("rows", bytes_done, read, skipped,
batch) as it goes, and ("end", warning) or ("error", exception). Each message is framed: eight
bytes of length, then the pickle. A frame cut short means the child stopped; a frame that does
not unpickle is a damaged message, never blamed on the file being read.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import msgspec

from smduty.core.errors import ReadFailed
from smduty.core.monitoring.exports import file_records
from smduty.core.monitoring.flagging import RuleSet
from smduty.core.monitoring.mentions import Prepared, Preparer
from smduty.core.monitoring.presets import ReadNotes

BATCH = 2000  # posts per message: about 350 KB pickled
STOP_WAIT_SECONDS = 5
AHEAD = 4  # batches taken off the pipe before the writer asks for them


class Job(msgspec.Struct):
    path: str
    fmt: str
    preset: str | None
    overrides: dict[str, str]
    rules: RuleSet  # pickled as its rules; compiled again in the child
    source: str
    fetched_at: datetime


Batch = tuple[int, int, int, list[Prepared]]  # bytes done, posts read, posts skipped, prepared


class ReaderProcess:
    """The child reading one job: iterate for its batches; `close()` stops it.

    Starting raises OSError when no child can be started or it cannot get ready (say, it cannot
    import smduty): the caller then reads the file itself.
    Iterating raises whatever stopped the child, or ReadFailed when it died without a word.
    """

    def __init__(self, job: Job) -> None:
        self.job = job
        self.finished = False
        self.warning: str | None = None  # what reading found worth saying, at the end
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        try:
            self.child = subprocess.Popen(
                [sys.executable, "-m", "smduty.core.monitoring.reader_process"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.errors,
            )
        except BaseException:
            self.errors.close()
            raise
        try:
            with self.child.stdin:
                pickle.dump(job, self.child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            ready = receive(self.child.stdout)
        except (OSError, EOFError, MessageDamaged) as exc:
            why = _stopped(self.child, self.errors)
            self.close()
            raise OSError(why) from exc
        if ready != ("ready",):
            self.close()
            raise OSError(f"the reading process said {ready!r} instead of being ready")

    def __enter__(self) -> ReaderProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __iter__(self) -> Iterator[Batch]:
        self._ahead: queue.Queue = queue.Queue(AHEAD)
        self._stop = threading.Event()
        self._taker = threading.Thread(target=self._take, name="smduty-reader-pipe", daemon=True)
        self._taker.start()
        while True:
            message = self._ahead.get()
            if isinstance(message, EOFError):  # gone, perhaps in the middle of a batch
                raise ReadFailed(self.job.path, _stopped(self.child, self.errors))
            if isinstance(message, MessageDamaged):
                raise ReadFailed(self.job.path, str(message))
            if message[0] == "rows":
                yield message[1:]
            elif message[0] == "error":
                raise message[1]
            else:
                self.finished = True
                self.warning = message[1] if len(message) > 1 else None
                return

    def _take(self) -> None:
        """The thread: messages off the pipe into the queue, until the last one or a failure
        (handed on as the exception), or until the writer stops listening."""
        while not self._stop.is_set():
            try:
                message: object = receive(self.child.stdout)
            except (EOFError, MessageDamaged) as exc:
                message = exc
            except (OSError, ValueError) as exc:  # the pipe closed under it
                message = EOFError(str(exc))
            while not self._stop.is_set():
                try:
                    self._ahead.put(message, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if isinstance(message, BaseException) or message[0] in ("end", "error"):
                return

    def close(self) -> None:
        child = self.child
        if not child.stdin.closed:
            child.stdin.close()
        if not self.finished:
            child.kill()  # the taking thread then meets the end of the pipe
        taker = getattr(self, "_taker", None)
        if taker is not None:
            self._stop.set()
            taker.join()
        child.stdout.close()
        _reap(child)
        self.errors.close()


def _reap(child: subprocess.Popen) -> int:
    """Its exit code, once it has gone; killed if it has not gone within a few seconds."""
    try:
        return child.wait(STOP_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()


class MessageDamaged(Exception):
    """A whole frame arrived but does not unpickle: the message, not the file, is at fault."""


def send(out, message: tuple) -> None:
    """One framed message, written whole. A buffered write to a pipe cut short by the process
    being stopped and continued (ctrl+z, `fg`) lost the rest of a message: write to the pipe
    directly, for as long as it takes."""
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    data = memoryview(len(payload).to_bytes(8, "big") + payload)
    out.flush()
    fd = out.fileno()
    while data:
        data = data[os.write(fd, data) :]


def receive(stream) -> tuple:
    """One framed message; EOFError when the child has gone (before or within a frame)."""
    header = _read_exactly(stream, 8)
    if len(header) < 8:
        raise EOFError("no message")
    size = int.from_bytes(header, "big")
    payload = _read_exactly(stream, size)
    if len(payload) < size:
        raise EOFError("a message cut short")
    try:
        return pickle.loads(payload)
    except Exception as exc:
        raise MessageDamaged(
            f"the reading process sent a damaged message ({type(exc).__name__}); nothing was"
            " stored: try again"
        ) from None


def _read_exactly(stream, size: int) -> bytes:
    """`size` bytes, or fewer only at the end of the stream (a read may come back short when
    the process is stopped and continued, as ctrl+z and `fg` do)."""
    parts, got = [], 0
    while got < size:
        part = stream.read(size - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _stopped(child: subprocess.Popen, errors) -> str:
    """Why the child ended without finishing, in one line."""
    code = _reap(child)
    errors.seek(0)
    lines = [line for line in errors.read().decode("utf-8", "replace").splitlines() if line]
    last = f": {lines[-1].strip()[:200]}" if lines else ""
    return f"the reading process stopped unexpectedly (exit code {code}){last}"


def prepare(job: Job) -> Iterator[tuple]:
    """The child's messages for one job (runs in the child)."""
    prepare_one = Preparer(job.rules, job.source, job.fetched_at)
    yield ("ready",)
    done = 0

    def report(count: int) -> None:
        nonlocal done
        done = count

    batch: list[Prepared] = []
    read = skipped = 0
    notes = ReadNotes()
    for raw in file_records(Path(job.path), job.fmt, job.preset, job.overrides, report, notes):
        read += 1
        prepared = prepare_one(raw)
        if prepared is None:
            skipped += 1
        else:
            batch.append(prepared)
        if read % BATCH == 0:
            yield ("rows", done, read, skipped, batch)
            batch, read, skipped = [], 0, 0
    yield ("rows", done, read, skipped, batch)
    yield ("end", notes.warning())


def _portable(exc: BaseException, where: str) -> BaseException:
    """The exception itself when it survives pickling, else one that says the same."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return ReadFailed(where, f"unexpected {type(exc).__name__}: {exc}")


def main() -> None:
    out = sys.stdout.buffer
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - a stray print must not break the stream
    job: Job = pickle.load(sys.stdin.buffer)
    try:
        for message in prepare(job):
            send(out, message)
    except BrokenPipeError:
        return  # the writer stopped listening: it has rolled back already
    except Exception as exc:
        send(out, ("error", _portable(exc, job.path)))


if __name__ == "__main__":
    main()
