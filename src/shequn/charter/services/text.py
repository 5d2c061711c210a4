"""The charter's text: publishing versions and recording who accepted them (one by one, or a
CSV file of acknowledgements, all or nothing)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from shequn.audit import services as audit
from shequn.charter.models import Acknowledgement, CharterVersion, Via
from shequn.charter.services.common import user_of
from shequn.charter.validation import CharterError, clean_text
from shequn.communities.models import Community
from shequn.members.models import Identity, Member

# A file of acknowledgements: the member column is required, the others optional.
MEMBER_COLUMNS = ("member", "member_id", "member_key", "name")
TIME_COLUMNS = ("acknowledged_at", "date", "time")
VIA_COLUMNS = ("via",)
MAX_ROWS = 100_000
# An acknowledgement may be dated at most this far ahead (clocks and time zones differ).
FUTURE_SLACK = dt.timedelta(days=1)


@dataclass
class AcknowledgementImport:
    """What a file of acknowledgements did: rows read, acknowledgements added, rows skipped
    because the member had already acknowledged that version."""

    version: int
    rows: int = 0
    created: int = 0
    already: int = 0


def _current(community: Community) -> CharterVersion | None:
    return CharterVersion.objects.filter(community=community).order_by("-number").first()


@transaction.atomic
def do_publish_charter(
    community: Community, text: str, actor: Any, *, note: str = ""
) -> CharterVersion:
    """Publish a new version of the charter (its number is one more than the last). Members
    acknowledge each version anew; earlier versions and their acknowledgements are kept."""
    body = clean_text(text)
    summary = clean_text(note, "note", required=False)
    current = _current(community)
    if current is not None and current.text == body:
        raise CharterError(
            _("is the same as version %(n)d: nothing to publish") % {"n": current.number}, "text"
        )
    top = CharterVersion.objects.filter(community=community).aggregate(top=Max("number"))["top"]
    try:
        with transaction.atomic():
            version = CharterVersion.objects.create(
                community=community,
                number=(top or 0) + 1,
                text=body,
                note=summary,
                published_by=user_of(actor),
            )
    except IntegrityError:
        raise CharterError(
            _("another version was published at the same moment; try again")
        ) from None
    audit.record(
        "charter.publish",
        community=community,
        actor=actor,
        target=version,
        details={"version": version.number, "characters": len(body), "note": summary},
    )
    return version


def _version(community: Community, version: CharterVersion | int | None) -> CharterVersion:
    if version is None:
        found = _current(community)
        if found is None:
            raise CharterError(_("the charter has no text yet: publish one first"), "version")
        return found
    if isinstance(version, CharterVersion):
        if version.community_id != community.pk:
            raise CharterError(_("belongs to another community"), "version")
        return version
    found = CharterVersion.objects.filter(community=community, number=version).first()
    if found is None:
        raise CharterError(_("no version %(n)s of this charter") % {"n": version}, "version")
    return found


def _via(via: Any) -> str:
    if via in (None, ""):
        return Via.OPERATOR.value
    if via not in Via.values:
        raise CharterError(
            _("must be one of %(choices)s, found %(value)r")
            % {"choices": ", ".join(Via.values), "value": via},
            "via",
        )
    return via


def _moment(value: Any, community: Community) -> dt.datetime:
    """An acknowledgement's time: now, an aware datetime, or an ISO date/time (local to the
    community when it has no offset)."""
    now = timezone.now()
    if value in (None, ""):
        return now
    if isinstance(value, str):
        text = value.strip()
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        value = parsed
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if not isinstance(value, dt.datetime):
        raise ValueError(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=community.zoneinfo)
    if value > now + FUTURE_SLACK:
        raise ValueError(value)
    return value


@transaction.atomic
def do_acknowledge(
    member: Member,
    version: CharterVersion | int | None = None,
    via: str = Via.OPERATOR,
    actor: Any = None,
    *,
    at: Any = None,
) -> Acknowledgement:
    """Record that ``member`` accepted a version of the charter (the current one by default)."""
    community = member.community
    found = _version(community, version)
    how = _via(via)
    try:
        moment = _moment(at, community)
    except (ValueError, TypeError):
        raise CharterError(
            _("must be a date or time like 2024-05-01 or 2024-05-01T20:30, not in the future"),
            "acknowledged_at",
        ) from None
    existing = Acknowledgement.objects.filter(version=found, member=member).first()
    if existing is not None:
        raise CharterError(
            _("%(member)s already acknowledged version %(n)d on %(day)s")
            % {
                "member": member.display_name,
                "n": found.number,
                "day": f"{existing.acknowledged_at.astimezone(community.zoneinfo):%Y-%m-%d}",
            },
            "member",
        )
    acknowledgement = Acknowledgement.objects.create(
        version=found, member=member, via=how, acknowledged_at=moment, recorded_by=user_of(actor)
    )
    audit.record(
        "charter.acknowledge",
        community=community,
        actor=actor,
        target=acknowledgement,
        details={
            "version": found.number,
            "member": {"id": member.pk, "display_name": member.display_name},
            "via": how,
            "at": moment.isoformat(),
        },
    )
    return acknowledgement


class _Members:
    """Who a file's member column means: an id, a member key (any case), an exact display name,
    handle or platform user id — read once for the whole community, not once per row."""

    def __init__(self, community: Community) -> None:
        self.ids: set[int] = set()
        self.by_key: dict[str, int] = {}
        self.by_name: dict[str, set[int]] = {}
        for pk, key, name in Member.objects.filter(community=community).values_list(
            "pk", "key", "display_name"
        ):
            self.ids.add(pk)
            if key:
                self.by_key.setdefault(key.lower(), pk)
            self.by_name.setdefault(name, set()).add(pk)
        for member_id, handle, user_id in Identity.objects.filter(
            member__community=community
        ).values_list("member_id", "handle", "platform_user_id"):
            for text in (handle, user_id):
                if text:
                    self.by_name.setdefault(text, set()).add(member_id)

    def find(self, text: str) -> int:
        value = text.strip()
        if value.isdigit() and int(value) in self.ids:
            return int(value)
        if value.lower() in self.by_key:
            return self.by_key[value.lower()]
        found = self.by_name.get(value, set())
        if len(found) == 1:
            return next(iter(found))
        if found:
            raise ValueError(
                _("'%(member)s' matches several members; use their ids") % {"member": value}
            )
        raise ValueError(_("no member '%(member)s' in this community") % {"member": value})


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def _rows(reader: Any, source: str) -> Any:
    """(line, row) of a CSV reader; a malformed row is a CharterError naming its line."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CharterError(
                _("%(file)s, line %(line)d: %(problem)s")
                % {"file": source, "line": reader.line_num, "problem": exc},
                "file",
            ) from None
        yield reader.line_num, row


