"""The eligibility engine: which regional badges a learner holds, can claim, or is working toward.

    results = evaluate(referential, verdicts, now=datetime.now(timezone.utc))
    [r.to_dict("fr") for r in results]     # DESIGN.md §4 `wallet eligibility` items

Pure: no clock (`now` is a parameter), no I/O. Input credentials are Verdict dicts (DESIGN.md §4
"Verdict JSON"), or objects with `.to_dict()`. Credentials are indexed once per call; each rule then
walks the index. Retroactive by construction: only the credentials and the rules as they are now
count, never the date a badge was issued or a rule was added.

A partner badge *qualifies* for a `count` rule when, in this order of precedence (the first reason
that applies is the one reported, from the most fundamental to the most fixable):

1. `not_valid`     status is not valid / revoked / suspended / expired (invalid, unverifiable,
                   not_yet_valid…), or its `expires` cannot be read: nothing in it can be trusted,
                   not even its issuer id, so nothing else is said;
2. `not_a_partner` its verified issuer id is not exactly one of a partner's issuer ids;
3. `not_aligned`   it does not attest the rule's skill at ≥ the rule's minimum level (by the partner's
                   catalogue, an alignment into the regional framework, or a tag) — so a level-II
                   badge also counts toward level I;
4. `revoked`       revoked or suspended by its issuer;
5. `expired`       expired (by its status, or by `expires` before `now`: a stored verdict ages);
6. `not_matched`   `recipient.matched` is not true: it is not proven to be the learner's;
7. `duplicate`     another copy of the same BadgeClass / Achievement already counts (the one with
                   the smallest credential id counts; copies count once, however many there are).

A regional badge is *held* when a credential is valid (and not past `expires`), matched, issued
under one of the Region's issuer ids, and carries that regional badge's id. Composite rules
(`all_of`, `any_of`, `n_of`) count regional badges held; their `not_counted` lists only the Region
credentials for the badges they name (reasons `not_valid`, `revoked`, `expired`, `not_matched`,
`duplicate`).

States: `obtained` (held), `eligible` (the rule is met), `in_progress` (some progress), `not_started`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from .model import CompositeRule, CountRule, Partner, Referential, RegionalBadge

REASONS = ("not_valid", "not_a_partner", "not_aligned", "revoked", "expired", "not_matched", "duplicate")
STATES = ("obtained", "eligible", "in_progress", "not_started")


class NotCounted(NamedTuple):
    """A credential that does not count for a regional badge, and why (one of REASONS)."""

    id: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Progress:
    have: int
    need: int
    partners_have: int = 0
    partners_need: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"have": self.have, "need": self.need, "partners_have": self.partners_have,
                "partners_need": self.partners_need}


@dataclass(frozen=True, slots=True)
class Missing:
    """What is still missing, for a UI to phrase in plain words.

    `badges`: the least number of further qualifying badges needed (count rules: at least one per
    missing partner) or of further regional badges (composites); `partners`: how many of those must
    come from partner organisations not counted yet; `skill`/`level`: what they must attest;
    `regional`: composites only, the keys of the regional badges named by the rule and not held.
    """

    badges: int = 0
    partners: int = 0
    skill: str | None = None
    level: int | None = None
    regional: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"badges": self.badges, "partners": self.partners, "skill": self.skill,
                "level": self.level, "regional": list(self.regional)}


@dataclass(frozen=True, slots=True)
class Eligibility:
    badge: RegionalBadge
    state: str
    progress: Progress
    counted: tuple[str | None, ...]
    not_counted: tuple[NotCounted, ...]
    missing: Missing
    held: tuple[str, ...] = ()                 # composites: regional badge keys held among `of`
    counted_partners: tuple[str, ...] = ()     # count rules: partner keys of the counted badges
    offered_by: tuple[Partner, ...] = ()       # count rules: partners whose catalogue fits the rule

    @property
    def id(self) -> str:
        return self.badge.id

    @property
    def key(self) -> str:
        return self.badge.key

    def name(self, lang: str = "fr") -> str:
        return self.badge.name.get(lang)

    def to_dict(self, lang: str = "fr", extended: bool = False) -> dict[str, Any]:
        """Exactly the DESIGN.md §4 item; `extended=True` adds key, rule, missing, held,
        counted_partners and offered_by for the app's pages."""
        item: dict[str, Any] = {
            "id": self.badge.id, "name": self.badge.name.get(lang), "state": self.state,
            "progress": self.progress.to_dict(), "counted": list(self.counted),
            "not_counted": [nc.to_dict() for nc in self.not_counted],
        }
        if extended:
            rule = self.badge.rule
            item.update(
                key=self.badge.key, rule=rule.kind, missing=self.missing.to_dict(),
                held=list(self.held), counted_partners=list(self.counted_partners),
                offered_by=[{"key": p.key, "name": p.name,
                             "badges": [{"id": e.id, "name": e.name, "level": e.level}
                                        for e in p.catalogue if _fits(rule, e.skill, e.level)]}
                            for p in self.offered_by])
        return item


