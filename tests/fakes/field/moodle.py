"""A Moodle 4.5 site issuing Open Badges 2.0, on a real loopback server, with Moodle's URL layout.

    with FakeServer() as server:
        site = MoodleSite(server)                       # wwwroot = server.origin
        badge = site.create_badge("Communiquer à l'oral")
        issued = site.award(badge, "ana@example.org")   # → MoodleIssued(hash, assertion_url, …)
        site.baked_png(issued)                          # the PNG Moodle lets the learner download
        site.revoke(issued)                             # assertion.php now answers 410 Gone

What it speaks follows Moodle's own code of the 4.x generation (the last before the 5.1 exporter
rewrite), read in the file index — never copied (tests/fakes/README.md names the files):

- `/badges/assertion.php?b=<hash>&obversion=2` → 200 `application/json`, the Assertion built by
  `core_badges_assertion::get_badge_assertion()`: keys in PHP insertion order (`recipient`,
  `badge`, `verify`, `issuedOn`, `evidence`, `expires`, then `@context`, `type`, `id`), the
  aliases `verify: {type: "hosted", url}`, a `sha256$` email hash salted with the site's
  `badges_badgesalt` ("badges" + a Unix time), dates from PHP `date('c')` in the site's time zone
  (`+01:00` / `+02:00`), the BadgeClass EMBEDDED (its `image` a `data:image/png;base64,` URI of
  f3.png, `criteria` `{id: badge.php?hash=…, narrative}`, `alignments` — plural, as Moodle writes
  it) and inside it the Issuer EMBEDDED (id `issuer_json.php?id=<badge id>`).
- the same with `&action=1` / `&action=0`: the BadgeClass / the Issuer alone.
- a hash that is not (or no longer) issued → **410 Gone**, body `{"id": assertion.php?b=<hash>,
  "revoked": true}` (no `&obversion=2`), echoed before Moodle's JSON header (so `text/html`).
- `/badges/badge_json.php?id=N` → the BadgeClass as `badge_json.php` builds it (image `{id:
  pluginfile URL}`, criteria id `badgeclass.php?id=N`, `tags`, `alignments`); `&action=0` → the
  issuer; an inactive badge → 410 with `{id, error}`.
- `/badges/issuer_json.php?id=N` → `badge::get_badge_issuer()`: name, url, email, @context, id, type.
- Bodies are PHP `json_encode()` output: compact, `\\/` and `\\uXXXX` escapes.
- Baked PNG (`badges_bake()`): one iTXt chunk, keyword `openbadges`, holding `json_encode()` of
  the whole assertion, inserted just before IEND (`png_metadata_handler::add_chunks`).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request, Response

from tests.fakes.field.common import badge_png, bake_before_iend, php_json_encode
from tests.fakes.server import FakeServer

OB2_CONTEXT = "https://w3id.org/openbadges/v2"  # OPEN_BADGES_V2_CONTEXT
JSON_HEADER = "application/json; charset=utf-8"   # core_renderer_ajax::header()
PHP_DEFAULT = "text/html; charset=UTF-8"          # what PHP sends when nothing set a header
NO_BADGE = "There is no public badge with this ID."


@dataclass
class MoodleBadge:
    id: int
    name: str
    description: str
    criteria: str                       # the Markdown narrative markdown_badge_criteria() gives
    issuer_name: str
    issuer_url: str
    issuer_contact: str
    image: bytes                        # f3.png, the size Moodle embeds and bakes
    context_id: int = 1                 # system context (site badges)
    version: str = ""
    language: str = "fr"
    tags: tuple[str, ...] = ()
    alignments: tuple[dict, ...] = ()
    active: bool = True


@dataclass
class MoodleIssued:
    hash: str
    badge: MoodleBadge
    email: str
    dateissued: int
    dateexpire: int | None
    site: MoodleSite = field(repr=False)

    @property
    def assertion_url(self) -> str:
        return self.site.assertion_url(self.hash)

    @property
    def assertion(self) -> dict:
        return self.site.assertion_json(self)

    @property
    def text(self) -> str:
        """The assertion exactly as assertion.php prints it (what a learner would paste)."""
        return php_json_encode(self.assertion)


class MoodleSite:
    """A Moodle 4.5 site (wwwroot = the server's origin) that issues badges to learners."""

    def __init__(self, server: FakeServer, *, now: datetime | None = None, timezone: str = "Europe/Paris",
                 salt: str | None = None, site_name: str = "GRETA Normandie — Moodle") -> None:
        self.server = server
        self.now = now or datetime.now(UTC)
        self.tz = ZoneInfo(timezone)
        # $CFG->badges_badgesalt defaults to 'badges' . $SITE->timecreated.
        self.salt = salt or f"badges{int((self.now - timedelta(days=400)).timestamp())}"
        self.site_name = site_name
        self.badges: dict[int, MoodleBadge] = {}
        self.issued: dict[str, MoodleIssued] = {}
        self._ids = itertools.count(1)
        self._hashes = itertools.count(1)
        for path, fn in (("/badges/assertion.php", self._assertion_php), ("/badges/badge_json.php", self._badge_json),
                         ("/badges/issuer_json.php", self._issuer_json), ("/badges/badge.php", self._html),
                         ("/badges/badgeclass.php", self._html)):
            server.handler(path, fn)

    # --- URLs (moodle_url::out(false): raw '&' between parameters) -----------------------------
    @property
    def wwwroot(self) -> str:
        return self.server.origin

    def assertion_url(self, hash_: str, obversion: int | None = 2) -> str:
        tail = f"&obversion={obversion}" if obversion is not None else ""
        return f"{self.wwwroot}/badges/assertion.php?b={hash_}{tail}"

    def badge_url(self, badge: MoodleBadge) -> str:
        return f"{self.wwwroot}/badges/badge_json.php?id={badge.id}"

    def issuer_url(self, badge: MoodleBadge) -> str:
        return f"{self.wwwroot}/badges/issuer_json.php?id={badge.id}"

    def image_url(self, badge: MoodleBadge) -> str:
        return f"{self.wwwroot}/pluginfile.php/{badge.context_id}/badges/badgeimage/{badge.id}/f3"

    # --- what a teacher and the cron do -------------------------------------------------------
    def create_badge(self, name: str, description: str = "", *, criteria: str = "", image: bytes | None = None,
                     issuer_name: str = "GRETA Normandie", issuer_url: str = "https://greta-normandie.example.fr",
                     issuer_contact: str = "badges@greta-normandie.example.fr", **extra) -> MoodleBadge:
        badge_id = next(self._ids)
        badge = MoodleBadge(badge_id, name, description or f"Badge « {name} » délivré sur Moodle.",
                            criteria or "* Compléter l'activité : Évaluation finale", issuer_name, issuer_url,
                            issuer_contact, image or badge_png((40 + 20 * badge_id % 200, 90, 160)), **extra)
        self.badges[badge_id] = badge
        self.server.route(self.image_url(badge)[len(self.wwwroot):], badge.image, content_type="image/png")
        return badge

    def award(self, badge: MoodleBadge, email: str, *, issued: datetime | None = None,
              expires: datetime | None = None) -> MoodleIssued:
        number = next(self._hashes)
        hash_ = hashlib.sha1(f"{badge.id}-{email}-{number}".encode()).hexdigest()  # uniquehash: 40 hex
        moment = issued or self.now - timedelta(days=20)
        record = MoodleIssued(hash_, badge, email, int(moment.timestamp()),
                              int(expires.timestamp()) if expires else None, self)
        self.issued[hash_] = record
        return record

    def revoke(self, issued: MoodleIssued) -> None:
        """Moodle revokes by deleting the badge_issued row: assertion.php then answers 410."""
        self.issued.pop(issued.hash, None)

    def deactivate(self, badge: MoodleBadge) -> None:
        badge.active = False

    def baked_png(self, issued: MoodleIssued) -> bytes:
        return bake_before_iend(issued.badge.image, "openbadges", php_json_encode(self.assertion_json(issued)))

    # --- documents ------------------------------------------------------------------------------
    def _date(self, timestamp: int) -> str:
        """PHP date('c', $timestamp) in the site's time zone: 2025-03-14T10:05:00+01:00."""
        return datetime.fromtimestamp(timestamp, self.tz).isoformat()

    def issuer_json(self, badge: MoodleBadge) -> dict:
        # badge::get_badge_issuer(): the same document embedded and at issuer_json.php?id=N.
        return {"name": badge.issuer_name, "url": badge.issuer_url, "email": badge.issuer_contact,
                "@context": OB2_CONTEXT, "id": self.issuer_url(badge), "type": "Issuer"}

    def _alignments(self, badge: MoodleBadge) -> list[dict]:
        out = []
        for item in badge.alignments:
            alignment = {"targetName": item["targetName"], "targetUrl": item["targetUrl"]}
            for key in ("targetDescription", "targetFramework", "targetCode"):
                if item.get(key):
                    alignment[key] = item[key]
            out.append(alignment)
        return out

    def embedded_badge_class(self, issued: MoodleIssued) -> dict:
        """core_badges_assertion::get_badge_class() for obversion 2 (PHP insertion order kept)."""
        badge = issued.badge
        badge_page = f"{self.wwwroot}/badges/badge.php?hash={issued.hash}"
        doc: dict = {"name": badge.name, "description": badge.description,
                     "image": "data:image/png;base64," + base64.b64encode(badge.image).decode(),
                     "criteria": ({"id": badge_page, "narrative": badge.criteria} if badge.criteria else badge_page),
                     "issuer": self.issuer_json(badge),
                     "@context": OB2_CONTEXT, "id": self.badge_url(badge), "type": "BadgeClass",
                     "version": badge.version, "@language": badge.language}
        if badge.alignments:
            doc["alignments"] = self._alignments(badge)
        return doc

    def assertion_json(self, issued: MoodleIssued) -> dict:
        """core_badges_assertion::get_badge_assertion() for obversion 2."""
        doc: dict = {
            "recipient": {"identity": "sha256$" + hashlib.sha256((issued.email + self.salt).encode()).hexdigest(),
                          "type": "email", "hashed": True, "salt": self.salt},
            "badge": self.embedded_badge_class(issued),
            "verify": {"type": "hosted", "url": self.assertion_url(issued.hash)},
            "issuedOn": self._date(issued.dateissued),
            "evidence": f"{self.wwwroot}/badges/badge.php?hash={issued.hash}",
        }
        if issued.dateexpire:
            doc["expires"] = self._date(issued.dateexpire)
        doc.update({"@context": OB2_CONTEXT, "type": "Assertion", "id": self.assertion_url(issued.hash)})
        return doc

    def badge_class_json(self, badge: MoodleBadge) -> dict:
        """What badges/badge_json.php?id=N answers (a different layout from the embedded copy)."""
        doc: dict = {"name": badge.name, "description": badge.description,
                     "image": {"id": self.image_url(badge)},
                     "criteria": {"id": f"{self.wwwroot}/badges/badgeclass.php?id={badge.id}",
                                  "narrative": badge.criteria},
                     "issuer": self.issuer_json(badge),
                     "@context": OB2_CONTEXT, "id": self.badge_url(badge), "type": "BadgeClass"}
        if badge.version:
            doc["version"] = badge.version
        if badge.language:
            doc["@language"] = badge.language
        if badge.tags:
            doc["tags"] = list(badge.tags)
        if badge.alignments:
            doc["alignments"] = self._alignments(badge)
        return doc

    # --- the PHP scripts --------------------------------------------------------------------------
    @staticmethod
    def _json(doc: dict, status: int = 200, content_type: str = JSON_HEADER) -> Response:
        return Response(php_json_encode(doc), status=status, content_type=content_type)

    def _assertion_php(self, request: Request) -> Response:
        hash_ = "".join(ch for ch in request.args.get("b", "") if ch.isalnum())  # PARAM_ALPHANUM
        action = request.args.get("action")
        obversion = int(request.args.get("obversion", "2") or 2)
        issued = self.issued.get(hash_)
        if action is not None:
            if issued is None:
                return self._json([])  # get_badge_class()/get_issuer() of nothing: []
            if action not in ("", "0"):
                return self._json(self.embedded_badge_class(issued))
            return self._json(self.issuer_json(issued.badge))
        if issued is None:  # "Revoked badge."
            body: dict = {}
            if obversion >= 2:
                body["id"] = self.assertion_url(hash_, obversion=None)
            body["revoked"] = True
            return self._json(body, status=410, content_type=PHP_DEFAULT)
        return self._json(self.assertion_json(issued))

    def _badge(self, request: Request) -> MoodleBadge | None:
        try:
            return self.badges.get(int(request.args.get("id", "")))
        except ValueError:
            return None

    def _badge_json(self, request: Request) -> Response:
        badge = self._badge(request)
        if badge is None or not badge.active:
            return self._json({"id": f"{self.wwwroot}/badges/badge_json.php?id={request.args.get('id', '')}",
                               "error": NO_BADGE}, status=410)
        if request.args.get("action") is not None:
            return self._json(self.issuer_json(badge))
        return self._json(self.badge_class_json(badge))

    def _issuer_json(self, request: Request) -> Response:
        badge = self._badge(request)
        if badge is None or not badge.active:
            return self._json({"id": f"{self.wwwroot}/badges/issuer_json.php?id={request.args.get('id', '')}",
                               "error": NO_BADGE}, status=410)
        return self._json(self.issuer_json(badge))

    def _html(self, request: Request) -> Response:
        return Response(f"<!DOCTYPE html><html lang=\"fr\"><title>{self.site_name}</title></html>",
                        content_type=PHP_DEFAULT)
