"""Counsellors and the learners who let them in (SECURITY.md T45, T46, T54c).

A learner grants a counsellor access (by a short code the counsellor shows, or by the counsellor's
address) for a scope and a duration, sees it and withdraws it at any time. Every counsellor request
goes through `require_consent`, which reads the consent row again: a withdrawal takes effect on the
next request. What a counsellor sees is built here as allowlisted DTOs (`LearnerView`): the
learner's display name, eligibility, badge names/issuers/status and claim statuses — never an email
address, a payload, recipient data or tokens. A counsellor with the "prepare" scope may prepare a
claim (a `ClaimDraft`); only the learner's own confirmation submits it, as the learner. Each
counsellor action and each consent change is written to `AuditEvent` for the learner's journal.

The modules: `consents` (the counsellor's code, granting, withdrawing, `require_consent`),
`learners` (what a counsellor sees), `drafts` (claims a counsellor prepares, the learner confirms),
`journal` (the audit actions written, and the learner's journal that reads them).
"""
