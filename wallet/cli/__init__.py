"""The `wallet` console script.

Offline commands (`verify`, `unbake`, `bake`, `eligibility`, `referential check`) need no app,
secret, database or configuration: they are dispatched before Flask is imported, so that their
cold start stays small. Everything else is a Flask CLI group bound to `create_app`
(`wallet run`, `wallet shell`, `wallet routes`, `wallet db upgrade`, `wallet users create-admin`,
`wallet worker`, `wallet contexts sync`, `wallet demo`).
"""

from __future__ import annotations

import sys

OFFLINE = {"verify", "unbake", "bake", "eligibility", "referential"}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # `wallet referential load` needs the app (it stores the referential in the database).
    online_referential = args[:2] == ["referential", "load"]
    if args and args[0] in OFFLINE and not online_referential:
        if args[0] in {"eligibility", "referential"}:
            from .eligibility import run as run_eligibility

            return run_eligibility(args)
        from .offline import run as run_offline

        return run_offline(args)
    from .online import cli

    return cli.main(args=args, prog_name="wallet") or 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
