"""Reading the sections of a referential document (levels, skills, partners, badges and their rules)
into model objects, every problem recorded by the Reader with its path (see referential.py)."""

from __future__ import annotations

from .model import (
    COMPOSITE_KINDS,
    CatalogueEntry,
    CompositeRule,
    CountRule,
    Level,
    Partner,
    RegionalBadge,
    Rule,
    Skill,
    Target,
)
from .reader import _URN, is_issuer_id
from .reader import Reader as _Reader


def read_levels(r: _Reader, doc: dict) -> tuple[Level, ...]:
    levels, seen = [], {}
    for path, item in r.tables(doc, "levels", "levels"):
        r.keys(item, path, {"level", "name", "editable"})
        number = r.integer(item, "level", path)
        r.unique(seen, str(number) if number else None, f"{path}.level")
        levels.append(Level(number or 0, r.text(item, "name", path), r.boolean(item, "editable", path)))
    return tuple(levels)


def _level(r: _Reader, item: dict, key: str, path: str, known: set[int], default: int | None = None) -> int:
    number = r.integer(item, key, path, default)
    if number is not None and number not in known:
        r.add(f"{path}.{key}", "unknown_level", value=number)
    return number or 0


def read_skills(r: _Reader, doc: dict, known_levels: set[int]) -> tuple[Skill, ...]:
    skills, keys = [], {}
    for path, item in r.tables(doc, "skills", "skills"):
        r.keys(item, path, {"key", "name", "description", "url", "code", "targets", "editable"})
        key = r.key(item, path)
        r.unique(keys, key, f"{path}.key")
        targets = []
        for t_path, t in r.tables(item, "targets", f"{path}.targets", required=False):
            r.keys(t, t_path, {"level", "url", "code", "tags"})
            url, code = r.url(t, "url", t_path, False), r.string(t, "code", t_path, False)
            tags = tuple(tag for _, tag in r.strings(t, "tags", t_path, required=False))
            if not (url or code or tags):
                r.add(t_path, "no_target")
            targets.append(Target(_level(r, t, "level", t_path, known_levels), url, code, tags))
        skills.append(Skill(key or "", r.text(item, "name", path), r.text(item, "description", path),
                            r.url(item, "url", path, False), r.string(item, "code", path, False),
                            tuple(targets), r.boolean(item, "editable", path)))
    return tuple(skills)


def read_partners(r: _Reader, doc: dict, skills: set[str], levels: set[int],
              region_ids: set[str]) -> tuple[Partner, ...]:
    partners, keys, issuer_ids, entry_ids = [], {}, {}, {}
    for path, item in r.tables(doc, "partners", "partners", required=False):
        r.keys(item, path, {"key", "name", "issuer_ids", "url", "demo", "catalogue"})
        key = r.key(item, path)
        r.unique(keys, key, f"{path}.key")
        ids = []
        for i_path, issuer_id in r.strings(item, "issuer_ids", path):
            if not is_issuer_id(issuer_id):
                r.add(i_path, "not_issuer_id", value=issuer_id)
            elif issuer_id in region_ids:
                r.add(i_path, "region_as_partner", value=issuer_id)
            r.unique(issuer_ids, issuer_id, i_path)
            ids.append(issuer_id)
        catalogue = []
        for c_path, entry in r.tables(item, "catalogue", f"{path}.catalogue", required=False):
            r.keys(entry, c_path, {"id", "skill", "level", "name"})
            entry_id = r.string(entry, "id", c_path)
            if entry_id and not (is_issuer_id(entry_id) or _URN.match(entry_id)):
                r.add(f"{c_path}.id", "not_uri", value=entry_id)
            r.unique(entry_ids, entry_id, f"{c_path}.id")
            skill = r.string(entry, "skill", c_path)
            if skill and skill not in skills:
                r.add(f"{c_path}.skill", "unknown_skill", value=skill)
            catalogue.append(CatalogueEntry(entry_id or "", skill or "", _level(r, entry, "level", c_path, levels),
                                            r.string(entry, "name", c_path, False)))
        partners.append(Partner(key or "", r.string(item, "name", path) or "", tuple(ids),
                                r.url(item, "url", path, False), r.boolean(item, "demo", path),
                                tuple(catalogue)))
    return tuple(partners)


