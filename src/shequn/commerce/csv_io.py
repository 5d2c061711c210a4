"""Reading an order file (CSV) into checked rows, before anything is looked up or written.

The file: UTF-8 (a BOM is fine), comma-separated, a header row. Column names are matched
case-insensitively; spaces and dashes read as underscores; common English and Chinese names
are understood (see ``ALIASES`` and docs/commerce.md). Required: ``order_id``, ``time``,
``offer`` and at least one column that says who bought (``member_id``, ``member_key``,
``account`` — with ``platform`` if useful — or ``name``). Optional: ``amount`` (without the
column: the offer's list price), ``currency`` (default: the offer's), ``source`` (the
acquisition channel), ``status`` (paid / refunded / partially refunded; orders never paid are
skipped), ``refund_amount``, ``refunded_at``, ``note``. Other columns are ignored and listed
in the result, so a misspelt column shows. Every problem names the file, the line and what is
wrong, and the first one stops the import.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, TypeVar

from django.utils.translation import gettext as _

from shequn.commerce.validation import parse_amount, parse_currency, parse_moment
from shequn.communities.models import Platform
from shequn.interactions.importers.csv_files import decode_utf8, line_label, read_bytes
from shequn.interactions.importers.records import ImportFormatError

ALIASES = {
    "order_id": "order_id",
    "order": "order_id",
    "order_no": "order_id",
    "order_number": "order_id",
    "订单号": "order_id",
    "订单编号": "order_id",
    "time": "time",
    "purchased_at": "time",
    "paid_at": "time",
    "date": "time",
    "order_time": "time",
    "时间": "time",
    "支付时间": "time",
    "付款时间": "time",
    "下单时间": "time",
    "购买时间": "time",
    "member_id": "member_id",
    "成员id": "member_id",
    "member_key": "member_key",
    "key": "member_key",
    "email": "member_key",
    "e_mail": "member_key",
    "邮箱": "member_key",
    "account": "account",
    "platform_account": "account",
    "platform_user_id": "account",
    "user_id": "account",
    "handle": "account",
    "账号": "account",
    "platform": "platform",
    "平台": "platform",
    "name": "name",
    "member": "name",
    "member_name": "name",
    "display_name": "name",
    "buyer": "name",
    "姓名": "name",
    "买家": "name",
    "成员": "name",
    "offer": "offer",
    "product": "offer",
    "item": "offer",
    "sku": "offer",
    "商品": "offer",
    "产品": "offer",
    "amount": "amount",
    "amount_paid": "amount",
    "paid": "amount",
    "金额": "amount",
    "实付金额": "amount",
    "支付金额": "amount",
    "currency": "currency",
    "币种": "currency",
    "货币": "currency",
    "source": "source",
    "channel": "source",
    "acquisition_channel": "source",
    "utm_source": "source",
    "来源": "source",
    "渠道": "source",
    "status": "status",
    "order_status": "status",
    "状态": "status",
    "订单状态": "status",
    "refund_amount": "refund_amount",
    "refunded_amount": "refund_amount",
    "退款金额": "refund_amount",
    "refunded_at": "refunded_at",
    "refund_time": "refunded_at",
    "退款时间": "refunded_at",
    "note": "note",
    "remark": "note",
    "备注": "note",
}
WHO = ("member_id", "member_key", "account", "name")
REQUIRED = ("order_id", "time", "offer")
COLUMNS = (*REQUIRED, *WHO, "platform", "amount", "currency", "source", "status")
COLUMNS += ("refund_amount", "refunded_at", "note")
# Order states as shops write them. Orders that were never paid are not purchases.
PAID = {"", "paid", "success", "succeeded", "completed", "complete", "已支付", "已付款", "已完成"}
PAID |= {"交易成功", "支付成功"}
REFUNDED = {"refunded", "refund", "已退款", "退款成功", "全额退款"}
PARTLY_REFUNDED = {"partially_refunded", "partially refunded", "partial refund", "部分退款"}
NOT_PAID = {"unpaid", "pending", "cancelled", "canceled", "closed", "failed", "未支付", "待支付"}
NOT_PAID |= {"待付款", "已取消", "已关闭", "交易关闭", "支付失败"}
LIMITS = {"order_id": 200, "source": 200, "note": 500, "offer": 200, "name": 255}
LIMITS |= {"member_key": 255, "account": 255, "member_id": 20, "platform": 32}
T = TypeVar("T")


@dataclass
class OrderRow:
    """One paid order of the file, checked; who and which offer are resolved later."""

    line: int
    order_id: str
    purchased_at: dt.datetime
    member_id: int | None
    member_key: str
    account: str
    platform: str
    name: str
    offer: str
    amount: Decimal | None  # None: the offer's list price
    currency: str  # "": the offer's currency
    source: str
    refund_amount: Decimal  # 0: not refunded; None never
    refund_in_full: bool  # refunded, amount to be known once the price is
    refunded_at: dt.datetime | None
    note: str


@dataclass
class ParsedOrders:
    name: str
    rows: list[OrderRow] = field(default_factory=list)
    not_paid: int = 0
    ignored: list[str] = field(default_factory=list)


def read_orders(
    source: Path | str | IO[bytes], zone: dt.tzinfo, *, name: str | None = None
) -> ParsedOrders:
    """Read and check a whole order file; raise ``ImportFormatError`` at its first problem.
    Times without an offset are clock times in ``zone``. Nothing is looked up yet."""
    data, label = read_bytes(source, name, "orders.csv")
    text = decode_utf8(data, label)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    parsed = ParsedOrders(name=label)
    columns: dict[str, int] | None = None
    seen: dict[str, int] = {}
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportFormatError(
                label,
                line_label(start),
                _("malformed CSV (%(error)s; is a double quote left open?)") % {"error": exc},
            ) from None
        line, start = start, reader.line_num + 1
        if columns is None:
            columns = _header(row, label, line, parsed)
            continue
        if not any(cell.strip() for cell in row):
            continue
        order = _row(row, columns, zone, label, line)
        if order is None:
            parsed.not_paid += 1
            continue
        if order.order_id in seen:
            raise ImportFormatError(
                label,
                line_label(line),
                _(
                    "order %(order)s is already on line %(first)d; give each item of an order "
                    "its own id (e.g. %(example)s)"
                )
                % {
                    "order": repr(order.order_id),
                    "first": seen[order.order_id],
                    "example": f"{order.order_id}-2",
                },
            )
        seen[order.order_id] = line
        parsed.rows.append(order)
    if columns is None:
        raise ImportFormatError(
            label,
            line_label(1),
            _("the file is empty; the first line must be the header (e.g. %(example)s)")
            % {"example": "order_id,time,member_key,offer,amount,currency,source"},
        )
    return parsed


def _header(row: list[str], label: str, line: int, parsed: ParsedOrders) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(row):
        key = raw.strip().lower().replace(" ", "_").replace("-", "_")
        column = ALIASES.get(key)
        if column is None:
            parsed.ignored.append(raw.strip())
        elif column in columns:
            raise ImportFormatError(
                label,
                line_label(line),
                _("column %(name)s appears twice (as %(first)s and %(second)s)")
                % {"name": repr(column), "first": repr(row[columns[column]]), "second": repr(raw)},
            )
        else:
            columns[column] = index
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        raise ImportFormatError(
            label,
            line_label(line),
            _("the header lacks the column(s) %(columns)s (it needs %(required)s)")
            % {"columns": ", ".join(missing), "required": ", ".join(REQUIRED)},
        )
    if not any(column in columns for column in WHO):
        raise ImportFormatError(
            label,
            line_label(line),
            _("the header needs a column that says who bought: %(columns)s")
            % {"columns": ", ".join(WHO)},
        )
    return columns


def _status(value: str, has_refund: bool, label: str, line: int) -> str | None:
    """'paid', 'refunded' (in full), 'partly', or None for an order never paid."""
    word = value.strip().lower()
    if word in NOT_PAID:
        return None
    if word in REFUNDED:
        return "refunded"
    if word in PARTLY_REFUNDED:
        if not has_refund:
            raise ImportFormatError(
                label,
                line_label(line),
                _("status %(value)s needs the amount refunded in %(column)s")
                % {"value": repr(value), "column": "refund_amount"},
            )
        return "partly"
    if word in PAID:
        return "paid"
    raise ImportFormatError(
        label,
        line_label(line),
        _("status %(value)s is not known (use paid, refunded, partially refunded or unpaid)")
        % {"value": repr(value)},
    )


def _row(
    row: list[str], columns: dict[str, int], zone: dt.tzinfo, label: str, line: int
) -> OrderRow | None:
    def cell(column: str) -> str:
        index = columns.get(column)
        return row[index].strip() if index is not None and index < len(row) else ""

    def problem(message: str) -> ImportFormatError:
        return ImportFormatError(label, line_label(line), message)

    values = {column: cell(column) for column in COLUMNS}
    for column, limit in LIMITS.items():
        if len(values[column]) > limit:
            raise problem(
                _("%(field)s is longer than %(limit)d characters")
                % {"field": column, "limit": limit}
            )
        if "\x00" in values[column]:
            raise problem(_("%(field)s contains a NUL character") % {"field": column})
    refund_text = values["refund_amount"]
    status = _status(values["status"], bool(refund_text), label, line)
    if status is None:
        return None
    for column in REQUIRED:
        if not values[column]:
            raise problem(_("%(field)s is empty") % {"field": column})
    if not any(values[column] for column in WHO):
        raise problem(_("says nobody: %(columns)s are all empty") % {"columns": ", ".join(WHO)})

    def attempt(column: str, parse: Callable[[str], T]) -> T:
        try:
            return parse(values[column])
        except ValueError as exc:
            raise problem(f"{column}: {exc}") from None

    member_id = None
    if values["member_id"]:
        if not values["member_id"].isdigit():
            raise problem(
                _("member_id %(value)s is not a member's id (a whole number)")
                % {"value": repr(values["member_id"])}
            )
        member_id = int(values["member_id"])
    platform = values["platform"].lower()
    if platform and platform not in Platform.values:
        raise problem(
            _("platform %(value)s is not known (use one of %(choices)s)")
            % {"value": repr(values["platform"]), "choices": ", ".join(Platform.values)}
        )
    amount = None
    if "amount" in columns:
        if not values["amount"]:
            raise problem(_("amount is empty (write 0 for a free order)"))
        amount = attempt("amount", parse_amount)
    currency = attempt("currency", parse_currency) if values["currency"] else ""
    refund = attempt("refund_amount", parse_amount) if refund_text else Decimal("0")
    if status == "paid" and refund:
        status = "partly"
    if amount is not None and refund > amount:
        raise problem(
            _("refund_amount %(refund)s is more than the amount paid %(amount)s")
            % {"refund": refund, "amount": amount}
        )
    refunded_at = None
    if values["refunded_at"]:
        refunded_at = attempt("refunded_at", lambda text: parse_moment(text, zone))
    if refunded_at is not None and not (refund or status == "refunded"):
        raise problem(_("refunded_at is given but the order is not refunded"))
    purchased_at = attempt("time", lambda text: parse_moment(text, zone))
    if refunded_at is not None and refunded_at < purchased_at:
        raise problem(_("refunded_at is before the order's time"))
    return OrderRow(
        line=line,
        order_id=values["order_id"],
        purchased_at=purchased_at,
        member_id=member_id,
        member_key=values["member_key"],
        account=values["account"],
        platform=platform,
        name=values["name"],
        offer=values["offer"],
        amount=amount,
        currency=currency,
        source=values["source"],
        refund_amount=refund,
        refund_in_full=status == "refunded" and not refund,
        refunded_at=refunded_at,
        note=values["note"],
    )
