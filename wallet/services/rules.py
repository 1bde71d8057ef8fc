"""Which verifier rules a stored verdict was judged under.

A stored badge keeps the verdict it got when it was last verified. When the rules of the core
change in a way that can change verdicts, RULES_VERSION goes up, and `wallet worker` re-verifies
once every stored badge judged under an older version (services/upgrade.py).

1 — the first wave (until the turn-2 upgrade): literal-key reading of OB 1.x/2.0, embedded and
    linked nodes trusted as found.
2 — authority of nodes (a node counts only as fetched from its own id; an OB 3.0 key naming the
    issuer as controller must be listed by the issuer; status lists only at their own id) and
    OB 1.x/2.0 read through the JSON-LD context (PROTOCOLS.md Decisions; issue 12).
"""

RULES_VERSION = 2
