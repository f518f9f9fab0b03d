"""Small file helpers: refuse an unwritable output directory up front, write a file atomically.

``vibeplot ask --out`` and ``vibeplot compare --out`` check here first (:func:`check_writable_dir`),
so a read-only place or a path under a regular file is one clear line (exit 2), never a traceback
half way through a run, and nothing is created there.

Every file that others may read while vibeplot writes it (``run.json``, compare results, the
truth-values cache, the embedded sample and its record) is written with :func:`atomic_write`:
a reader sees the old file or the new one, never half of one.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> atomic_write(folder / "run.json", '{"outcome": "plot"}').read_text()
'{"outcome": "plot"}'
>>> sorted(p.name for p in folder.iterdir())   # no temporary file left behind
['run.json']
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Callable

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


def atomic_write(path: Path, data: str | bytes | Callable[[Path], object], *, mode: int | None = None) -> Path:
    """Write ``path`` all at once: into a temporary dot file next to it, then ``os.replace``.

    ``data`` is text (written as UTF-8), bytes, or a function that writes the file it is given
    (e.g. ``lambda tmp: pyarrow.parquet.write_table(table, tmp)``).  ``mode``: permissions set
    before the file takes its name (e.g. ``0o444``).  The temporary name is unique per process
    and thread, starts with a dot and ends in ``.tmp`` (globs such as ``*.parquet`` never see it),
    and is removed when writing fails.  Returns ``path``.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        elif isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            data(tmp)
        if mode is not None:
            tmp.chmod(mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
