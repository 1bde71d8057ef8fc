"""Claims: ask for a regional badge in one tap, deliver the request exactly once, bring the badge home.

submit_claim   re-checks eligibility from fresh verdicts (never trusts the form), then writes the
               Claim, its evidence page (a share of kind "evidence") and its Outbox row in ONE
               transaction. At most one active claim per learner and regional badge.
deliver_due    (worker) leases due outbox rows, sends them to the issuer backend OUTSIDE any
               transaction, and records the outcome: issued (the badge is imported and verified
               like any other), in review, refused (with the reason), or retry later with backoff.
               A row is marked "outcome unknown" before each send, so that after a crash or a
               timeout a remote issuer is asked whether it already awarded the badge before any
               re-send (remote issuers are not assumed to de-duplicate).

The modules: `submission` (preview, submit_claim, the learner's claims), `delivery` (first_attempt,
deliver_due, record_result), `review` (staff approval and refusal of claims in review).
"""
