"""Bench case of the issue "The learner's phone app, second pass": the weight of the main pages.

What a phone downloads on its FIRST visit to each page (cold cache: a new browser context each
time, the signed-in person's cookies copied in): the HTML, stylesheets, scripts and images, as
Chromium counts them on the wire (`encodedDataLength` of every response, headers included), on a
360×640 phone. Target: under 60 KB per page (issue 15), with no request to anyone but the wallet.

- data: seeded with the app's own services in a separate process (`python -m
  bench.cases_page_weight seed`): a learner with three verified OB 3.0 badges and a share link;
- server: gunicorn on loopback (as in bench/cases_share.py), no compression (a reverse proxy that
  gzips makes every page lighter still);
- what the service worker fetches when it installs (once per phone, in the background, after the
  first page has loaded) is reported beside, not counted in a page.

Run alone: `.venv/bin/python -m bench.cases_page_weight` (prints the rows; no reference tools).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .context import APP_PYTHON, REPO_ROOT, Bench
from .pipe import stop_process
from .registry import Cell, Row, below, case

TARGET_KB = 60
PASSWORD = "un cheval bleu mange des pommes"
PHONE = {"width": 360, "height": 640}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]


def pages(seeded: dict) -> list[tuple[str, str, bool]]:
    """(label, path, signed in) of the main pages."""
    return [
        ("home (visitor)", "/", False),
        ("login", "/connexion", False),
        ("learner: home", "/tableau-de-bord", True),
        ("learner: my badges (3)", "/badges/", True),
        ("learner: one badge", f"/badges/{seeded['badge_id']}", True),
        ("learner: regional badges (9)", "/badges-regionaux/", True),
        ("learner: my shares", "/partages/", True),
        ("learner: a share, link and QR code", f"/partages/{seeded['share_id']}/lien", True),
        ("employer: shared badge", f"/p/{seeded['token']}", False),
    ]


def _kind(mime: str) -> str:
    for prefix, kind in (("text/html", "html"), ("text/css", "css"), ("javascript", "js"), ("image/", "img")):
        if prefix in mime:
            return kind
    return "other"


def measure(base: str, seeded: dict) -> list[dict]:
    """One dict per page: bytes in total and by kind, requests, third-party requests."""
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            device = dict(playwright.devices["Pixel 5"], viewport=dict(PHONE), screen=dict(PHONE))
            signed_in = _sign_in(browser, device, base, seeded)
            for label, path, needs_login in pages(seeded):
                context = browser.new_context(**device, locale="fr-FR",
                                              storage_state=signed_in if needs_login else None)
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                mimes: dict[str, str] = {}
                urls: dict[str, str] = {}
                sizes: dict[str, int] = {}
                cdp.on("Network.requestWillBeSent", lambda e, urls=urls: urls.__setitem__(e["requestId"],
                                                                                          e["request"]["url"]))
                cdp.on("Network.responseReceived", lambda e, mimes=mimes: mimes.__setitem__(
                    e["requestId"], e["response"].get("mimeType", "")))
                cdp.on("Network.loadingFinished", lambda e, sizes=sizes: sizes.__setitem__(
                    e["requestId"], int(e["encodedDataLength"])))
                answer = page.goto(base + path, wait_until="load")
                page.wait_for_load_state("networkidle")
                if answer is None or answer.status != 200:
                    raise RuntimeError(f"{path}: {answer.status if answer else 'no answer'}")
                by_kind: dict[str, int] = {}
                for request_id, size in sizes.items():
                    kind = _kind(mimes.get(request_id, ""))
                    by_kind[kind] = by_kind.get(kind, 0) + size
                outside = [u for u in urls.values() if not u.startswith((base + "/", "data:"))]
                results.append({"label": label, "path": path, "bytes": sum(sizes.values()), "kinds": by_kind,
                                "requests": len(sizes), "outside": outside})
                context.close()
            results.append({"label": "service worker install", "bytes": _worker_install(browser, device, base,
                                                                                         signed_in)})
        finally:
            browser.close()
    return results


def _sign_in(browser, device: dict, base: str, seeded: dict) -> dict:
    """Cookies of a signed-in learner whose session still holds the share link to show once."""
    context = browser.new_context(**device, locale="fr-FR", service_workers="block")
    page = context.new_page()
    page.goto(base + "/connexion")
    page.get_by_label("Adresse e-mail").fill(seeded["email"])
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/tableau-de-bord")
    page.goto(base + f"/partages/nouveau?badge={seeded['badge_id']}")
    token = page.locator("input[name=csrf_token]").first.input_value()
    answer = page.request.post(base + "/partages/nouveau", max_redirects=0,
                               form={"csrf_token": token, "badge": str(seeded["badge_id"]), "expiry": "30j"})
    if answer.status != 302:
        raise RuntimeError(f"share not created: {answer.status}")
    seeded["share_id"] = int(re.search(r"/partages/(\d+)/lien", answer.headers["location"]).group(1))
    state = context.storage_state()
    context.close()
    return state


def _worker_install(browser, device: dict, base: str, signed_in: dict) -> int:
    """Bytes the service worker fetches when it installs: its script and the shell it keeps (the
    list its script names), bodies only."""
    context = browser.new_context(**device, locale="fr-FR", storage_state=signed_in)
    try:
        script = context.request.get(base + "/sw.js")
        config = json.loads(re.search(r"const CONFIG = (\{.*?\});\n", script.text()).group(1))
        return len(script.body()) + sum(len(context.request.get(base + url).body()) for url in config["shell"])
    finally:
        context.close()


@case("page-weight", "transferred weight of the main pages, first visit on a phone")
def page_weight(bench: Bench | None = None):
    from .cases_share import _env, _free_port, _wait_ready

    workdir = Path(tempfile.mkdtemp(prefix="wallet-bench-weight-"))
    proc = None
    try:
        port = _free_port()
        env = _env(workdir, port)
        seeded = subprocess.run([str(APP_PYTHON), "-m", "bench.cases_page_weight", "seed"], check=False,
                                cwd=REPO_ROOT, env={**env, "WALLET_MAIL_SEND_INLINE": "1"}, capture_output=True, text=True, timeout=300)
        if seeded.returncode != 0:
            raise RuntimeError("seeding failed: " + seeded.stderr[-500:])
        data = json.loads(seeded.stdout.strip().splitlines()[-1])
        gunicorn = str(Path(APP_PYTHON).parent / "gunicorn")
        proc = subprocess.Popen([gunicorn, "-w", "1", "-k", "gthread", "--threads", "4", "-b", f"127.0.0.1:{port}",
                                 "--log-level", "warning", "wsgi:app"], cwd=REPO_ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base + "/healthz", proc)
        results = measure(base, data)
    except Exception as exc:  # noqa: BLE001 - reported in the table
        yield Row("page weight, first visit", Cell.failed(f"{type(exc).__name__}: {exc}"), Cell.none(),
                  f"< {TARGET_KB} KB")
        return
    finally:
        if proc is not None:
            stop_process(proc)
        shutil.rmtree(workdir, ignore_errors=True)

    install = results.pop()
    for result in results:
        kinds = ", ".join(f"{kind} {size / 1024:.1f}" for kind, size in sorted(result["kinds"].items()))
        note = f"{result['requests']} requests ({kinds} KB)"
        if result["outside"]:
            note += f"; THIRD-PARTY: {', '.join(result['outside'])}"
        kb = round(result["bytes"] / 1024, 1)
        ok = below(TARGET_KB)
        yield Row(f"page weight — {result['label']}", Cell(kb, "KB"), Cell.none(), f"< {TARGET_KB} KB, 0 third-party",
                  lambda ours, ref, ok=ok, outside=result["outside"]: ok(ours, ref) and not outside, (note,))
    yield Row("service worker install (once per phone)", Cell(round(install["bytes"] / 1024, 1), "KB"), Cell.none(),
              "—", notes=("its script and the shell it keeps: stylesheets, scripts, logo, offline page (fr, en)",))


# --- seeding (a separate process, env from cases_share._env) ---------------------------------------

def _seed() -> None:
    import random

    from bench import fixtures
    from wallet import create_app
    from wallet.db import Base, engine, new_session
    from wallet.mail import outbox
    from wallet.models import User
    from wallet.services import accounts
    from wallet.services import badges as badge_service

    app = create_app()
    with app.app_context():
        Base.metadata.create_all(engine())
        with app.test_request_context(), new_session(app) as session:
            registered = accounts.register(session, "Ana Martin", fixtures.RECIPIENT, PASSWORD)
            link = re.search(r"https?://\S+", outbox(app)[-1].body).group(0)
            accounts.confirm_email(session, link.rstrip("/").rsplit("/", 1)[1])
            user = session.get(User, registered.user_id)
            ids = []
            for seed in (7, 8, 9):
                credential = fixtures.ob3_did_key_credential(random.Random(seed))
                item = badge_service.import_text(session, user, json.dumps(credential), app.extensions["wallet_http"])
                if item.outcome != "imported":
                    raise SystemExit(f"import failed: {item}")
                ids.append(item.badge_id)
            from wallet.services import sharing

            _share, token = sharing.create_share(session, user, [ids[0]])
    print(json.dumps({"email": fixtures.RECIPIENT, "badge_id": ids[0], "token": token}))


def _main() -> None:
    from .table import render

    print(render(list(page_weight(None))))


if __name__ == "__main__":
    if sys.argv[1:] == ["seed"]:
        _seed()
    else:
        _main()