def _fits(rule: CountRule | CompositeRule, skill: str, level: int) -> bool:
    return isinstance(rule, CountRule) and skill == rule.skill and level >= rule.min_level


# --- indexing ---------------------------------------------------------------------------------------

class _Matcher:
    """How partner badges map to (skill, level), precomputed from the referential."""

    def __init__(self, ref: Referential) -> None:
        self.urls: dict[str, list[tuple[str, int]]] = {}
        self.codes: dict[str, list[tuple[str, int]]] = {}
        self.tags: dict[str, list[tuple[str, int]]] = {}
        for skill in ref.skills:
            for target in skill.targets:
                pair = (skill.key, target.level)
                if target.url:
                    self.urls.setdefault(target.url.rstrip("/"), []).append(pair)
                if target.code:
                    self.codes.setdefault(target.code.casefold(), []).append(pair)
                for tag in target.tags:
                    self.tags.setdefault(tag.strip().casefold(), []).append(pair)
        self.catalogue: dict[str, list[tuple[str, str, int]]] = {}
        for partner in ref.partners:
            for entry in partner.catalogue:
                self.catalogue.setdefault(entry.id, []).append((partner.key, entry.skill, entry.level))
        self.framework_names = {name.strip().casefold() for name in ref.framework.names}
        self.framework_url = (ref.framework.url or "").rstrip("/")

    def _code_counts(self, alignment: dict) -> bool:
        if not self.framework_names and not self.framework_url:
            return True
        framework = alignment.get("framework")
        if isinstance(framework, str) and framework.strip().casefold() in self.framework_names:
            return True
        url = alignment.get("url")
        return bool(self.framework_url) and isinstance(url, str) and url.startswith(self.framework_url + "/")

    def levels(self, badge: dict, badge_id: str | None, org: str | None) -> dict[str, int]:
        """The highest level at which the badge attests each skill (by any of the mappings)."""
        pairs: list[tuple[str, int]] = []
        for alignment in badge.get("alignments") or ():
            if not isinstance(alignment, dict):
                continue
            url, code = alignment.get("url"), alignment.get("code")
            if isinstance(url, str):
                pairs += self.urls.get(url.rstrip("/"), ())
            if isinstance(code, str) and code.casefold() in self.codes and self._code_counts(alignment):
                pairs += self.codes[code.casefold()]
        for tag in badge.get("tags") or ():
            if isinstance(tag, str):
                pairs += self.tags.get(tag.strip().casefold(), ())
        if badge_id in self.catalogue:
            # A catalogue entry counts only for a badge issued by the partner that lists it.
            pairs += [(skill, level) for partner, skill, level in self.catalogue[badge_id] if partner == org]
        found: dict[str, int] = {}
        for skill, level in pairs:
            if found.get(skill, 0) < level:
                found[skill] = level
        return found


class _Item:
    """One credential, read once: everything the rules need, with its reasons prepared."""

    __slots__ = (
        "after",
        "badge_key",
        "duplicate",
        "first",
        "id",
        "levels",
        "not_aligned",
        "org",
        "region_badge",
        "sort_key",
        "status_nc",
    )

    def reason_not_aligned(self) -> NotCounted:
        if self.not_aligned is None:
            self.not_aligned = NotCounted(self.id, "not_aligned")
        return self.not_aligned

    def reason_duplicate(self) -> NotCounted:
        if self.duplicate is None:
            self.duplicate = NotCounted(self.id, "duplicate")
        return self.duplicate


_EMPTY: dict = {}


@dataclass(frozen=True, slots=True)
class _Derived:
    """What the rules read from a referential, whoever the learner: computed once per referential."""

    matcher: _Matcher
    org_of: dict[str, str]
    region_ids: frozenset[str]
    regional_keys: dict[str, str]
    offered: dict[str, tuple[Partner, ...]]    # per regional badge key: the partners whose catalogue fits


# Keyed by the referential object's identity (it is immutable; its hash would walk all of it), and
# holding it, so that the id is never reused while its entry lives. A referential is replaced rarely.
_DERIVED: dict[int, tuple[Referential, _Derived]] = {}


