"""Finding the record files of a data directory, and its vocabulary; never parses a record.

A scan never follows a link or opens a special file: what it leaves out unread is returned as
``Skipped``, for the loader to report as a problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from aop_map import settings
from aop_map.reading import LINK_REASON
from aop_map.vocabulary import Vocabulary

# The checkout, which holds this file as aop_map/loading/files.py.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_DATA_DIR = PACKAGE_ROOT / "mapdata"
VOCABULARY_FILE = "vocabulary.yaml"
GAZETTEER_FILE = "gazetteer.csv"
# Files in a data directory that are not records, and folders that hold other state.
RESERVED_FILES = frozenset({VOCABULARY_FILE, GAZETTEER_FILE})
SKIPPED_DIRS = frozenset({"submissions"})
RECORD_SUFFIXES = (".yaml", ".yml", ".csv")


def data_dir_from_env() -> Path:
    """The data directory: $AOP_MAP_DATA_DIR, else the bundled mapdata/."""
    return settings.path("AOP_MAP_DATA_DIR") or BUNDLED_DATA_DIR


def vocabulary_path(data_dir: Path) -> Path:
    """The vocabulary of a data directory, falling back to the bundled one.

    Anything named ``vocabulary.yaml`` there counts, even a link or a folder, so that it is
    refused with a clear message rather than silently replaced by the bundled one.
    """
    own = Path(data_dir) / VOCABULARY_FILE
    return own if os.path.lexists(own) else BUNDLED_DATA_DIR / VOCABULARY_FILE


def load_vocabulary(data_dir: Path | None = None) -> Vocabulary:
    """The controlled vocabulary that applies to a data directory.

    Raises :class:`VocabularyError`, with a plain message naming the file (never its folder),
    when it is missing, unreadable, a link, over a limit, not YAML or not a vocabulary.
    """
    return Vocabulary.load(vocabulary_path(data_dir or data_dir_from_env()))


class FileStat(NamedTuple):
    """A record file with the modification time and size that key every cache."""

    path: str
    mtime_ns: int
    size: int


class Skipped(NamedTuple):
    """A file or folder a scan left out unread, and why (a link, a pipe): each is a problem."""

    path: str
    reason: str


# Folders nested deeper than this are not scanned (and reported): real data uses two or three.
MAX_FOLDER_DEPTH = 16
NOT_REGULAR_REASON = "skipped: not a regular file"


def scan_record_files(data_dir: Path, skipped: list[Skipped] | None = None) -> list[FileStat]:
    """Every record file under a directory with its stat, in a stable order.

    One ``os.scandir`` pass: files of a folder (sorted) before its sub-folders (sorted), hidden
    and ``_``-prefixed folders and other state (submissions) skipped. Links are never followed
    and special files (pipes, devices) never opened: those that look like data, and folders
    nested too deep, are added to ``skipped``. A file that vanishes mid-scan is left out; the
    next scan sees the directory as it then is.
    """
    found: list[FileStat] = []
    skipped = skipped if skipped is not None else []
    pending = [(os.fspath(data_dir), 0)]
    while pending:  # depth first, without recursion: a folder tree can be deeper than Python's
        folder, depth = pending.pop()
        folders = _scan_folder(folder, found, skipped)
        if folders and depth >= MAX_FOLDER_DEPTH:
            skipped.append(
                Skipped(
                    folder, f"skipped: its folders are nested more than {MAX_FOLDER_DEPTH} deep"
                )
            )
            continue
        pending.extend((sub, depth + 1) for sub in reversed(folders))
    return found


def _scan_folder(folder: str, found: list[FileStat], skipped: list[Skipped]) -> list[str]:
    """Add a folder's record files to ``found``; its sub-folders to scan, sorted."""
    try:
        with os.scandir(folder) as entries:
            listed = sorted(entries, key=lambda entry: entry.name)
    except OSError:
        return []
    folders: list[str] = []
    for entry in listed:
        name = entry.name
        if name.startswith("."):
            continue
        try:
            is_data = name.lower().endswith(RECORD_SUFFIXES) and name not in RESERVED_FILES
            folder_name = not name.startswith("_") and name not in SKIPPED_DIRS
            if entry.is_symlink():  # reported only when it would have been read
                if is_data or (folder_name and entry.is_dir()):
                    skipped.append(Skipped(entry.path, LINK_REASON))
            elif entry.is_dir(follow_symlinks=False):
                if folder_name:
                    folders.append(entry.path)
            elif is_data:
                if not entry.is_file(follow_symlinks=False):
                    skipped.append(Skipped(entry.path, NOT_REGULAR_REASON))
                    continue
                stat = entry.stat(follow_symlinks=False)
                found.append(FileStat(entry.path, stat.st_mtime_ns, stat.st_size))
        except OSError:
            continue
    return folders


def find_record_files(data_dir: Path) -> list[Path]:
    """Every record file under a directory, in a stable order."""
    return [Path(file.path) for file in scan_record_files(data_dir)]
