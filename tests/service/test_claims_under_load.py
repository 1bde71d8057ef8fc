"""Claims under load (issue 17, item 4), in small: 30 claims, 3 workers, a flaky remote issuer that
answers 500s, 429s with Retry-After and times out after creating the award — and never refuses a
second award. Exactly one award per claim, every claim issued, its badge imported and valid.
bench/region/claims.py runs the same with 1 000 claims and 5 workers on the region's database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.region.claims import deliver_with_workers, issuer_config, outcome, queue_claims, short_timeouts
from tests.fakes.flaky_issuer import FlakyBadgr

KEYS = ["communiquer-1", "organiser-1", "s-adapter-1"]
CLAIMS = 30


@pytest.fixture
def flaky():
    # Rates high enough that a run of 30 meets every fault, low enough that no claim fails 6 times.
    with FlakyBadgr(badgeclasses=("BC1", "BC2", "BC3"), seed=4, p500=0.2, p429=0.1, p_stall=0.2,
                    stall_seconds=0.8) as fake:
        yield fake


@pytest.fixture
def app_config(app_config, flaky):
    return issuer_config(app_config, flaky, KEYS)


@pytest.fixture
def learners(app):
    from wallet.db import new_session
    from wallet.models import Email, User, utcnow

    with app.app_context():
        session = new_session(app)
        ids = []
        for n in range(CLAIMS // len(KEYS)):
            user = User(display_name=f"Apprenant {n}", password_hash="-")
            address = f"apprenant{n}@example.org"
            user.emails.append(Email(address=address, normalized=address, is_primary=True, verified_at=utcnow()))
            session.add(user)
            session.flush()
            ids.append(user.id)
        session.commit()
        session.close()
    return ids


def test_every_claim_is_issued_exactly_once_by_several_workers_despite_the_faults(app, flaky, learners):
    short_timeouts(app)
    start = datetime.now(UTC)
    claim_ids = queue_claims(app, [(user, key) for user in learners for key in KEYS], start)
    assert len(claim_ids) == CLAIMS

    run = deliver_with_workers(app, claim_ids, workers=3, start=start, budget_seconds=120)
    result = outcome(app, claim_ids, flaky)

    assert run["errors"] == []
    # The faults really happened: 500s, 429s and awards whose answer was lost.
    assert flaky.fates["500"] > 0 and flaky.fates["429"] > 0 and flaky.fates["stall"] > 0
    assert result["awards"] == CLAIMS and result["recipients_awarded"] == CLAIMS
    assert result["awarded_twice"] == 0
    assert result["issued"] == CLAIMS and result["dead"] == 0
    assert result["imported_valid"] == CLAIMS
    assert len(run["passes"]) == 3  # all three workers took part