def _derived(ref: Referential) -> _Derived:
    entry = _DERIVED.get(id(ref))
    if entry is not None and entry[0] is ref:
        return entry[1]
    offered = {b.key: tuple(p for p in ref.partners if any(_fits(b.rule, e.skill, e.level) for e in p.catalogue))
               for b in ref.badges if isinstance(b.rule, CountRule)}
    derived = _Derived(_Matcher(ref), {issuer_id: p.key for p in ref.partners for issuer_id in p.issuer_ids},
                       frozenset(ref.issuer.ids), {b.id: b.key for b in ref.badges}, offered)
    if len(_DERIVED) >= 8:
        _DERIVED.clear()
    _DERIVED[id(ref)] = (ref, derived)
    return derived


class _Indexer:
    """Turns Verdict dicts into `_Item`s; built once per `evaluate` call."""

    def __init__(self, ref: Referential, now: datetime) -> None:
        derived = _derived(ref)
        self.matcher = derived.matcher
        self.org_of = derived.org_of
        self.region_ids = derived.region_ids
        self.regional_keys = derived.regional_keys
        self.offered = derived.offered
        self.now = now
        self.expiry: dict[str, str | None] = {}

    def status_reason(self, status: Any, expires: Any) -> str | None:
        if status == "valid":
            if not expires:
                return None
            key = str(expires)
            if key not in self.expiry:
                try:
                    moment = _utc(datetime.fromisoformat(key))
                    self.expiry[key] = "expired" if moment < self.now else None
                except ValueError:
                    self.expiry[key] = "not_valid"   # fail closed: an unreadable date is not trusted
            return self.expiry[key]
        if status == "expired":
            return "expired"
        if status in ("revoked", "suspended"):
            return "revoked"
        return "not_valid"

    def item(self, data: dict) -> _Item:
        it = _Item()
        get = data.get
        it.id = cid = get("id")
        badge = get("badge") or _EMPTY
        badge_id = badge.get("id")
        issuer_id = (get("issuer") or _EMPTY).get("id")
        if not isinstance(issuer_id, str):
            issuer_id = None
        if not isinstance(badge_id, str):
            badge_id = None
        matched = (get("recipient") or _EMPTY).get("matched")
        status, expires = get("status"), get("expires")
        reason = None if status == "valid" and not expires else self.status_reason(status, expires)
        it.org = org = self.org_of.get(issuer_id) if issuer_id else None
        # "Same BadgeClass": a BadgeClass has one issuer, so the key is (organisation, badge id).
        it.badge_key = (org, badge_id) if badge_id else (org, "credential", cid)
        it.region_badge = self.regional_keys.get(badge_id) if issuer_id in self.region_ids else None
        it.sort_key = (str(cid), badge_id or "", issuer_id or "", str(status), matched is True,
                       str(expires))
        it.status_nc = status_nc = NotCounted(cid, reason) if reason else None
        if reason == "not_valid":
            it.first = status_nc
        elif org is None:
            it.first = NotCounted(cid, "not_a_partner")
        else:
            it.first = None
        if reason:
            it.after = status_nc
        else:
            it.after = None if matched is True else NotCounted(cid, "not_matched")
        it.levels = self.matcher.levels(badge, badge_id, org) if it.first is None else _EMPTY
        it.not_aligned = it.duplicate = None
        return it


# The fields of a Verdict dict that `_Indexer.item` and `_Matcher.levels` read, and nothing else. A
# wallet stores them beside each verdict (`badges.facts`), so its regional page parses a tenth of the
# JSON. Bump FACTS_VERSION whenever the rules read another field: stored facts of an older version
# are then ignored and the verdict is read instead.
FACTS_VERSION = 1
FACTS_KEY = "eligibility_facts"


def eligibility_facts(verdict: dict) -> dict:
    """The part of a Verdict dict the rules read, in the same shape: `evaluate` gives the same
    results for it as for the whole verdict. It carries `FACTS_KEY: FACTS_VERSION`."""
    get = verdict.get
    badge = get("badge") or _EMPTY
    issuer = get("issuer") or _EMPTY
    recipient = get("recipient") or _EMPTY
    alignments = [{key: a.get(key) for key in ("url", "code", "framework")}
                  for a in _iterable(badge.get("alignments")) if isinstance(a, dict)]
    return {
        FACTS_KEY: FACTS_VERSION,
        "id": get("id"), "status": get("status"), "expires": get("expires"),
        "badge": {"id": badge.get("id"), "alignments": alignments,
                  "tags": [tag for tag in _iterable(badge.get("tags")) if isinstance(tag, str)]},
        "issuer": {"id": issuer.get("id")},
        "recipient": {"matched": recipient.get("matched")},
    }


