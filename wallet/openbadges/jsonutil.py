"""Defensive JSON parsing for untrusted badge data.

CONTRACT:
- `MAX_JSON_BYTES = 256 * 1024`
- `loads_strict(text: str | bytes, max_bytes: int = MAX_JSON_BYTES) -> object`: refuses input
  over the cap (`too_large`), invalid JSON (`not_json`), duplicate keys (`duplicate_keys`), nesting
  deeper than 64 (`too_deep`) and non-finite numbers; raises BadgeInputError with those codes.
  Never RecursionError.
"""