def _row(
    members: _Members, community: Community, member: str, via: str, at: str
) -> tuple[int, str, dt.datetime]:
    """One row of an acknowledgements file: (member id, via, time); CharterError if bad."""
    try:
        member_id = members.find(member)
    except ValueError as exc:
        raise CharterError(str(exc), "member") from None
    how = _via(via or Via.IMPORT.value)
    try:
        moment = _moment(at, community)
    except (ValueError, TypeError):
        raise CharterError(
            _("acknowledged_at must be a date or time like 2024-05-01, not in the future"),
            "acknowledged_at",
        ) from None
    return member_id, how, moment


@transaction.atomic
def do_import_acknowledgements(
    community: Community,
    content: str,
    *,
    version: CharterVersion | int | None = None,
    actor: Any = None,
    source: str = "acknowledgements.csv",
) -> AcknowledgementImport:
    """Import a CSV file of acknowledgements of one version (the current one by default):
    a header row with ``member`` (id, key, name, handle or platform user id) and optionally
    ``acknowledged_at`` and ``via``. All or nothing: the first bad row is named and nothing is
    recorded; members who already acknowledged the version are counted and skipped."""
    found = _version(community, version)
    result = AcknowledgementImport(version=found.number)
    if "\x00" in content:
        raise CharterError(
            _("%(file)s is not a text file (it holds NUL characters)") % {"file": source}, "file"
        )
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise CharterError(_("%(file)s is empty") % {"file": source}, "file") from None
    except csv.Error as exc:
        raise CharterError(
            _("%(file)s, line 1: %(problem)s") % {"file": source, "problem": exc}, "file"
        ) from None
    member_at = _column(header, MEMBER_COLUMNS)
    if member_at is None:
        raise CharterError(
            _("%(file)s, line 1: no member column (one of %(names)s)")
            % {"file": source, "names": ", ".join(MEMBER_COLUMNS)},
            "file",
        )
    time_at, via_at = _column(header, TIME_COLUMNS), _column(header, VIA_COLUMNS)
    members = _Members(community)
    wanted: dict[int, Acknowledgement] = {}
    for line, row in _rows(reader, source):
        if not any(cell.strip() for cell in row):
            continue
        result.rows += 1
        if result.rows > MAX_ROWS:
            raise CharterError(
                _("%(file)s has more than %(n)d rows") % {"file": source, "n": MAX_ROWS}, "file"
            )

        def cell(at: int | None, row: list[str] = row) -> str:
            return row[at].strip() if at is not None and at < len(row) else ""

        try:
            member_id, how, moment = _row(
                members, community, cell(member_at), cell(via_at), cell(time_at)
            )
        except CharterError as exc:
            raise CharterError(
                _("%(file)s, line %(line)d: %(problem)s")
                % {"file": source, "line": line, "problem": exc.message},
                "file",
            ) from None
        wanted.setdefault(
            member_id,
            Acknowledgement(
                version=found,
                member_id=member_id,
                via=how,
                acknowledged_at=moment,
                recorded_by=user_of(actor),
            ),
        )
    existing = set(
        Acknowledgement.objects.filter(version=found, member_id__in=list(wanted)).values_list(
            "member_id", flat=True
        )
    )
    new = [ack for member_id, ack in wanted.items() if member_id not in existing]
    Acknowledgement.objects.bulk_create(new, batch_size=1000)
    result.created = len(new)
    result.already = result.rows - len(new)
    audit.record(
        "charter.acknowledgements_import",
        community=community,
        actor=actor,
        target=found,
        details={
            "version": found.number,
            "file": source,
            "rows": result.rows,
            "created": result.created,
            "already": result.already,
        },
    )
    return result
