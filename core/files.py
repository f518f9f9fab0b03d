"""Refuse an output directory that cannot be written, before any work starts.

``vibeplot ask --out`` and ``vibeplot compare --out`` check here first, so a read-only
place or a path under a regular file is one clear line (exit 2), never a traceback half
way through a run, and nothing is created there.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from vibeplot.core.errors import ConfigError


def check_writable_dir(path: Path, option: str = "--out") -> None:
    """Raise :class:`ConfigError` unless ``path`` is (or can be made) a writable directory.

    Nothing is left behind: the probe is a temporary directory in ``path`` or in its
    nearest existing parent, removed at once.
    """
    path = Path(path)
    existing = path.absolute()
    while not existing.exists() and existing != existing.parent:  # exists() is False under a regular file
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{option} {path}: {existing} is not a directory")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".vibeplot-probe-", dir=existing))
    except OSError as err:
        raise ConfigError(f"{option} {path}: cannot write in {existing} ({err.strerror or err})") from None
