"""The simulated region (issue 17): generate it, load it, deliver claims to a flaky issuer.

    python -m bench.region generate --url postgresql+psycopg://…/region --scale 0.05 [--seed 17]
    python -m bench.region load     --url … --scale 0.05 [--seconds 60] [--users 20]
    python -m bench.region service  --url …         # each page's cost to one core, in process
    python -m bench.region claims   --url … [--claims 1000] [--workers 5]
    python -m bench.region all      --scale 0.05     # a throwaway cluster, then all of the above

`make bench-region` runs `all` (SCALE=0.05 by default). Traffic stays on 127.0.0.1; every run is
bounded in time and in requests. Nothing it makes is kept: the cluster is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def recreate_database(url: str) -> None:
    """Drop and create the database named in `url` (a throwaway bench database)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def generate(url: str, scale: float, seed: int) -> dict:
    from wallet.db import make_engine
    from wallet.migrate import upgrade

    from .generate import Params, Region

    started = time.perf_counter()
    recreate_database(url)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    region = Region(Params.scaled(scale), seed=seed, log=log)
    timings = region.fill_postgresql(url)
    total = time.perf_counter() - started
    sizes = database_sizes(url)
    log(f"region: scale {scale} generated in {total:.0f} s; database {sizes['database'] / 2**20:.0f} MiB")
    return {"scale": scale, "seed": seed, "seconds": round(total, 1), "timings": timings, "sizes": sizes,
            "params": region.p.__dict__}


def database_sizes(url: str) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        out = {"database": conn.execute(text("SELECT pg_database_size(current_database())")).scalar()}
        for table in ("badges", "users", "emails", "shares", "share_items", "claims"):
            out[table] = conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar()
        out["badge_rows"] = conn.execute(text("SELECT count(*) FROM badges")).scalar()
    engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.region", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("generate", "load", "service", "claims", "all"):
        p = sub.add_parser(name)
        p.add_argument("--url", help="SQLAlchemy URL of the bench database (not for `all`)")
        p.add_argument("--scale", type=float, default=0.05)
        p.add_argument("--seed", type=int, default=17)
        p.add_argument("--seconds", type=int, default=60, help="load: seconds per scenario")
        p.add_argument("--users", type=int, default=16, help="load: simulated users")
        p.add_argument("--web-workers", type=int, default=2, help="load: gunicorn workers")
        p.add_argument("--claims", type=int, default=1000)
        p.add_argument("--workers", type=int, default=5, help="claims: delivery workers")
        p.add_argument("--out", type=Path, default=REPO / "bench" / ".work" / "region-results.json")
    args = parser.parse_args(argv)
    results: dict = {}
    if args.command == "all":
        return run_all(args)
    if not args.url:
        parser.error("--url is required")
    if args.command == "generate":
        results["generate"] = generate(args.url, args.scale, args.seed)
    elif args.command == "load":
        from .load import run_load

        results["load"] = run_load(args.url, args.scale, args.seed, args.seconds, args.users, args.web_workers, log)
    elif args.command == "service":
        from .load import service_times

        results["service"] = service_times(args.url, args.seed, log)
    elif args.command == "claims":
        from .claims import run_claims

        results["claims"] = run_claims(args.url, args.claims, args.workers, log)
    write_results(args.out, results)
    print(json.dumps(results, indent=2, default=str))
    return 0


def write_results(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(path.read_text()) if path.is_file() else {}
    previous.update(results)
    path.write_text(json.dumps(previous, indent=2, default=str))


def shared_buffers() -> str:
    """PostgreSQL's page cache as its manual advises for a server of its own: a quarter of the
    memory (128 MB at least, 8 GB at most). The throwaway cluster's default, 128 MB, holds 2 % of
    a region's badges: every employer's first view of a link would read its rows from the OS."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(128, min(8192, memory // 4 // 2**20))}MB"


def run_all(args) -> int:
    import tempfile

    cluster = Path(tempfile.mkdtemp(prefix="wallet-region-pg."))
    script = REPO / "scripts" / "pg_cluster.sh"
    options = f"-c shared_buffers={shared_buffers()}"
    url = subprocess.run([str(script), "start", str(cluster)], check=True, capture_output=True, text=True,
                         env={**os.environ, "PG_CLUSTER_OPTIONS": options}).stdout.strip()
    url = url.rsplit("/", 1)[0] + "/region"
    try:
        results = {"generate": generate(url, args.scale, args.seed)}
        from .load import run_load

        results["load"] = run_load(url, args.scale, args.seed, args.seconds, args.users, args.web_workers, log)
        from .load import service_times

        results["service"] = service_times(url, args.seed, log)
        from .claims import run_claims

        results["claims"] = run_claims(url, args.claims, args.workers, log)
        write_results(args.out, results)
        from .report import render

        print(render(results))
    finally:
        subprocess.run([str(script), "stop", str(cluster)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
