"""Domain data of a regional referential: skills, levels, partners, regional badges and their rules.

Everything here is immutable. A `Referential` is built by `referential.load_referential` from the
data file (TOML) after validation; nothing in this module reads files or the clock.

Vocabulary:
- a *skill* (compétence) has *levels* (1 = « Je pratique », 2 = « Je maîtrise », …);
- a *target* says how a partner badge is recognised as attesting a skill at a level: by an
  alignment (`targetUrl` or `targetCode` within the regional framework) or by a tag;
- a *partner* is an organisation with one or more issuer ids (exact URL or DID) and a catalogue of
  its badges mapped to a skill and level; "distinct partners" counts organisations, not issuer ids;
- a *regional badge* is issued by the Region and has one rule: `count` (qualifying partner badges
  in a skill) or a composite (`all_of`, `any_of`, `n_of`) over other regional badges held.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..text.typography import french_spacing

RULE_KINDS = ("count", "all_of", "any_of", "n_of")
COMPOSITE_KINDS = ("all_of", "any_of", "n_of")


@dataclass(frozen=True, slots=True)
class Text:
    """A text a person reads, in French (always present) and English (falls back to French)."""

    fr: str
    en: str = ""

    def get(self, lang: str = "fr") -> str:
        if lang.lower().startswith("en") and self.en:
            return self.en
        return french_spacing(self.fr)


@dataclass(frozen=True, slots=True)
class Level:
    """A level every skill has (1 = « Je pratique », …); `editable`: Region staff may edit its name."""

    level: int
    name: Text
    editable: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    """A way a partner badge shows it attests `skill` at `level` (any one of url, code, tags)."""

    level: int
    url: str | None = None
    code: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Skill:
    """A skill (compétence) of the framework, at `url` or `code` in it, and the `targets` by which a
    partner badge is recognised as attesting it at a level."""

    key: str
    name: Text
    description: Text
    url: str | None = None
    code: str | None = None
    targets: tuple[Target, ...] = ()
    editable: bool = False


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """A partner's BadgeClass / Achievement id, recognised as attesting `skill` at `level`."""

    id: str
    skill: str
    level: int
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner organisation: its issuer ids (exact URL or DID) and the catalogue of its badges."""

    key: str
    name: str
    issuer_ids: tuple[str, ...]
    url: str | None = None
    demo: bool = False
    catalogue: tuple[CatalogueEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class CountRule:
    """At least `badges` distinct qualifying partner badges in `skill` at level ≥ `min_level`,
    from at least `partners` distinct partner organisations."""

    skill: str
    min_level: int
    badges: int
    partners: int = 1
    kind: str = "count"


@dataclass(frozen=True, slots=True)
class CompositeRule:
    """Holding regional badges: all of `of`, any one of them, or at least `n` of them."""

    kind: str                 # all_of | any_of | n_of
    of: tuple[str, ...]       # regional badge keys
    n: int = 0

    @property
    def need(self) -> int:
        if self.kind == "all_of":
            return len(self.of)
        if self.kind == "any_of":
            return 1
        return self.n


Rule = CountRule | CompositeRule


@dataclass(frozen=True, slots=True)
class RegionalBadge:
    """A badge the Region issues (at `id`) to whoever meets its `rule`; `skill` and `level` say what
    it attests, when it attests one skill."""

    key: str
    id: str
    name: Text
    description: Text
    criteria: Text
    rule: Rule
    image: str | None = None
    skill: str | None = None
    level: int | None = None
    tags: tuple[str, ...] = ()
    editable: bool = False


@dataclass(frozen=True, slots=True)
class Issuer:
    """The Region as an issuer: the ids its credentials carry (the builtin one is
    `<WALLET_BASE_URL>/issuers/region`)."""

    ids: tuple[str, ...]
    name: Text
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Framework:
    """The regional framework partners align their badges to.

    An alignment matches a target by `url` exactly, or by `code` when the alignment's framework
    name is one of `names` or its url lies under `url`.
    """

    url: str | None
    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Referential:
    """A regional referential, versioned: its issuer, framework, levels, skills, partners and badges;
    looked up by key with `skill()`, `badge()` and `partner_for_issuer()`."""

    id: str
    version: str
    name: Text
    issuer: Issuer
    framework: Framework
    levels: tuple[Level, ...]
    skills: tuple[Skill, ...]
    partners: tuple[Partner, ...]
    badges: tuple[RegionalBadge, ...]
    base_url: str = ""
    # Lookups, derived from the tuples above by `__post_init__`.
    _skills: Mapping[str, Skill] = field(default_factory=dict, init=False, repr=False,
                                                compare=False)
    _badges: Mapping[str, RegionalBadge] = field(default_factory=dict, init=False, repr=False,
                                                compare=False)
    _partner_by_issuer: Mapping[str, Partner] = field(default_factory=dict, init=False,
                                                      repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_skills", MappingProxyType({s.key: s for s in self.skills}))
        object.__setattr__(self, "_badges", MappingProxyType({b.key: b for b in self.badges}))
        object.__setattr__(self, "_partner_by_issuer", MappingProxyType(
            {issuer_id: p for p in self.partners for issuer_id in p.issuer_ids}))

    def skill(self, key: str) -> Skill:
        return self._skills[key]

    def badge(self, key_or_id: str) -> RegionalBadge:
        """A regional badge by its key (`communiquer-1`) or its id (URL)."""
        found = self._badges.get(key_or_id)
        if found is None:
            found = next((b for b in self.badges if b.id == key_or_id), None)
        if found is None:
            raise KeyError(key_or_id)
        return found

    def partner_for_issuer(self, issuer_id: str | None) -> Partner | None:
        """The partner organisation owning this exact issuer id (never matched by name)."""
        return self._partner_by_issuer.get(issuer_id) if issuer_id else None

    def level_name(self, level: int, lang: str = "fr") -> str:
        for item in self.levels:
            if item.level == level:
                return item.name.get(lang)
        return str(level)

    def skill_level_name(self, skill: str, level: int, lang: str = "fr") -> str:
        """« S'intégrer — Je pratique »: the words for a skill key and a level (never the raw key,
        unless the key is unknown to this referential)."""
        found = self._skills.get(skill)
        return f"{found.name.get(lang) if found else skill} — {self.level_name(level, lang)}"

    def without_demo(self) -> Referential:
        """The same referential without the demo partners (for production installs)."""
        from dataclasses import replace

        return replace(self, partners=tuple(p for p in self.partners if not p.demo))
