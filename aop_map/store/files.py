"""Files of the store: atomic writes, durable appends and removals, its one YAML style.

Knows nothing of submissions or records, and takes no lock: callers hold the store's lock.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

TEMP_PREFIX = ".aop-tmp-"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The C emitter writes the same safe YAML as yaml.safe_dump, about ten times faster; it matters
# because every write happens under the lock.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace a file with ``text`` so readers and crashes see the old file or the new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def append_line(path: Path, line: str) -> None:
    """Append one line durably; a line torn by an earlier crash is closed off first."""
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        data = line.encode("utf-8")
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent)


def remove_file(path: Path) -> bool:
    """Delete a file durably; False if it was not there."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    _fsync_dir(path.parent)
    return True


def dump_yaml(value: Any) -> str:
    """The one YAML style of the store: safe, readable Unicode, keys in schema order."""
    return yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)
