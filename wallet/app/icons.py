"""The installed app's icons, drawn with Pillow in the Region's colour (pure: no Flask).

    icon_png(size, maskable, colour, ink) -> PNG bytes

A white medal with a ribbon and a star, the app's sign for "my badges". The maskable icon fills
its square with the colour and keeps the medal inside the central 80 % circle that launchers may
cut to any shape (W3C Web App Manifest, "maskable" purpose); the plain one is a rounded square on
transparency. Drawn at four times the size then scaled down, for smooth edges.
"""

from __future__ import annotations

import functools
import io
import math

from PIL import Image, ImageDraw

SIZES = (192, 512)
SUPERSAMPLE = 4


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _star(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.45
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


@functools.lru_cache(maxsize=16)
def icon_png(size: int, maskable: bool, colour: str, ink: str) -> bytes:
    if size not in SIZES:
        raise ValueError(f"icon size {size} not in {SIZES}")
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    background, white = _rgb(colour) + (255,), _rgb(ink) + (255,)
    if maskable:
        draw.rectangle((0, 0, big, big), fill=background)
        scale = 0.62  # the medal stays well inside the 80 % safe circle
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.2, fill=background)
        scale = 0.78
    unit = big * scale
    cx, cy = big / 2, big / 2 - unit * 0.1
    r = unit * 0.34
    # ribbon tails under the medal
    for side in (-1, 1):
        x0 = cx + side * r * 0.25
        draw.polygon([(x0, cy), (x0 + side * r * 0.75, cy + r * 1.55), (x0 + side * r * 0.3, cy + r * 1.35),
                      (x0 + side * r * 0.05, cy + r * 1.75), (x0 - side * r * 0.45, cy + r * 0.2)], fill=white)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=white)
    inner = r * 0.8
    draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=background)
    draw.polygon(_star(cx, cy + r * 0.03, inner * 0.78), fill=white)
    out = io.BytesIO()
    small = image.resize((size, size), Image.Resampling.LANCZOS)
    # Two colours and their blends: a 32-colour palette keeps the edges smooth at a third the bytes.
    small.quantize(colors=32, method=Image.Quantize.FASTOCTREE).save(out, format="PNG", optimize=True)
    return out.getvalue()
