"""A learner's badges imported through the import page, as a person does it (tests/browser/
app_shell_helpers.py seeds them through the services instead, when the import is not the point).

    page = signed_in_learner(phone, live_server, outbox)        # Ana Martin, signed up and in
    import_aligned_badges(page, live_server, one)               # Communication 1 and 2, pasted
    upload_baked_badge(page, live_server, baked_file(tmp_path, factory, host))
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_accounts_flow import log_in, register_and_confirm
from tests.web.test_regional import aligned_assertion


def signed_in_learner(context, base: str, outbox):
    """A new page of `context` on which Ana Martin has signed up, confirmed her address and logged in."""
    page = context.new_page()
    register_and_confirm(page, base, outbox)
    log_in(page, base)
    return page


def import_aligned_badges(page, base: str, server, numbers=(1, 2), *, level: int = 1) -> None:
    """Paste `server`'s assertions `numbers` (aligned to Communiquer at `level`: see
    tests/web/test_regional.py) one at a time, each shown « Importé »."""
    for number in numbers:
        page.goto(base + "/badges/importer")
        page.get_by_label("Ou le texte d'un badge").fill(aligned_assertion(server, number, level=level))
        page.get_by_role("button", name="Importer et vérifier").click()
        expect(page.get_by_text("Importé", exact=True)).to_be_visible()


def upload_baked_badge(page, base: str, path) -> None:
    """Send the baked image at `path` from the import page."""
    page.goto(base + "/badges/importer")
    page.get_by_label("Des images de badges").set_input_files(str(path))
    page.get_by_role("button", name="Importer et vérifier").click()
