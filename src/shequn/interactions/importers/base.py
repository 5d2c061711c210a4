"""What a source format provides to the pipeline."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from shequn.interactions.importers.records import ImportFormatError, Record


class CountingReader(io.RawIOBase):
    """Wraps a binary file and counts the bytes the parser has consumed, for the progress bar."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()


class Source(ABC):
    """A parser for one source format, reading a file or folder as a stream of records.

    Subclasses implement ``records()``; they raise ``ImportFormatError`` naming the file, the
    record and the problem, and count what the source holds in ``counts`` so the summary can be
    reconciled with the platform's own numbers.
    """

    format_name: str = ""
    label: str | Promise = ""  # a gettext_lazy name shown to people
    # Keyword options this format takes beyond ``channel`` (e.g. a time zone for local times).
    OPTIONS: tuple[str, ...] = ()

    def __init__(self, path: Path | str, *, channel: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise ImportFormatError(self.path, "", _("no such file or folder"))
        self.channel_override = channel
        self.counts: Counter[str] = Counter()
        self._readers: list[CountingReader] = []
        self._done_before = 0

    def zone_option(self, value: str | dt.tzinfo | None, default: str) -> dt.tzinfo:
        """The ``time_zone`` option of formats that write local clock times without an offset."""
        if isinstance(value, dt.tzinfo):
            return value
        name = value or default
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ImportFormatError(
                self.path,
                "",
                _("unknown time zone %(zone)s (use an IANA name such as %(example)s)")
                % {"zone": repr(name), "example": "Asia/Shanghai"},
            ) from None

    @cached_property
    def total_bytes(self) -> int:
        if self.path.is_dir():
            return sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())
        return self.path.stat().st_size

    def open_counted(self, path: Path) -> io.BufferedReader:
        """Open a file of this source so that its reading shows in ``progress()``.

        Buffered: line iteration on the raw counter would read one byte per call.
        """
        if self._readers:
            self._done_before += self._readers[-1].count
        reader = CountingReader(path.open("rb", buffering=0))
        self._readers.append(reader)
        return io.BufferedReader(reader, buffer_size=1 << 16)

    def progress(self) -> tuple[int, int]:
        current = self._readers[-1].count if self._readers else 0
        return self._done_before + current, self.total_bytes

    @abstractmethod
    def records(self) -> Iterator[Record]:
        """Yield ChannelRecord, MemberRecord and EventRecord objects in source order."""

    @classmethod
    def sniff(cls, path: Path) -> bool:
        """True when ``path`` looks like this format (for auto-detection)."""
        return False