def _rule(r: _Reader, item: dict, path: str, skill: str | None, level: int | None,
          skills: set[str], levels: set[int]) -> Rule | None:
    rule = r.table(item, "rule", f"{path}.rule", None)
    if not rule:
        return None
    where = f"{path}.rule"
    kind = r.string(rule, "type", where)
    if kind == "count":
        r.keys(rule, where, {"type", "skill", "min_level", "badges", "partners"})
        rule_skill = rule.get("skill", skill)
        if rule_skill is None:
            r.add(f"{where}.skill", "required")
        elif not isinstance(rule_skill, str):
            r.add(f"{where}.skill", "type", expected="string")
        elif rule_skill not in skills:
            r.add(f"{where}.skill", "unknown_skill", value=rule_skill)
        min_level = _level(r, rule, "min_level", where, levels, level)
        badges = r.integer(rule, "badges", where)
        partners = r.integer(rule, "partners", where, 1)
        if badges and partners and partners > badges:
            r.add(f"{where}.partners", "partners_gt_badges", partners=partners, badges=badges)
        return CountRule(str(rule_skill or ""), min_level, badges or 0, partners or 0)
    if kind in COMPOSITE_KINDS:
        r.keys(rule, where, {"type", "of", "n"} if kind == "n_of" else {"type", "of"})
        of = tuple(value for _, value in r.strings(rule, "of", where))
        n = r.integer(rule, "n", where) or 0 if kind == "n_of" else 0
        if kind == "n_of" and n > len(of):
            r.add(f"{where}.n", "n_too_large", n=n, count=len(of))
        return CompositeRule(kind, of, n)
    if kind is not None:
        r.add(f"{where}.type", "unknown_rule", value=kind)
    return None


def read_badges(r: _Reader, doc: dict, skills: set[str], levels: set[int]) -> list[tuple[str, RegionalBadge]]:
    badges, keys, ids = [], {}, {}
    allowed = {"key", "id", "name", "description", "criteria", "image", "skill", "level", "tags",
               "editable", "rule"}
    for path, item in r.tables(doc, "badges", "badges"):
        r.keys(item, path, allowed)
        key = r.key(item, path)
        r.unique(keys, key, f"{path}.key")
        badge_id = r.url(item, "id", path)
        r.unique(ids, badge_id, f"{path}.id")
        skill = r.string(item, "skill", path, required=False)
        if skill is not None and skill not in skills:
            r.add(f"{path}.skill", "unknown_skill", value=skill)
        level = _level(r, item, "level", path, levels) if "level" in item else None
        image = r.string(item, "image", path, required=False)
        if image and (image.startswith(("/", "\\")) or ".." in image.replace("\\", "/").split("/")
                      or ":" in image):
            r.add(f"{path}.image", "bad_image", value=image)
        rule = _rule(r, item, path, skill, level, skills, levels)
        badge = RegionalBadge(
            key or "", badge_id or "", r.text(item, "name", path), r.text(item, "description", path),
            r.text(item, "criteria", path), rule or CompositeRule("all_of", ()), image, skill, level,
            tuple(tag for _, tag in r.strings(item, "tags", path, required=False)),
            r.boolean(item, "editable", path))
        badges.append((path, badge))
    return badges


def resolve_composites(r: _Reader, badges: list[tuple[str, RegionalBadge]]) -> tuple[RegionalBadge, ...]:
    """Composite `of` items may name a badge by key or id: resolve to keys; refuse cycles."""
    from dataclasses import replace

    by_key = {b.key: b for _, b in badges if b.key}
    key_of_id = {b.id: b.key for _, b in badges if b.id}
    resolved: list[tuple[str, RegionalBadge]] = []
    for path, badge in badges:
        if isinstance(badge.rule, CompositeRule):
            keys = []
            for index, name in enumerate(badge.rule.of):
                key = name if name in by_key else key_of_id.get(name)
                if key is None:
                    r.add(f"{path}.rule.of[{index}]", "unknown_badge", value=name)
                elif key in keys:
                    r.add(f"{path}.rule.of[{index}]", "duplicate", value=name, other=f"{path}.rule.of")
                else:
                    keys.append(key)
            badge = replace(badge, rule=replace(badge.rule, of=tuple(keys)))
        resolved.append((path, badge))
    graph = {b.key: b.rule.of for _, b in resolved if isinstance(b.rule, CompositeRule)}
    path_of = {b.key: p for p, b in resolved}
    reported: set[frozenset[str]] = set()
    for start in graph:
        stack = [(start, (start,))]
        while stack:
            node, trail = stack.pop()
            for following in graph.get(node, ()):
                if following == start:
                    cycle = trail + (start,)
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        r.add(f"{path_of[start]}.rule.of", "cycle", cycle=" → ".join(cycle))
                elif following not in trail and following in graph:
                    stack.append((following, trail + (following,)))
    return tuple(b for _, b in resolved)
