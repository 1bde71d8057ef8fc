"""The offline commands `wallet eligibility` and `wallet referential check` (DESIGN.md §4).

    wallet referential check FILE [--base-url URL]
        exit 0 and an "OK" summary, or exit 1 and one line per problem: FILE:LINE: path: message
    wallet eligibility SOURCE... --recipient EMAIL [--referential FILE] [--json] [--base-url URL]
                                 [--lang fr|en]
        verifies each SOURCE (file or http(s) URL) with the Open Badges core, then evaluates the
        referential; exit 0, or 2 for a bad referential or an unreadable input.

`run(argv)` gets the arguments INCLUDING the command name. No Flask, no app, no database: the
network fetcher (SafeHttp, allow list from WALLET_FETCH_ALLOW) is built by `wallet.cli.offline`,
imported only when verifying. This module is shell code: it lives beside the pure
`wallet/eligibility/` package, which never imports the network client.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..eligibility.problems import ReferentialError
from ..eligibility.referential import (
    DEFAULT_BASE_URL,
    check_referential,
    default_referential_path,
    load_referential,
)
from ..eligibility.rules import Eligibility, evaluate

URL_PREFIXES = ("http://", "https://")

STATE_LABELS = {
    "obtained": ("obtenu", "obtained"),
    "eligible": ("éligible : vous pouvez le demander", "eligible: you can claim it"),
    "in_progress": ("en cours", "in progress"),
    "not_started": ("pas encore commencé", "not started yet"),
}
STATE_MARKS = {"obtained": "✔", "eligible": "★", "in_progress": "◐", "not_started": "○"}
REASON_LABELS = {
    "not_valid": ("badge non valide", "badge not valid"),
    "expired": ("badge expiré", "badge expired"),
    "revoked": ("badge révoqué", "badge revoked"),
    "not_a_partner": ("émetteur non reconnu par la Région", "issuer not recognised by the Region"),
    "not_aligned": ("ne correspond pas à cette compétence ou à ce niveau",
                    "does not match this skill or level"),
    "not_matched": ("n'est pas attribué à votre adresse", "not awarded to your address"),
    "duplicate": ("déjà compté (même badge)", "already counted (same badge)"),
}


def _t(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def run(argv: list[str]) -> int:
    args = list(argv)
    if not args:
        print("usage: wallet eligibility … | wallet referential check FILE", file=sys.stderr)
        return 2
    if args[0] == "referential":
        return _referential(args[1:])
    return _eligibility(args[1:])


def _base_url(given: str | None) -> str:
    return given or os.environ.get("WALLET_BASE_URL") or DEFAULT_BASE_URL


# --- wallet referential check ------------------------------------------------------------------------

def _referential(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="wallet referential", description="Regional referential.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate a referential file")
    check.add_argument("file")
    check.add_argument("--base-url", default=None)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    path = Path(args.file)
    problems = check_referential(path, base_url=_base_url(args.base_url))
    if problems:
        for problem in problems:
            print(problem.format(args.file))
        print(f"{len(problems)} problème(s) / problem(s)", file=sys.stderr)
        return 1
    ref = load_referential(path, base_url=_base_url(args.base_url))
    demo = sum(1 for p in ref.partners if p.demo)
    print(f"OK : {args.file} — {ref.id} {ref.version} : {len(ref.badges)} badges régionaux, "
          f"{len(ref.skills)} compétences, {len(ref.partners)} partenaires (dont {demo} de démonstration)")
    print(f"OK: {len(ref.badges)} regional badges, {len(ref.skills)} skills, "
          f"{len(ref.partners)} partners ({demo} demo)")
    return 0


# --- wallet eligibility ------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wallet eligibility",
                                     description="Verify badges and evaluate the regional referential.")
    parser.add_argument("sources", nargs="+", metavar="SOURCE",
                        help="a baked PNG/SVG, JSON or JWS file, or an http(s) URL")
    parser.add_argument("--recipient", action="append", required=True, metavar="EMAIL",
                        help="the learner's address (repeatable)")
    parser.add_argument("--referential", default=None, metavar="FILE",
                        help="a referential file (default: the packaged Normandy one)")
    parser.add_argument("--json", action="store_true", help="print the JSON list (DESIGN.md §4)")
    parser.add_argument("--base-url", default=None, help="the wallet's base URL (WALLET_BASE_URL)")
    parser.add_argument("--lang", choices=("fr", "en"), default="fr")
    return parser


def _fetcher() -> Any:
    """SafeHttp.fetch (allow list WALLET_FETCH_ALLOW, CA WALLET_CA_BUNDLE)."""
    from .offline import network_fetcher

    return network_fetcher()


def _input_error(source: str, code: str, lang: str, as_json: bool) -> int:
    from wallet.openbadges.messages import render_error

    message = render_error(code, lang)
    print(f"wallet: {source}: {message} ({code})", file=sys.stderr)
    if as_json:
        print(json.dumps({"status": "error", "error": code, "message": message, "source": source},
                         ensure_ascii=False))
    return 2


def _eligibility(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    path = Path(args.referential) if args.referential else default_referential_path()
    try:
        ref = load_referential(path, base_url=_base_url(args.base_url))
    except ReferentialError as error:
        for problem in error.problems:
            print(problem.format(str(path)), file=sys.stderr)
        return 2
    from wallet.openbadges import BadgeInputError, verify

    now = datetime.now(UTC)
    fetch = _fetcher()
    verdicts = []
    for source in args.sources:
        data: bytes | str
        if source.startswith(URL_PREFIXES):
            data = source
        else:
            try:
                data = Path(source).read_bytes()
            except OSError:
                return _input_error(source, "unreadable", args.lang, args.json)
        try:
            verdict = verify(data, fetch=fetch, recipients=tuple(args.recipient), now=now)
        except BadgeInputError as exc:
            return _input_error(source, exc.code, args.lang, args.json)
        verdicts.append(verdict.to_dict(lang=args.lang))
    results = evaluate(ref, verdicts, now=now)
    if args.json:
        print(json.dumps([r.to_dict(args.lang) for r in results], ensure_ascii=False, indent=2))
    else:
        print(summary(ref.name.get(args.lang), verdicts, results, ref, args.lang))
    return 0


def summary(title: str, verdicts: list[dict], results: list[Eligibility], ref: Any, lang: str = "fr") -> str:
    """A readable summary (French by default) of the badges read and of each regional badge."""
    en = lang == "en"
    names = {v.get("id"): (v.get("badge") or {}).get("name") or v.get("id") for v in verdicts}
    lines = [title, ""]
    lines.append(f"{len(verdicts)} badge(s) read:" if en else f"{len(verdicts)} badge(s) lu(s) :")
    from wallet.openbadges.messages import render_status

    for v in verdicts:
        issuer = v.get("issuer") or {}
        lines.append(f"  - {names[v.get('id')]} ({issuer.get('name') or issuer.get('id') or '?'}) : "
                     f"{render_status(str(v.get('status')), lang)}")
    lines.append("")
    for result in results:
        p = result.progress
        lines.append(f"{STATE_MARKS[result.state]} {result.name(lang)} : {_t(STATE_LABELS[result.state], lang)}"
                     f" ({p.have}/{p.need})")
        if result.state in ("in_progress", "not_started"):
            lines.extend("    " + line for line in _missing_lines(result, ref, lang))
        for nc in result.not_counted:
            if nc.reason not in ("not_aligned", "not_a_partner"):
                lines.append(f"    · {names.get(nc.id, nc.id)} : {_t(REASON_LABELS[nc.reason], lang)}")
    strangers = sorted({str(names.get(nc.id, nc.id)) for r in results for nc in r.not_counted
                        if nc.reason == "not_a_partner"})
    if strangers:
        lines.append("")
        lines.append("Issuers not recognised by the Region:" if en
                     else "Badges d'émetteurs non reconnus par la Région :")
        lines.extend(f"  - {name}" for name in strangers)
    return "\n".join(lines)


def _missing_lines(result: Eligibility, ref: Any, lang: str) -> list[str]:
    en = lang == "en"
    missing = result.missing
    if missing.regional:
        held = ", ".join(ref.badge(key).name.get(lang) for key in missing.regional)
        return [f"Still needed: {missing.badges} of {held}" if en
                else f"Il manque encore {missing.badges} badge(s) parmi : {held}"]
    if missing.skill is None:
        return []
    skill = ref.skill(missing.skill).name.get(lang)
    level = ref.level_name(missing.level or 1, lang)
    text = (f"Missing: {missing.badges} partner badge(s) in “{skill}” (level “{level}” or above)" if en
            else f"Il manque {missing.badges} badge(s) de partenaire en « {skill} » "
                 f"(niveau « {level} » ou plus)")
    partners_have, partners_need = result.progress.partners_have, result.progress.partners_need
    if partners_have == 0 and partners_need > 1:
        text += (f", from at least {partners_need} different partners" if en
                 else f", d'au moins {partners_need} partenaires différents")
    elif partners_have > 0 and missing.partners:
        text += (f", {missing.partners} of them from another partner" if en
                 else f", dont {missing.partners} d'un autre partenaire")
    lines = [text]
    if result.offered_by:
        offered = ", ".join(partner.name for partner in result.offered_by)
        lines.append(f"Offered by: {offered}" if en else f"Proposés par : {offered}")
    return lines
