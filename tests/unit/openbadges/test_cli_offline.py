"""`wallet verify | unbake | bake`: exit codes, --json shape, --lang, round trips (DESIGN.md §4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.badges import RECIPIENT, BadgeFactory, plain_png, plain_svg
from wallet.cli import main

ROOT = Path(__file__).resolve().parents[3]
REAL_NOW = datetime.now(UTC)  # the CLI checks against the real clock


@pytest.fixture
def factory(fake_server):
    return BadgeFactory(fake_server, now=REAL_NOW)


def write(tmp_path: Path, name: str, data: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def test_valid_badge_exits_0_with_the_verdict_json(factory, tmp_path, capsys):
    source = write(tmp_path, "badge.json", factory.ob3_di().text)
    assert main(["verify", source, "--json", "--recipient", "x@example.org", "--recipient", RECIPIENT]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "valid" and data["valid"] is True
    assert data["recipient"]["matched"] is True
    assert data["checks"][0]["message"].startswith("Badge lu")


def test_any_other_verdict_exits_1(factory, tmp_path, capsys):
    source = write(tmp_path, "badge.json", factory.ob3_di(valid_until=REAL_NOW - timedelta(days=1)).text)
    assert main(["verify", source]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Badge expiré"


def test_wrong_recipient_still_exits_0(factory, tmp_path, capsys):
    source = write(tmp_path, "badge.json", factory.ob3_di().text)
    assert main(["verify", source, "--recipient", "bob@example.org", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["recipient"]["matched"] is False


def test_lang_en(factory, tmp_path, capsys):
    source = write(tmp_path, "badge.json", factory.ob3_di().text)
    assert main(["verify", source, "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Authentic and valid badge"
    assert "The badge's signature is valid." in out


@pytest.mark.parametrize("data, code", [(plain_png(), "no_badge"), (b"GIF89a....", "not_an_image"),
                                        (b"hello", "not_a_badge")])
def test_not_a_badge_exits_2_with_one_line_on_stderr(tmp_path, capsys, data, code):
    source = write(tmp_path, "file.bin", data)
    assert main(["verify", source, "--json", "--lang", "en"]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1
    error = json.loads(captured.out)
    assert set(error) == {"status", "error", "message"}
    assert error["status"] == "error" and error["error"] == code and error["message"]


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["verify", str(tmp_path / "nope.png")]) == 2
    assert capsys.readouterr().out == ""


def test_hosted_url_through_safehttp(factory, monkeypatch, capsys):
    hosted = factory.ob2_hosted()
    monkeypatch.setenv("WALLET_FETCH_ALLOW", factory.server.authority)
    assert main(["verify", hosted.url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == hosted.url


def test_url_not_allowed_is_unverifiable(factory, monkeypatch, capsys):
    hosted = factory.ob2_hosted()
    monkeypatch.delenv("WALLET_FETCH_ALLOW", raising=False)
    assert main(["verify", hosted.url, "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "unverifiable"
    assert factory.server.hits["/assertions/1"] == 0


@pytest.mark.parametrize("image", [plain_png, plain_svg], ids=["png", "svg"])
def test_bake_then_unbake_round_trip(factory, tmp_path, capsys, image):
    payload = factory.ob3_di().text
    image_path = write(tmp_path, "in." + image.__name__[-3:], image())
    payload_path = write(tmp_path, "payload.json", payload)
    out = str(tmp_path / ("out." + image.__name__[-3:]))
    assert main(["bake", image_path, payload_path, "-o", out]) == 0
    capsys.readouterr()
    assert main(["unbake", out]) == 0
    assert capsys.readouterr().out == payload
    assert main(["verify", out]) == 0


def test_unbake_without_badge_exits_2(tmp_path, capsys):
    assert main(["unbake", write(tmp_path, "plain.png", plain_png())]) == 2
    assert capsys.readouterr().out == ""


def test_bake_refuses_a_non_image(tmp_path):
    payload = write(tmp_path, "p.json", "{}")
    assert main(["bake", write(tmp_path, "x.gif", b"GIF89a...."), payload, "-o", str(tmp_path / "o")]) == 2


def test_usage_error_exits_2(capsys):
    assert main(["verify"]) == 2


def test_offline_commands_do_not_import_flask(factory, tmp_path):
    source = write(tmp_path, "badge.json", factory.ob3_di().text)
    code = (f"import sys; from wallet.cli import main; rc = main(['verify', {source!r}]); "
            "print(rc, 'flask' in sys.modules, 'sqlalchemy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "0 False False", result.stderr


# The driver records who imports `requests` or the CLI's own network stack (wallet.http, SafeHttp):
# neither may be imported for a badge that needs no fetch (pyld, which would import requests for its
# default document loader, is imported without it: wallet/openbadges/pyld_import.py `pyld`).
IMPORT_SPY = """
import json, sys, traceback
stacks = {}
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name in ("requests", "wallet.http") and name not in stacks:
            stacks[name] = [frame.filename for frame in traceback.extract_stack()]
        return None
sys.meta_path.insert(0, Spy())
from wallet.cli import main
rc = main(["verify", sys.argv[1]])
print(json.dumps({"rc": rc, "modules": sorted(m for m in ("wallet.http", "requests") if m in sys.modules),
                  "stacks": stacks}))
"""


def test_offline_verify_does_not_import_the_network_stack(factory, tmp_path):
    source = write(tmp_path, "badge.json", factory.ob3_di().text)  # did:key issuer, Data Integrity
    env = {k: v for k, v in os.environ.items() if k != "WALLET_FETCH_ALLOW"}
    result = subprocess.run([sys.executable, "-c", IMPORT_SPY, source], check=False, cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["rc"] == 0, result.stderr
    assert "wallet.http" not in report["modules"]
    assert "wallet.http" not in report["stacks"]
    assert "requests" not in report["modules"], report["stacks"].get("requests")


def test_network_fetcher_builds_safehttp_on_the_first_fetch_only():
    code = ("import sys\n"
            "from wallet.cli.offline import network_fetcher\n"
            "from wallet.openbadges.errors import FetchError\n"
            "fetch = network_fetcher()\n"
            "before = 'wallet.http' in sys.modules\n"
            "try:\n"
            "    fetch('https://10.1.2.3/assertion', 'application/json')\n"
            "    reason = 'fetched'\n"
            "except FetchError as exc:\n"
            "    reason = exc.reason\n"
            "print(before, 'wallet.http' in sys.modules, reason)\n")
    env = {k: v for k, v in os.environ.items() if k != "WALLET_FETCH_ALLOW"}
    result = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    # Not imported until the first call; then SafeHttp refuses a private address without connecting.
    assert result.stdout.strip().splitlines()[-1] == "False True blocked", result.stderr
