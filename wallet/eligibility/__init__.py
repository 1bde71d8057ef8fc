"""Regional eligibility (PURE): the referential (data file) and the rules engine.

    from wallet.eligibility import load_referential, evaluate
    ref = load_referential(default_referential_path(), base_url=config["BASE_URL"])
    results = evaluate(ref, verdict_dicts, now=now)

No Flask, no database, no network, no clock: time and data are parameters.
"""

from .model import (
    CatalogueEntry,
    CompositeRule,
    CountRule,
    Framework,
    Issuer,
    Level,
    Partner,
    Referential,
    RegionalBadge,
    Skill,
    Target,
    Text,
)
from .problems import Problem, ReferentialError
from .referential import DEFAULT_BASE_URL, check_referential, default_referential_path, load_referential
from .rules import (
    REASONS,
    STATES,
    Eligibility,
    Missing,
    NotCounted,
    Progress,
    are_current_facts,
    eligibility_facts,
    evaluate,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "REASONS",
    "STATES",
    "CatalogueEntry",
    "CompositeRule",
    "CountRule",
    "Eligibility",
    "Framework",
    "Issuer",
    "Level",
    "Missing",
    "NotCounted",
    "Partner",
    "Problem",
    "Progress",
    "Referential",
    "ReferentialError",
    "RegionalBadge",
    "Skill",
    "Target",
    "Text",
    "are_current_facts",
    "check_referential",
    "default_referential_path",
    "eligibility_facts",
    "evaluate",
    "load_referential",
]
