"""Shared by the app-shell browser tests (Region identity, installable app, print, every page):
a small phone (360×640) with and without JavaScript, and people seeded through the app's own
services (faster than the sign-up journey, which tests/browser/test_accounts_flow.py walks).

    context = new_context(**small_phone(playwright))               # JavaScript on
    context = new_context(**small_phone(playwright, js=False))     # JavaScript off
    ana = seed_learner(app, factory, host)                        # confirmed, one badge, one share
    log_in(page, live_server, ana.email)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from tests.web.accounts_helpers import PASSWORD

SMALL_PHONE = {"width": 360, "height": 640}


def small_phone(playwright, *, js: bool = True) -> dict:
    """new_context() arguments: a Pixel 5 narrowed to 360×640, French, Paris time."""
    device = dict(playwright.devices["Pixel 5"])
    device.update(viewport=dict(SMALL_PHONE), screen=dict(SMALL_PHONE))
    return {**device, "locale": "fr-FR", "timezone_id": "Europe/Paris", "java_script_enabled": js}


@dataclass
class Seeded:
    user_id: int
    email: str
    badge_ids: list[int]
    share_token: str | None
    share_id: int | None


def seed_learner(app, factory=None, host=None, *, email: str = "ana@example.org", name: str = "Ana Martin",
                 badges: int = 1, share: bool = True, role: str = "learner") -> Seeded:
    """A confirmed account; with `factory`/`host`, `badges` verified hosted badges and a share link
    of the first one. `role` may be counsellor or admin."""
    from tests.web.test_badges import png_image
    from wallet.db import new_session
    from wallet.mail import outbox
    from wallet.models import User
    from wallet.services import accounts, sharing
    from wallet.services import badges as badge_service

    with app.test_request_context(), new_session(app) as session:
        registered = accounts.register(session, name, email, PASSWORD)
        link = re.search(r"https?://\S+", outbox(app)[-1].body).group(0)
        accounts.confirm_email(session, link.rstrip("/").rsplit("/", 1)[1])
        user = session.get(User, registered.user_id)
        if role != "learner":
            user.role = role
            session.commit()
        ids: list[int] = []
        if factory is not None:
            host.route("/badges/1/image.png", png_image(), content_type="image/png")
            for number in range(1, badges + 1):
                hosted = factory.ob2_hosted(path=f"/assertions/{email}/{number}",
                                            recipient=factory.recipient(email))
                item = badge_service.import_text(session, user, json.dumps(hosted.assertion),
                                                 app.extensions["wallet_http"])
                assert item.outcome == "imported", item
                ids.append(item.badge_id)
        token = share_id = None
        if share and ids:
            made, token = sharing.create_share(session, user, [ids[0]], label="Pour la boulangerie Dupont")
            share_id = made.id
        return Seeded(registered.user_id, email, ids, token, share_id)


def log_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base + "/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    assert "/connexion" not in page.url, "login failed"


def worker_ready(page) -> None:
    """Wait until the service worker is active and controls the page."""
    page.evaluate("""() => navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller
        ? true : new Promise(r => navigator.serviceWorker.addEventListener("controllerchange", () => r(true))))""")


KEPT_JS = """async () => {
    const names = await caches.keys();
    if (!names.includes("wallet-pages")) return [];
    const cache = await caches.open("wallet-pages");
    return (await cache.keys()).map(r => new URL(r.url).pathname + new URL(r.url).search)
        .filter(p => p !== "/__wallet-offline-owner").sort();
}"""


def kept_pages(page) -> list[str]:
    """Paths the service worker keeps for offline reading (its account cache)."""
    return page.evaluate(KEPT_JS)
