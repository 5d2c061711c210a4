"""Page-number style pagination with a bounded page size, shared by the list endpoints."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from ninja import Field, Schema
from ninja.pagination import PaginationBase

MAX_LIMIT = 500


class Page(PaginationBase):
    class Input(Schema):
        limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Items per page.")
        offset: int = Field(0, ge=0, le=10_000_000, description="Items to skip.")

    class Output(Schema):
        count: int
        limit: int
        offset: int
        items: list[Any]

    def paginate_queryset(self, queryset: QuerySet, pagination: Input, **params: Any) -> Any:
        return {
            "count": queryset.count() if isinstance(queryset, QuerySet) else len(queryset),
            "limit": pagination.limit,
            "offset": pagination.offset,
            "items": list(queryset[pagination.offset : pagination.offset + pagination.limit]),
        }
