"""The region bench's results as a short text report (printed by `make bench-region`)."""

from __future__ import annotations

TARGETS = {"wallet /badges/": 100.0, "wallet /badges/ (500 badges)": 100.0, "regional /badges-regionaux/": 100.0,
           "regional /badges-regionaux/ (500 badges)": 100.0}


def render(results: dict) -> str:
    lines: list[str] = []
    gen = results.get("generate")
    if gen:
        sizes = gen["sizes"]
        per_badge = sizes["badges"] / max(1, sizes["badge_rows"])
        lines += [f"## Region at scale {gen['scale']} (seed {gen['seed']})", "",
                  (f"generated in {gen['seconds']:.0f} s; database {sizes['database'] / 2**20:.0f} MiB; "
                  f"badges table {sizes['badges'] / 2**20:.0f} MiB = {per_badge / 1024:.1f} KiB per badge "
                  f"(row, TOAST, indexes)"), ""]
    load = results.get("load")
    if load:
        cache = f", PostgreSQL shared_buffers {load['shared_buffers']}" if load.get("shared_buffers") else ""
        lines += [f"## Load ({load['web_workers']} gunicorn workers, scale {load['scale']}{cache})", "",
                  "| page | requests | errors | p50 ms | p95 ms | p99 ms | DB share | target |",
                  "|---|---|---|---|---|---|---|---|"]
        for phase in ("mixed", "healthz", "public", "public_unkept", "crowd"):
            for name, row in sorted(load.get(phase, {"pages": {}})["pages"].items()):
                if name == "Aggregated":
                    continue
                target = TARGETS.get(name)
                verdict = ""
                if target is not None:
                    verdict = f"p95 ≤ {target:.0f}: {'yes' if row['p95_ms'] <= target else 'NO'}"
                share = f"{100 * row['db_share']:.0f} %" if "db_share" in row else "-"
                lines.append(f"| {name} | {row['requests']} | {row['failures']} | {row['p50_ms']:.0f} | "
                             f"{row['p95_ms']:.0f} | {row['p99_ms']:.0f} | {share} | {verdict} |")
        health = load["healthz"]["pages"].get("throughput /healthz", {}).get("rps", 0)
        public = load["public"]["pages"].get("throughput /p/<token>", {})
        if health:
            ratio = public.get("rps", 0) / health
            lines += ["", (f"public page throughput {public.get('rps', 0):.0f}/s = {100 * ratio:.0f} % of /healthz "
                      f"({health:.0f}/s; target ≥ 50 %), public p99 {public.get('p99_ms', 0):.0f} ms (target ≤ 50)")]
            unkept = load.get("public_unkept", {"pages": {}})["pages"].get("throughput /p/<token> (page not kept)")
            if unkept:
                lines.append(f"public pages not kept (rendered on the visit): {unkept['rps']:.0f}/s = "
                             f"{100 * unkept['rps'] / health:.0f} % of /healthz, p99 {unkept['p99_ms']:.0f} ms")
            crowd = load.get("crowd", {"pages": {}})["pages"].get("crowd /p/<token>")
            if crowd:
                lines.append(f"one link opened by a crowd: {crowd['rps']:.0f}/s = {100 * crowd['rps'] / health:.0f} % "
                             f"of /healthz, p99 {crowd['p99_ms']:.0f} ms")
        lines += ["", "Heaviest statements (total time in the run):"]
        for q in load.get("heaviest_queries", []):
            execution = next((p for p in q["plan"] if p.startswith("Execution Time")), q["plan"][0][:80])
            lines.append(f"- {q['calls']} calls, {q['mean_ms']} ms mean as the app saw it; {execution}: {q['sql'][:140]}")
    service = results.get("service")
    if service:
        lines += ["", "## Service time per page, one request at a time (wall ms / app CPU ms, median)", ""]
        lines += [f"- {name}: {row['median_ms']} / {row['cpu_median_ms']} (≈ {row['per_core_per_s']}/s per core)"
                  for name, row in service.items()]
    claims = results.get("claims")
    if claims:
        lines += ["", f"## Claims: {claims['claims']} claims, {claims['workers']} workers, flaky issuer", "",
                  (f"issued {claims['issued']}, awards at the issuer {claims['awards']}, awarded twice "
                  f"{claims['awarded_twice']}, dead {claims['dead']}, imported and valid {claims['imported_valid']}; "
                  f"issuer answers {claims['issuer_answers']}, lookups {claims['lookups']}; "
                  f"{claims['seconds']:.0f} s wall clock ({claims['simulated']} simulated)")]
    return "\n".join(lines)
