"""Baking and unbaking Open Badges into PNG and SVG images (OB 2.0 and OB 3.0).

CONTRACT (owned by the baking helper; the rest of the core codes against it):

- `unbake(data: bytes) -> str | None`: the embedded payload exactly as baked, or None when the
  image (a real PNG or SVG) carries no badge. Raises BadgeInputError(code) when `data` is not a
  PNG or SVG (`not_an_image`, with params {"format": "gif"|"jpeg"|"webp"|"pdf"|"html"|"unknown"}),
  is truncated/corrupt (`corrupt_image`), carries two chunks/elements with the same badge keyword
  (`ambiguous_badge`), is too large (`too_large`), has an unsafe XML construct (`unsafe_svg`), or
  the payload is not UTF-8 (`bad_encoding`).
- `unbake_details(data: bytes) -> Baked | None`: same, with the format ("png"|"svg"), keyword
  ("openbadges"|"openbadgecredential"), and for SVG the `verify` attribute separately.
- `bake(image: bytes, payload: str) -> bytes`: OB3 keyword when the payload is an OB 3.0
  credential (JSON whose @context/type says so, or a JWS whose payload has `vc` or an OB3 type),
  otherwise OB2. Re-baking replaces, never duplicates.
- `sniff_format(data: bytes) -> str`: "png" | "svg" | "gif" | "jpeg" | "webp" | "pdf" | "html" |
  "json" | "unknown".
"""
