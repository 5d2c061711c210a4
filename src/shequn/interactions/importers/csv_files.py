"""Reading a small CSV file that people export from a spreadsheet or an event platform
(attendance lists, order files): the bytes from a path or an upload, decoded as UTF-8 with the
first undecodable line named."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from django.utils.translation import gettext as _

from shequn.interactions.importers.records import ImportFormatError


def line_label(number: int) -> str:
    return _("line %(number)d") % {"number": number}


def read_bytes(
    source: Path | str | IO[bytes], name: str | None, default_name: str
) -> tuple[bytes, str]:
    """The file's bytes and the name errors call it by (``name``, the path, the upload's name,
    else ``default_name``)."""
    if isinstance(source, str | Path):
        path = Path(source)
        label = name or str(path)
        try:
            return path.read_bytes(), label
        except OSError:
            raise ImportFormatError(label, "", _("no such file or folder")) from None
    label = name or Path(str(getattr(source, "name", "") or default_name)).name
    data = source.read()
    return (data.encode("utf-8") if isinstance(data, str) else bytes(data)), label


def decode_utf8(data: bytes, label: str) -> str:
    """The text (a byte-order mark dropped); not UTF-8: an error naming the first bad line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise ImportFormatError(
                label,
                line_label(number),
                _("not valid UTF-8; save the file as UTF-8 (in Excel: '%(excel)s')")
                % {"excel": "CSV UTF-8"},
            ) from None
    raise ImportFormatError(label, "", _("not valid UTF-8"))
