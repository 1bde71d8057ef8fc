"""Region staff console, one module a concern: `base` (AdminError, its messages, the audit record),
`people` (people and roles), `invitations` (counsellor and admin accounts by invitation),
`referential_partners` (partner issuers and catalogue, edited as new referential versions),
`learner_changes` (what a new referential changes for learners), `dashboard` (issuer status,
figures)."""