def are_current_facts(data: Any) -> bool:
    """Whether `data` (parsed from a stored `facts` column) is facts of the current version."""
    return isinstance(data, dict) and data.get(FACTS_KEY) == FACTS_VERSION


def _iterable(value: Any) -> Any:
    # What `for x in value or ()` walks; anything else (a number) walks nothing.
    return value if value and isinstance(value, (list, tuple, str, dict)) else ()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _as_dict(credential: Any) -> dict:
    if isinstance(credential, dict):
        return credential
    if hasattr(credential, "to_dict"):
        return credential.to_dict()
    raise TypeError(f"not a Verdict dict: {type(credential).__name__}")


# --- evaluation ---------------------------------------------------------------------------------------

def _count(offered: tuple[Partner, ...], badge: RegionalBadge, rule: CountRule, items: list[_Item],
           held: dict[str, str | None]) -> Eligibility:
    skill, min_level = rule.skill, rule.min_level
    counted: list[str | None] = []
    not_counted: list[NotCounted] = []
    seen: set[tuple] = set()
    orgs: list[str] = []
    for it in items:
        if it.first is not None:
            not_counted.append(it.first)
        elif it.levels.get(skill, 0) < min_level:
            not_counted.append(it.reason_not_aligned())
        elif it.after is not None:
            not_counted.append(it.after)
        elif it.badge_key in seen:
            not_counted.append(it.reason_duplicate())
        else:
            seen.add(it.badge_key)
            counted.append(it.id)
            if it.org not in orgs:
                orgs.append(it.org)  # type: ignore[arg-type]
    progress = Progress(len(counted), rule.badges, len(orgs), rule.partners)
    missing_partners = max(0, rule.partners - len(orgs))
    missing = Missing(max(rule.badges - len(counted), missing_partners), missing_partners, skill, min_level)
    met = progress.have >= progress.need and progress.partners_have >= progress.partners_need
    return Eligibility(badge, _state(badge.key in held, met, progress.have > 0), progress,
                       tuple(counted), tuple(not_counted), missing, (), tuple(sorted(orgs)), offered)


def _composite(badge: RegionalBadge, rule: CompositeRule, region_items: list[_Item],
               held: dict[str, str | None]) -> Eligibility:
    names = set(rule.of)
    held_here = tuple(key for key in rule.of if key in held)
    counted = tuple(held[key] for key in rule.of if held.get(key) is not None)
    counted_ids = set(counted)
    not_counted: list[NotCounted] = []
    for it in region_items:
        if it.region_badge not in names or it.id in counted_ids:
            continue
        reason = it.status_nc or it.after
        if reason is None:
            if held.get(it.region_badge) is None:   # type: ignore[arg-type]
                continue        # `held_regional` says it is not held: nothing to report
            reason = it.reason_duplicate()
        not_counted.append(reason)
    need = rule.need
    progress = Progress(len(held_here), need, 0, 0)
    missing = Missing(max(0, need - len(held_here)), 0, None, None,
                      tuple(key for key in rule.of if key not in held))
    return Eligibility(badge, _state(badge.key in held, len(held_here) >= need, bool(held_here)), progress,
                       counted, tuple(not_counted), missing, held_here)


def _state(obtained: bool, met: bool, started: bool) -> str:
    if obtained:
        return "obtained"
    if met:
        return "eligible"
    return "in_progress" if started else "not_started"


def evaluate(referential: Referential, credentials: Iterable[Any], now: datetime,
             held_regional: Iterable[str] | None = None) -> list[Eligibility]:
    """One Eligibility per regional badge, in the referential's order.

    `held_regional`: ids (or keys) of the regional badges the learner holds, when the caller knows
    better; by default they are derived from the credentials (see the module docstring).
    """
    ref = referential
    indexer = _Indexer(ref, _utc(now))
    regional_keys = indexer.regional_keys
    items = [indexer.item(_as_dict(c)) for c in credentials]
    items.sort(key=lambda it: it.sort_key)
    region_items = [it for it in items if it.region_badge is not None]
    held: dict[str, str | None] = {}
    for it in region_items:
        if it.status_nc is None and it.after is None and it.region_badge not in held:
            held[it.region_badge] = it.id     # type: ignore[index]
    if held_regional is not None:
        wanted = {regional_keys.get(name, name) for name in held_regional}
        held = {key: held.get(key) for key in (b.key for b in ref.badges) if key in wanted}
    results = []
    for badge in ref.badges:
        if isinstance(badge.rule, CountRule):
            results.append(_count(indexer.offered[badge.key], badge, badge.rule, items, held))
        else:
            results.append(_composite(badge, badge.rule, region_items, held))
    return results
