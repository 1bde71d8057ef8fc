"""The offline commands of the `wallet` console script: `verify`, `unbake`, `bake` (DESIGN.md §4).

They need no app, secret, database or configuration, and never import Flask. `run(argv)` gets
the arguments INCLUDING the command name (`["verify", "badge.png", "--json"]`) and returns the
exit code: verify → 0 valid, 1 any other verdict, 2 unreadable input or not a badge.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

URL_PREFIXES = ("http://", "https://")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wallet", description="Open Badges: verify, unbake, bake.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify a badge (file or http(s) URL)")
    verify.add_argument("source", help="a baked PNG/SVG, JSON or JWS file, or an http(s) URL")
    verify.add_argument("--recipient", action="append", default=[], metavar="EMAIL",
                        help="an address the badge should be awarded to (repeatable)")
    verify.add_argument("--json", action="store_true", help="print the Verdict JSON")
    verify.add_argument("--lang", choices=("fr", "en"), default="fr")
    unbake = commands.add_parser("unbake", help="print the payload baked into an image")
    unbake.add_argument("file")
    bake = commands.add_parser("bake", help="bake a payload into a PNG or SVG image")
    bake.add_argument("image")
    bake.add_argument("payload_file")
    bake.add_argument("-o", "--output", required=True)
    return parser


def run(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: usage error (2) or --help (0)
        return int(exc.code or 0)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "verify": _verify, "unbake": _unbake, "bake": _bake}
    return handlers[args.command](args)


def _fail(code: str, lang: str = "fr", as_json: bool = False) -> int:
    from wallet.openbadges.messages import render_error

    message = render_error(code, lang)
    print(f"wallet: {message} ({code})", file=sys.stderr)
    if as_json:
        print(json.dumps({"status": "error", "error": code, "message": message}, ensure_ascii=False))
    return 2


class LazyNetworkFetch:
    """A fetcher (`(url, accept) -> Fetched`) that builds SafeHttp on its first call only.

    Verifying an offline badge (OB 3.0 with a did:key issuer, say) never fetches anything, so it
    never imports wallet.http, requests or urllib3 (about 70 ms of a cold start).
    """

    def __init__(self, allow: list[str], ca_bundle: str | None) -> None:
        self.allow = allow
        self.ca_bundle = ca_bundle
        self._fetch: Callable[[str, str], Any] | None = None

    def __call__(self, url: str, accept: str) -> Any:
        if self._fetch is None:
            from wallet.http import SafeHttp

            self._fetch = SafeHttp(allow=self.allow, ca_bundle=self.ca_bundle).fetch
        return self._fetch(url, accept)


def network_fetcher() -> LazyNetworkFetch:
    """SafeHttp.fetch, allow list from WALLET_FETCH_ALLOW and CA from WALLET_CA_BUNDLE (read now);
    SafeHttp itself is built on the first fetch."""
    allow = [item.strip() for item in os.environ.get("WALLET_FETCH_ALLOW", "").split(",") if item.strip()]
    return LazyNetworkFetch(allow, os.environ.get("WALLET_CA_BUNDLE") or None)


def _verify(args: argparse.Namespace) -> int:
    from wallet.openbadges import BadgeInputError, verify
    from wallet.openbadges.messages import render_status

    source: bytes | str
    if args.source.startswith(URL_PREFIXES):
        source = args.source
    else:
        try:
            source = Path(args.source).read_bytes()
        except OSError:
            return _fail("unreadable", args.lang, args.json)
    try:
        verdict = verify(source, fetch=network_fetcher(), recipients=tuple(args.recipient))
    except BadgeInputError as exc:
        return _fail(exc.code, args.lang, args.json)
    data = verdict.to_dict(lang=args.lang)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(render_status(data["status"], args.lang))
        badge, issuer = data["badge"], data["issuer"]
        if badge["name"]:
            print(f"  {badge['name']} — {issuer['name'] or issuer['id'] or '?'}")
        for check in data["checks"]:
            mark = "✓" if check["ok"] else ("✗" if check["level"] == "error" else "!")
            print(f"  {mark} {check['message']}")
    return 0 if verdict.valid else 1


def _unbake(args: argparse.Namespace) -> int:
    from wallet.openbadges import BadgeInputError, unbake

    try:
        payload = unbake(Path(args.file).read_bytes())
    except OSError:
        return _fail("unreadable")
    except BadgeInputError as exc:
        return _fail(exc.code)
    if payload is None:
        return _fail("no_badge")
    sys.stdout.write(payload)
    sys.stdout.flush()
    return 0


def _bake(args: argparse.Namespace) -> int:
    from wallet.openbadges import BadgeInputError, bake

    try:
        image = Path(args.image).read_bytes()
        payload = Path(args.payload_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return _fail("unreadable")
    try:
        baked = bake(image, payload)
    except BadgeInputError as exc:
        return _fail(exc.code)
    try:
        Path(args.output).write_bytes(baked)
    except OSError as exc:
        print(f"wallet: {exc}", file=sys.stderr)
        return 2
    return 0
