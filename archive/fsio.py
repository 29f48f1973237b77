"""File-system primitives the archive relies on for crash safety (POSIX only)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a single call may write less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` survive a power cut, not just a SIGKILL."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


LOCK_NAME = "archive.lock"


@contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """Hold the archive directory's exclusive ``flock`` (on ``archive.lock``, created if missing).

    Taken briefly around index appends and rewrites, around creating and locking a new WARC
    file, and while recovery claims leftover files, so that recovery never claims a file its
    creator has not locked yet. The kernel drops the lock when the holder dies, so a SIGKILLed
    run never leaves the archive locked.
    """
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def check_writable(directory: Path) -> None:
    """Create ``directory`` if needed and take its lock once: OSError (read-only file system,
    no permission, not a directory…) when the archive cannot be written there."""
    directory.mkdir(parents=True, exist_ok=True)
    with directory_lock(directory):
        pass


def lock(fd: int) -> None:
    """Take an exclusive ``flock`` on ``fd``, waiting if needed."""
    fcntl.flock(fd, fcntl.LOCK_EX)


def try_lock(fd: int) -> bool:
    """Take an exclusive ``flock`` on ``fd`` without waiting; False if another holder has it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
