"""Data files read defensively: never through a link, within size, depth, alias and key limits.

Anyone who can add a file to a data directory (a pull request, a shared folder) can make one
that is small but hostile: 30,000 nested brackets that overflow the C stack when composed, a
1 KB "billion laughs" of aliases that expands to gigabytes, a mapping of 200,000 keys, a link
to ``/etc/passwd``. Every limit here is checked *before* the file is read (size, links) or
*while* it is parsed (depth, aliases, keys: one pass over the parser's events, before any of
its values is built), and a file over one is refused with one :class:`FileRefused` saying why.
No validation and no Streamlit here: :mod:`aop_map.loading` and :mod:`aop_map.vocabulary` call it.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# The largest real record file is ~3 KB, a YAML list of a few hundred records a few hundred
# KB, the vocabulary ~16 KB: anything bigger is not a data file, and is refused unread.
MAX_FILE_BYTES = 1024 * 1024
# A spreadsheet of every provider is one file, and big ones are real: the benchmark's
# 100,000-row copy of its records is ~60 MB. Rows and columns are limited separately below.
MAX_CSV_BYTES = 64 * 1024 * 1024
# Rows (blank ones included, so a file of newlines stops early) and cells in one CSV row: the
# known headers with all their aliases are ~40 columns.
MAX_CSV_ROWS = 200_000
MAX_CSV_COLUMNS = 200
# Collections open at once. A record nests four deep (a list of records, a record, its
# locations, a location); 32 leaves room for hand-written files and stays far below any
# recursion limit of the C or Python composers, which crash on ~30,000.
MAX_DEPTH = 32
# Values (scalars and collections) in one YAML file, counting every use of an alias as a full
# copy of what it names, as validating it would: a 1 MiB file of real records holds ~40,000,
# a 1 KB "billion laughs" a billion.
MAX_VALUES = 250_000
# Keys in one mapping: a record has 23 fields and a vocabulary section a handful; each unknown
# key is a problem to report, so 200,000 of them would bury every other message.
MAX_KEYS = 1_000

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class FileRefused(ValueError):
    """A data file not read, or not used: a link, too big, too deep, an alias bomb, UTF-16...

    ``reason`` is a plain sentence for the problem list (it never quotes the file's content);
    ``line`` is where the parser was when a limit was passed, when there is one.
    """

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


@dataclass(frozen=True)
class RawRecord:
    """One record as parsed from a file, before validation."""

    data: Any
    line: int | None
    field_lines: dict[str, int]


def describe_size(size: int) -> str:
    """A byte count for people: '1 MiB', '2.3 MB', '812 bytes'."""
    if size < 1024:
        return f"{size} bytes"
    if size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size < 1024 * 1024:
        return f"{size / 1000:.0f} KB"
    return f"{size / 1_000_000:.1f} MB"


# ---------------------------------------------------------------------------------------------
# Bytes: regular files only, never through a link, never more than the limit


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)


def read_data_file(path: Path | str, limit: int | None = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (None: any size).

    Opened without following a link (``O_NOFOLLOW``) and without blocking (a named pipe would
    stall a read forever), then checked on the open file itself, so a file swapped for a link
    between a directory scan and this read is still refused. A file over the limit is refused
    unread. Raises :class:`FileRefused`, or ``OSError`` when the file cannot be opened.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.EMLINK) and os.path.islink(path):
            raise FileRefused(LINK_REASON) from None
        raise
    with open(fd, "rb", buffering=0) as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("skipped: not a regular file")
        if limit is not None and info.st_size > limit:
            raise FileRefused(_too_big(info.st_size, limit))
        # As many bytes as fstat said, and one more to see growth: a read of limit + 1 bytes
        # would allocate the whole limit (64 MiB for a CSV) for every file.
        data = handle.read(info.st_size + 1) or b""
        if len(data) > info.st_size:  # it grew since: read on, up to the limit
            data += handle.read(None if limit is None else limit + 1 - len(data)) or b""
    if limit is not None and len(data) > limit:
        raise FileRefused(_too_big(len(data), limit))
    return data


LINK_REASON = "skipped: a symbolic link (links are never followed; put the file itself here)"


def _too_big(size: int, limit: int) -> str:
    return (
        f"refused: the file is {describe_size(size)}, over the {describe_size(limit)} "
        "limit for a data file (split it into smaller files)"
    )


# (byte-order mark, encoding name): UTF-32 first, as its little-endian mark starts like UTF-16's.
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def decode_bytes(raw: bytes, name: str | None = None) -> str:
    """Text from UTF-8 (with or without BOM) or, failing that, Windows-1252 as Excel saves it.

    UTF-16 and UTF-32 (Excel's "Unicode text", Notepad's "Unicode") would decode as a string of
    NULs and give misleading messages, so they are refused with one that says what the file is
    (``name`` names it). So is any text with NUL bytes, which no data file has.
    """
    what = name or "the file"
    for bom, encoding in _WIDE_BOMS:
        if raw.startswith(bom):
            raise FileRefused(f"{what} is {encoding} text; save it as UTF-8")
    if b"\x00" in raw:
        raise FileRefused(
            f"{what} contains NUL bytes: it is binary, or UTF-16 without a "
            "byte-order mark; save it as UTF-8 text"
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


# ---------------------------------------------------------------------------------------------
# YAML: limits checked on the parser's events, values built in the same pass


def parse_yaml_text(text: str) -> list[RawRecord]:
    """Records from YAML text: one mapping, a list of them, or several documents.

    One pass over the parser's events checks every limit (depth, values counting alias
    expansions, keys per mapping) and builds plain strings, mappings and lists as it goes;
    other scalars (dates, numbers, booleans) are built by PyYAML's safe constructor. A file
    using rarer features (merge keys, explicit collection tags, complex keys) is checked in the
    same pass and then built by :func:`parse_yaml_plainly`. Raises :class:`FileRefused` over
    a limit and ``yaml.YAMLError`` for invalid YAML. Event marks give each record's line and
    each of its fields' lines for precise messages.
    """
    loader = _YamlLoader(text)
    try:
        records = _EventReader(loader).read()
    finally:
        loader.dispose()
    return parse_yaml_plainly(text) if records is None else records


def parse_yaml_plainly(text: str) -> list[RawRecord]:
    """The same records as :func:`parse_yaml_text`, built by PyYAML alone, for reference.

    PyYAML composes recursively and expands nothing lazily: call this only on text that
    :func:`parse_yaml_text` has checked (or trusted text), never on a file as it comes.
    """
    loader = _YamlLoader(text)
    out: list[RawRecord] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = _construct(loader, node)
            if isinstance(node, yaml.SequenceNode) and isinstance(data, list):
                out.extend(_raw(item, n) for item, n in zip(data, node.value, strict=True))
            else:
                out.append(_raw(data, node))
    finally:
        loader.dispose()
    return out


def read_yaml_file(path: Path | str) -> list[Any]:
    """The documents of a YAML file that is not a record file (the vocabulary), checked alike.

    Raises :class:`FileRefused`, ``OSError`` or ``yaml.YAMLError``.
    """
    path = Path(path)
    text = decode_bytes(read_data_file(path), path.name)
    loader = _YamlLoader(text)
    try:
        _EventReader(loader).read()  # the limits; the values are rebuilt plainly below
    finally:
        loader.dispose()
    return [raw.data for raw in _documents_plainly(text)]


def _documents_plainly(text: str) -> list[RawRecord]:
    loader = _YamlLoader(text)
    try:
        out = []
        while loader.check_node():
            node = loader.get_node()
            out.append(_raw(_construct(loader, node), node))
        return out
    finally:
        loader.dispose()


def _construct(loader: Any, node: yaml.Node) -> Any:
    try:
        return loader.construct_document(node)
    except yaml.YAMLError:
        raise
    except (ValueError, OverflowError) as error:  # a date such as 2024-13-45
        raise yaml.constructor.ConstructorError(
            None, None, f"a value that cannot be read ({error})", node.start_mark
        ) from None


def _raw(data: Any, node: yaml.Node) -> RawRecord:
    field_lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, _value in node.value:
            field_lines[str(key.value)] = key.start_mark.line + 1
    return RawRecord(data, node.start_mark.line + 1, field_lines)


class _Open:
    """A mapping or sequence whose events are still arriving."""

    __slots__ = (
        "value",
        "is_map",
        "key",
        "has_key",
        "keys",
        "line",
        "anchor",
        "start",
        "key_lines",
        "items",
    )

    def __init__(
        self,
        value: Any,
        line: int,
        anchor: str | None,
        start: int,
        key_lines: dict[str, int] | None,
        items: list[Any] | None,
    ) -> None:
        self.value = value
        self.is_map = isinstance(value, dict)
        self.key: Any = None
        self.has_key = False
        self.keys = 0
        self.line = line
        self.anchor = anchor
        self.start = start  # values counted before this one: its size is the count after - this
        self.key_lines = key_lines  # a record's field -> line
        self.items = items  # a top-level list's (line, field lines) per record


_ScalarEvent = yaml.ScalarEvent
_AliasEvent = yaml.AliasEvent
_MappingStart = yaml.MappingStartEvent
_SequenceStart = yaml.SequenceStartEvent
_CollectionEnds = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _EventReader:
    """One pass over a YAML stream's events: limits checked, records built (when plain).

    Iterative, with an explicit stack, so no nesting reaches a recursion limit; an alias adds
    the size of what it names to the count of values before anything is copied.
    """

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.building = True  # False once the file needs PyYAML's own construction
        self.count = 0
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.opening: set[str] = set()
        self.stack: list[_Open] = []
        self.out: list[RawRecord] = []
        # First characters that some implicit resolver (null, bool, int, float, date, merge...)
        # claims: a plain scalar starting otherwise, or any quoted one, is a string, so most
        # scalars skip PyYAML's resolver. None when a wildcard or path resolver is registered.
        resolvers = loader.yaml_implicit_resolvers
        self.claimed: frozenset[str] | None = (
            None if None in resolvers or loader.yaml_path_resolvers else frozenset(resolvers)
        )

    def read(self) -> list[RawRecord] | None:
        """Every record, or None when the checked text is to be built by PyYAML."""
        get_event = self.loader.get_event
        stack = self.stack
        claimed = self.claimed
        while True:
            event = get_event()
            kind = type(event)
            closed: _Open | None = None
            if kind is _ScalarEvent:  # the commonest event: strings take the short way
                value = event.value
                if (
                    event.tag is not None
                    or event.anchor is not None
                    or claimed is None
                    or (event.implicit[0] and value[:1] in claimed)
                ):
                    value = self._scalar(event)
                else:
                    self.count += 1
                    if self.count > MAX_VALUES:
                        self._count(0, event.start_mark.line)
                line = event.start_mark.line
            elif kind is _MappingStart or kind is _SequenceStart:
                self._open(event, kind is _MappingStart)
                continue
            elif kind in _CollectionEnds:
                closed = stack.pop()
                value, line = closed.value, closed.line
                if closed.anchor is not None:
                    self.opening.discard(closed.anchor)
                    self.anchors[closed.anchor] = (value, self.count - closed.start)
            elif kind is _AliasEvent:
                value = self._alias(event)
                line = event.start_mark.line
            elif kind is yaml.DocumentEndEvent:
                self.anchors.clear()  # anchors belong to one document
                continue
            elif kind is yaml.StreamEndEvent:
                return self.out if self.building else None
            else:  # stream and document starts
                continue
            if stack:
                parent = stack[-1]
                if parent.has_key and self.building:  # a mapping's value, the next commonest
                    parent.has_key = False
                    try:
                        parent.value[parent.key] = value
                    except TypeError:  # an unhashable key: PyYAML words the error
                        self.building = False
                else:
                    self._add(parent, value, line, closed, kind, event)
            elif self.building:
                self._add_document(value, line, closed)

    def _count(self, size: int, line: int) -> None:
        self.count += size
        if self.count > MAX_VALUES:
            raise FileRefused(
                f"refused: more than {MAX_VALUES:,} values once its aliases are "
                "expanded (an alias bomb?)",
                line + 1,
            )

    def _scalar(self, event: Any) -> Any:
        self._count(1, event.start_mark.line)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _STR_TAG:
            value: Any = event.value
        elif tag == _MERGE_TAG or not self.building:
            self.building = False
            value = None
        else:
            value = self._construct_scalar(tag, event)
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        return value

    def _construct_scalar(self, tag: str, event: Any) -> Any:
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.loader.construct_object(node)
        except yaml.YAMLError:
            raise
        except (ValueError, OverflowError) as error:  # a date such as 2024-13-45
            raise yaml.constructor.ConstructorError(
                None, None, f"a value that cannot be read ({error})", event.start_mark
            ) from None

    def _open(self, event: Any, is_map: bool) -> None:
        line = event.start_mark.line
        stack = self.stack
        if len(stack) >= MAX_DEPTH:
            raise FileRefused(f"refused: nested more than {MAX_DEPTH} levels deep", line + 1)
        start = self.count
        self._count(1, line)
        tag = event.tag
        if tag is not None and tag != "!" and tag != (_MAP_TAG if is_map else _SEQ_TAG):
            self.building = False  # !!set, !!omap, a custom tag: PyYAML decides
        # A record is the top-level mapping, or a mapping in the top-level list.
        record_level = not stack or (len(stack) == 1 and not stack[0].is_map)
        anchor = event.anchor
        if anchor is not None:
            self.opening.add(anchor)
        stack.append(
            _Open(
                {} if is_map else [],
                line,
                anchor,
                start,
                {} if is_map and record_level else None,
                [] if not is_map and not stack else None,
            )
        )

    def _alias(self, event: Any) -> Any:
        name = event.anchor
        line = event.start_mark.line
        if name in self.opening:
            raise FileRefused(
                f"refused: the alias *{name[:40]} is inside the value it names "
                "(a value that contains itself)",
                line + 1,
            )
        if name not in self.anchors:
            raise yaml.composer.ComposerError(
                None, None, f"found undefined alias {name[:40]!r}", event.start_mark
            )
        value, size = self.anchors[name]
        self._count(size, line)
        return value

    def _add(
        self, parent: _Open, value: Any, line: int, done: _Open | None, kind: type, event: Any
    ) -> None:
        if not parent.is_map:
            if self.building:
                parent.value.append(value)
            if parent.items is not None:
                parent.items.append((line, done.key_lines if done is not None else None))
            return
        if parent.has_key:
            parent.has_key = False
            if self.building:
                try:
                    parent.value[parent.key] = value
                except TypeError:  # an unhashable key: PyYAML words the error
                    self.building = False
            return
        parent.keys += 1
        if parent.keys > MAX_KEYS:
            raise FileRefused(
                f"refused: a mapping with more than {MAX_KEYS:,} keys", parent.line + 1
            )
        if kind is not _ScalarEvent:
            self.building = False  # a list, mapping or alias as a key: PyYAML decides
        elif parent.key_lines is not None:
            parent.key_lines[str(event.value)] = line + 1
        parent.key, parent.has_key = value, True

    def _add_document(self, value: Any, line: int, done: _Open | None) -> None:
        if done is not None and done.items is not None:
            self.out.extend(
                RawRecord(item, item_line + 1, fields or {})
                for item, (item_line, fields) in zip(value, done.items, strict=True)
            )
        else:
            fields = done.key_lines if done is not None else None
            self.out.append(RawRecord(value, line + 1, fields or {}))
