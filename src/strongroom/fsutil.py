"""File-system steps that durability depends on."""

from __future__ import annotations

import os


def fsync_dir(directory: str) -> None:
    """Make the directory's entries (a file just created or renamed in it)
    survive a crash: fsync on the file alone does not cover its name."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
