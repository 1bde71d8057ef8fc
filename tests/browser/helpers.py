"""Helpers for browser tests: serving a WSGI app on loopback, accessibility and layout checks.

    with serve(app) as base_url: ...                       # werkzeug on 127.0.0.1:<free port>
    assert_accessible(page)                                # axe-core: no serious/critical violation
    violations = axe_check(page)                           # the same, as data
    assert_no_horizontal_overflow(page)                    # nothing sticks out of a 360 px screen
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import make_server

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
PHONE_WIDTH = 360


@contextmanager
def serve(wsgi_app) -> Iterator[str]:
    """Serve `wsgi_app` on 127.0.0.1 and a free port in a thread; yields the base URL (no slash)."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live_server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _axe_source() -> str:
    if not AXE_JS.is_file():
        raise RuntimeError(
            f"{AXE_JS} is missing: run `make test`, or `npm ci` in tests/browser (axe-core from the lockfile)"
        )
    return AXE_JS.read_text(encoding="utf-8")


_AXE_RUN = """async () => {
    const r = await axe.run(document, {resultTypes: ["violations"]});
    return r.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
    }));
}"""


def axe_check(page, *, impacts: tuple[str, ...] = BLOCKING_IMPACTS, in_place: bool = False) -> list[dict]:
    """Run axe-core on the page and return the violations of the given impacts.

    By default axe runs in a SEPARATE browser context opened with `bypass_csp=True`, so the
    page under test is left untouched and the app's Content-Security-Policy is not loosened. That
    context gets the same cookies (a logged-in page stays logged in), viewport and language, and
    loads `page.url` afresh: state built by clicks (an open menu, a filled form) is not carried
    over, and the URL is requested a second time (mind one-shot links).

    `in_place=True` evaluates axe in `page` itself instead (DevTools evaluation is not subject to
    the CSP): it sees the current state and makes no request, but leaves `window.axe` behind.
    """
    source = _axe_source()
    if in_place:
        page.evaluate(source)
        results = page.evaluate(_AXE_RUN)
    else:
        context = page.context.browser.new_context(
            bypass_csp=True,
            storage_state=page.context.storage_state(),
            viewport=page.viewport_size,
            locale=page.evaluate("navigator.language"),
        )
        try:
            checked = context.new_page()
            checked.goto(page.url, wait_until="load")
            checked.evaluate(source)
            results = checked.evaluate(_AXE_RUN)
        finally:
            context.close()
    return [v for v in results if v["impact"] in impacts]


def format_violations(violations: list[dict]) -> str:
    """A readable report: one block per rule, the offending elements under it."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:10]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            for detail in (node.get("summary") or "").splitlines():
                lines.append(f"        {detail}")
        if len(v["nodes"]) > 10:
            lines.append(f"    … and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(
    page, *, impacts: tuple[str, ...] = BLOCKING_IMPACTS, in_place: bool = False
) -> None:
    """Fail, with a readable report, when axe-core finds a violation of the given impacts
    (see axe_check for `in_place`)."""
    violations = axe_check(page, impacts=impacts, in_place=in_place)
    assert not violations, f"axe-core found on {page.url}:\n" + format_violations(violations)


_OVERFLOW_JS = """(width) => {
    const doc = document.documentElement;
    const describe = (el) => {
        let s = el.tagName.toLowerCase();
        if (el.id) s += "#" + el.id;
        if (typeof el.className === "string" && el.className.trim())
            s += "." + el.className.trim().split(/\\s+/).join(".");
        return s;
    };
    // Content inside a box that scrolls or clips horizontally does not widen the page.
    const clipped = (el) => {
        for (let p = el.parentElement; p && p !== doc && p !== document.body; p = p.parentElement) {
            const ox = getComputedStyle(p).overflowX;
            if (ox === "auto" || ox === "scroll" || ox === "hidden" || ox === "clip") return true;
        }
        return false;
    };
    const offenders = [];
    for (const el of document.body.querySelectorAll("*")) {
        const style = getComputedStyle(el);
        if (style.display === "none" || style.visibility === "hidden") continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        if (r.right > width + 0.5 && !clipped(el))
            offenders.push(describe(el) + " right edge at " + Math.round(r.right) + " px");
    }
    return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, offenders: offenders.slice(0, 20)};
}"""


def assert_no_horizontal_overflow(page, *, width: int = PHONE_WIDTH) -> None:
    """Fail when the page, shown `width` px wide (360 by default, a small phone), scrolls sideways.

    Narrows the viewport first (keeping its height), then checks that the document is no wider
    than the screen and that no visible element's right edge lies beyond it.
    """
    height = (page.viewport_size or {}).get("height", 740)
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
    found = page.evaluate(_OVERFLOW_JS, width)
    problems = []
    if found["scrollWidth"] > found["clientWidth"]:
        problems.append(f"the document is {found['scrollWidth']} px wide for a {found['clientWidth']} px screen")
    problems += found["offenders"]
    assert not problems, f"horizontal overflow at {width} px on {page.url}:\n    " + "\n    ".join(
        problems
    )

