"""`wallet referential check` and `wallet eligibility` (offline commands, DESIGN.md §4)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.badges import BadgeFactory, ed_key
from wallet.cli import main
from wallet.eligibility import default_referential_path

BASE = "https://wallet.example"
REPO = Path(__file__).resolve().parents[3]
TARGET = f"{BASE}/referentials/normandie/competences/communiquer/niveau-1"


@pytest.fixture
def factory(fake_server):
    return BadgeFactory(fake_server)


def signed_badge(factory: BadgeFactory, key_name: str, number: int, path: Path, aligned: bool = True) -> dict:
    """An OB 3.0 credential signed with eddsa-rdfc-2022 by a did:key issuer: verified offline."""
    key = ed_key(key_name)
    did, vm = factory.did_key_issuer(key)
    credential = factory.achievement_credential({"id": did, "type": ["Profile"], "name": f"Partenaire {key_name}"})
    credential["id"] = f"urn:uuid:00000000-0000-4000-8000-{number:012d}"
    achievement = credential["credentialSubject"]["achievement"]
    achievement["id"] = f"https://{key_name}.example/achievements/{number}"
    if aligned:
        achievement["alignment"] = [{"type": ["Alignment"], "targetName": "Communiquer", "targetUrl": TARGET}]
    signed = factory.sign_di(credential, key, vm)
    path.write_text(json.dumps(signed), encoding="utf-8")
    return {"id": credential["id"], "did": did, "path": str(path)}


def referential_with(path, *partners: tuple[str, str, str]) -> str:
    """The packaged referential plus `partners` (key, name, issuer id), written to `path`."""
    tables = "".join(f'''
[[partners]]
key = "{key}"
name = "{name}"
issuer_ids = ["{issuer_id}"]
''' for key, name, issuer_id in partners)
    path.write_text(default_referential_path().read_text(encoding="utf-8") + tables, encoding="utf-8")
    return str(path)


@pytest.fixture
def setup(factory, tmp_path):
    one = signed_badge(factory, "p1", 1, tmp_path / "one.json")
    two = signed_badge(factory, "p2", 2, tmp_path / "two.json")
    stranger = signed_badge(factory, "p3", 3, tmp_path / "three.json")
    referential = referential_with(tmp_path / "referential.toml", ("partenaire-un", "Partenaire un", one["did"]),
                                   ("partenaire-deux", "Partenaire deux", two["did"]))
    return {"one": one, "two": two, "stranger": stranger, "referential": referential, "dir": tmp_path}


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --- wallet referential check ----------------------------------------------------------------------

def test_referential_check_of_the_packaged_file(capsys):
    code, out, _ = run(["referential", "check", str(default_referential_path())], capsys)
    assert code == 0
    assert out.startswith("OK") and "9 badges régionaux" in out


def test_referential_check_reports_file_line_path_and_message(tmp_path, capsys):
    source = default_referential_path().read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(source.replace('"s-integrer-2"] }', '"s-integrer-2", "general"] }'), encoding="utf-8")
    line = next(n for n, text in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if '"general"] }' in text)
    code, out, _ = run(["referential", "check", str(bad)], capsys)
    assert code == 1
    assert out.splitlines() == [
        (f"{bad}:{line}: badges[8].rule.of: cycle entre règles composées : general → general / "
         "cycle among composite rules: general → general")]


def test_referential_check_without_a_file_is_a_usage_error(capsys):
    assert run(["referential", "check"], capsys)[0] == 2


# --- wallet eligibility ------------------------------------------------------------------------------

def test_eligibility_json_lists_every_regional_badge(setup, capsys):
    code, out, _ = run(["eligibility", setup["one"]["path"], setup["two"]["path"], setup["stranger"]["path"],
                        "--recipient", "ana@example.org", "--referential", setup["referential"],
                        "--base-url", BASE, "--json"], capsys)
    assert code == 0
    items = json.loads(out)
    assert len(items) == 9
    assert all(set(item) == {"id", "name", "state", "progress", "counted", "not_counted"} for item in items)
    com1 = next(item for item in items if item["id"] == f"{BASE}/issuers/region/badges/communiquer-1")
    assert com1["name"] == "Communiquer — Je pratique"
    assert com1["state"] == "eligible"
    assert sorted(com1["counted"]) == sorted([setup["one"]["id"], setup["two"]["id"]])
    assert com1["not_counted"] == [{"id": setup["stranger"]["id"], "reason": "not_a_partner"}]
    assert com1["progress"] == {"have": 2, "need": 2, "partners_have": 2, "partners_need": 1}


def test_eligibility_of_someone_else_s_badges(setup, capsys):
    code, out, _ = run(["eligibility", setup["one"]["path"], "--recipient", "bob@example.org",
                        "--referential", setup["referential"], "--base-url", BASE, "--json"], capsys)
    assert code == 0
    com1 = json.loads(out)[4]
    assert com1["state"] == "not_started"
    assert com1["not_counted"] == [{"id": setup["one"]["id"], "reason": "not_matched"}]


def test_eligibility_text_summary_in_french(setup, capsys):
    code, out, _ = run(["eligibility", setup["one"]["path"], "--recipient", "ana@example.org",
                        "--referential", setup["referential"], "--base-url", BASE], capsys)
    assert code == 0
    assert "Communiquer — Je pratique : en cours (1/2)" in out
    assert "Il manque 1 badge(s) de partenaire en « Communiquer »" in out


def test_eligibility_with_a_bad_referential_exits_2(setup, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[referential]\nid = \n", encoding="utf-8")
    code, _, err = run(["eligibility", setup["one"]["path"], "--recipient", "ana@example.org",
                        "--referential", str(bad)], capsys)
    assert code == 2
    assert f"{bad}:2:" in err


@pytest.mark.parametrize("content", [None, b"this is not a badge"])
def test_eligibility_with_an_unreadable_input_exits_2(setup, tmp_path, capsys, content):
    source = tmp_path / "input.json"
    if content is not None:
        source.write_bytes(content)
    code, out, err = run(["eligibility", setup["one"]["path"], str(source), "--recipient", "ana@example.org",
                          "--json"], capsys)
    assert code == 2
    assert str(source) in err
    assert json.loads(out)["status"] == "error"


def test_eligibility_needs_a_recipient(setup, capsys):
    assert run(["eligibility", setup["one"]["path"]], capsys)[0] == 2


def test_offline_commands_do_not_import_flask(setup):
    script = ("import sys; from wallet.cli import main; "
              f"code = main(['eligibility', {setup['one']['path']!r}, '--recipient', 'ana@example.org', '--json']); "
              f"code2 = main(['referential', 'check', {str(default_referential_path())!r}]); "
              "assert code == 0 and code2 == 0, (code, code2); "
              "assert 'flask' not in sys.modules and 'sqlalchemy' not in sys.modules, 'flask imported'")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr


def test_eligibility_of_a_hosted_badge_fetched_through_safehttp(factory, tmp_path, monkeypatch, capsys):
    hosted = factory.ob2_hosted(badge_extra={"alignment": [
        {"targetName": "Communiquer", "targetUrl": TARGET.replace("niveau-1", "niveau-2")}]})
    referential = referential_with(tmp_path / "referential.toml",
                                   ("organisme", "Organisme Formation", hosted.issuer["id"]))
    monkeypatch.setenv("WALLET_FETCH_ALLOW", factory.server.authority)
    code, out, err = run(["eligibility", hosted.url, "--recipient", "ana@example.org", "--referential",
                          referential, "--base-url", BASE, "--json"], capsys)
    assert code == 0, err
    items = {item["id"].rsplit("/", 1)[-1]: item for item in json.loads(out)}
    assert items["communiquer-1"]["counted"] == [hosted.url]
    assert items["communiquer-2"]["counted"] == [hosted.url]
    assert items["communiquer-2"]["progress"] == {"have": 1, "need": 4, "partners_have": 1, "partners_need": 2}
    assert items["communiquer-2"]["state"] == "in_progress"


def test_eligibility_of_a_url_not_allowed_is_not_valid(factory, tmp_path, monkeypatch, capsys):
    """Without WALLET_FETCH_ALLOW, SafeHttp refuses http on loopback: the badge is unverifiable."""
    hosted = factory.ob2_hosted()
    monkeypatch.delenv("WALLET_FETCH_ALLOW", raising=False)
    code, out, _ = run(["eligibility", hosted.url, "--recipient", "ana@example.org", "--json"], capsys)
    assert code == 0
    items = json.loads(out)
    assert all(item["counted"] == [] for item in items)
    assert items[0]["not_counted"] == [{"id": hosted.url, "reason": "not_valid"}]
