"""Browser tests: Debian's Chromium driven by Playwright (pytest-playwright), against the app
served on loopback.

Every test under tests/browser/ is marked `browser`. Chromium is /usr/bin/chromium (`make test`
installs it as root; never `playwright install`). Fixtures:

- `live_server`: the base URL of the `app` fixture (tests/conftest.py) served by werkzeug on
  127.0.0.1 and a free port; a test module may override `app` to serve something else.
- `phone`: a browser context for a learner's phone (Pixel 5, French); `phone.new_page()`.
- `phone360`: a small phone (Pixel 5 narrowed to 360×640, French).
- `desktop`: a browser context for a desktop screen (1280×800, French).
- `partner`, `badgr`: the partner backpacks on loopback (tests/service/partner_fixtures.py).
- pytest-playwright's own `page`, `context`, `new_context`, `browser` work too.

Helpers (axe-core, horizontal overflow) are in tests/browser/helpers.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.app_shell_helpers import small_phone
from tests.browser.helpers import serve
from tests.service.partner_fixtures import badgr, partner  # noqa: F401 (fixtures)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # we run as root in CI, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Names other than localhost resolve to nothing: a page that reaches for an outside host
    # fails instead of leaking traffic (127.0.0.1 and localhost are left alone).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (make test does it as root)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def live_server(app):
    """Base URL (no trailing slash) of `app` served on 127.0.0.1; stopped after the test."""
    with serve(app) as base_url:
        yield base_url


@pytest.fixture
def phone(new_context, playwright):
    """A Pixel 5 (393×727, touch, mobile Chrome user agent) set to French."""
    return new_context(**playwright.devices["Pixel 5"], locale="fr-FR", timezone_id="Europe/Paris")


@pytest.fixture
def phone360(new_context, playwright):
    """A small phone: a Pixel 5 narrowed to 360×640, French, Paris time (app_shell_helpers.small_phone)."""
    return new_context(**small_phone(playwright))


@pytest.fixture
def desktop(new_context):
    return new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR", timezone_id="Europe/Paris")
