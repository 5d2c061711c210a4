"""The business report as the page shows it: shares as percentages, one revenue cell per
currency in every row, chart rows per currency (the verdicts come from ``commerce.texts``)."""

from __future__ import annotations

from typing import Any

from shequn.commerce.texts import percent, verdicts

__all__ = ["charts", "offer_table", "percent", "table", "verdicts"]


def _cells(row: dict[str, Any], currencies: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "amount": row["revenue"].get(currency),
            "share": percent(row["share"].get(currency)) if currency in row["revenue"] else "",
        }
        for currency in currencies
    ]


def table(rows: list[dict[str, Any]], currencies: list[str]) -> list[dict[str, Any]]:
    return [{**row, "cells": _cells(row, currencies)} for row in rows]


def offer_table(rows: list[dict[str, Any]], currencies: list[str]) -> list[dict[str, Any]]:
    result = []
    for row in table(rows, currencies):
        renewal = row["renewal"]
        result.append(
            {
                **row,
                "repurchase": percent(row["repurchase_rate"]),
                "renewal_rate": percent(renewal["rate"]) if renewal else "",
            }
        )
    return result


def charts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per currency, the rows of the revenue chart (``commerce/revenue.js``)."""
    return [
        {
            "currency": currency,
            "element": f"commerce-chart-{currency}",
            "data_id": f"commerce-chart-{currency}-data",
            "rows": [
                {
                    "month": month["month"].strftime("%Y-%m"),
                    "revenue": str(month["currencies"][currency]["revenue"]),
                    "costs": str(month["currencies"][currency]["costs"]),
                    "balance": str(month["currencies"][currency]["balance"]),
                }
                for month in report["months"]
            ],
        }
        for currency in report["currencies"]
    ]
