"""Check-in QR codes, drawn locally with ``segno`` (no web service sees the codes)."""

from __future__ import annotations

import io

import segno

from shequn.activities.models import Registration


def checkin_payload(registration: Registration, *, url: str | None = None) -> str:
    """What the QR code holds: the check-in URL when the caller gives one (the web app knows
    its routes), else the bare check-in code, which the check-in page also accepts typed."""
    return url or registration.code


def _qr(payload: str) -> segno.QRCode:
    return segno.make(payload, error="m", micro=False)


def qr_svg(registration: Registration, *, url: str | None = None, scale: int = 4) -> str:
    """An inline SVG (no XML declaration) to put into a page or an e-mail."""
    return _qr(checkin_payload(registration, url=url)).svg_inline(scale=scale)


def qr_png(registration: Registration, *, url: str | None = None, scale: int = 8) -> bytes:
    """A PNG, e.g. for a download or an attachment."""
    out = io.BytesIO()
    _qr(checkin_payload(registration, url=url)).save(out, kind="png", scale=scale)
    return out.getvalue()
