"""Pictures of a share: its QR code (the owner's page, the printed employer page) and the preview
card social networks and messaging apps show for a link."""

from __future__ import annotations

import base64
import functools
import io
from pathlib import Path

from ..models import Badge
from .public_shares import public_image


@functools.lru_cache(maxsize=1024)
def qr_svg_data_uri(url: str) -> str:
    """A QR code of `url` as an SVG data URI (server-rendered, no script, about 3 KB): the owner's
    page and the printed employer page carry it inline, so printing needs no request. Kept per
    address (a link's code never changes): choosing the best mask is most of the cost."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def qr_png(url: str) -> bytes:
    """A QR code of `url` as a PNG (to download and print)."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=10, border=2)
    return out.getvalue()


# ------------------------------------------------------------------------------- preview (OG card)

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")


def _font(size: int, bold: bool = False):
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in _FONT_DIRS:
        path = Path(folder) / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _wrap(draw, text: str, font, width: int, max_lines: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        if len(lines) == max_lines:
            break
    if line and len(lines) < max_lines:
        lines.append(line)
    if len(lines) == max_lines and " ".join(lines) != " ".join(words):
        lines[-1] = lines[-1].rstrip(".,;: ") + "…"
    return lines


@functools.lru_cache(maxsize=64)
def _preview(image: bytes | None, image_type: str | None, name: str, issuer: str, status_text: str,
             ok: bool) -> bytes:
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (1200, 630), (246, 246, 248))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, 1200, 24), fill=(11, 79, 138))
    badge = None
    if image is not None and image_type == "image/png":
        try:
            with Image.open(io.BytesIO(image), formats=["PNG"]) as opened:
                badge = opened.convert("RGBA")
                badge.thumbnail((380, 380))
        except (OSError, ValueError):
            badge = None
    if badge is not None:
        canvas.paste(badge, (60 + (380 - badge.width) // 2, 125 + (380 - badge.height) // 2), badge)
    else:
        draw.ellipse((90, 155, 410, 475), fill=(11, 79, 138))
    colour = (21, 87, 36) if ok else (110, 110, 120)
    y = 130
    for line in _wrap(draw, name, _font(54, bold=True), 680, 3):
        draw.text((480, y), line, font=_font(54, bold=True), fill=(27, 27, 31))
        y += 66
    y += 14
    for line in _wrap(draw, issuer, _font(36), 680, 2):
        draw.text((480, y), line, font=_font(36), fill=(74, 74, 85))
        y += 46
    y += 24
    for line in _wrap(draw, status_text, _font(36, bold=True), 680, 2):
        draw.text((480, y), line, font=_font(36, bold=True), fill=colour)
        y += 46
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def preview_png(badge: Badge, issuer_line: str, status_text: str) -> bytes:
    """A 1200×630 PNG card (badge image, name, issuer, status) for OpenGraph/Twitter previews."""
    shown = public_image(badge)
    image, image_type = shown if shown else (None, None)
    return _preview(image, image_type, badge.name or "Badge", issuer_line, status_text,
                    badge.status == "valid")
