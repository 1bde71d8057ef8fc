"""Partner systems, in two rooms that say which side of the wire the wallet is on.

- `client/`: the wallet as a CLIENT of partner backpacks (Open Badges 2.1 Backpack Connect and the
  Open Badges 3.0 API): Region staff register a partner, a learner connects, syncs bring badges in,
  disconnect revokes. `client/wire/` is what is said on the wire (discovery, OAuth, pages), with no
  database; the modules beside it are the use cases, one per protocol step.
- `host/`: the wallet as a backpack HOST that partner systems (a training centre's Moodle) push badges
  into: app passwords and Badgr v2 mode, Badge Connect 2.1 mode, pushes, what the learner sees.

Views for both stay in wallet/views/ (connections.py, admin_backpacks.py, host_*.py).
"""
