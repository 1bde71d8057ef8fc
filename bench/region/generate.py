"""The simulated region's data, generated from a seed: learners, partner badges, claims, shares.

    region = Region(Params.scaled(0.05), seed=17)
    region.fill_postgresql(url)    # COPY into a migrated PostgreSQL database (bench)
    region.fill_sqlalchemy(engine) # plain INSERTs, any database (the small test on SQLite)

Both sinks take the same rows from the same generator functions, so the test checks the rows the
bench loads. Every row is what the app itself stores (templates.py: the partner badges are real
badges verified by the real verifier, then cloned per learner with their own ids, recipients and
dates). Nothing here is committed but this code: `bench/.work/` holds the template cache.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import templates as tpl
from .templates import BadgeClass, Partner

PASSWORD = "mot de passe du banc régional"  # every generated learner's (for the load test's logins)
BASE_URL = "http://127.0.0.1:5000"
WORK = Path(__file__).resolve().parents[1] / ".work"

TECHNICAL_SKILLS = [
    ("soudure", "Soudure", "Welding"), ("conduite-chariot", "Conduite de chariot", "Forklift driving"),
    ("hygiene-alimentaire", "Hygiène alimentaire", "Food hygiene"), ("bureautique", "Bureautique", "Office software"),
    ("electricite", "Électricité", "Electrical work"), ("maconnerie", "Maçonnerie", "Masonry"),
    ("aide-a-la-personne", "Aide à la personne", "Personal care"), ("logistique", "Logistique", "Logistics"),
    ("vente", "Vente", "Sales"), ("cuisine", "Cuisine", "Cooking"),
]
TRANSVERSAL = ["organiser", "s-adapter", "communiquer", "s-integrer"]
CLASS_WORDS = ["Atelier", "Parcours", "Module", "Immersion", "Stage", "Chantier", "Session", "Projet"]
FIRST = ["Camille", "Léa", "Hugo", "Inès", "Lucas", "Chloé", "Nathan", "Manon", "Yanis", "Sarah", "Louis",
         "Emma", "Mohamed", "Jade", "Théo", "Lina", "Kevin", "Nadia", "Pierre", "Fatou"]
LAST = ["Martin", "Bernard", "Dubois", "Lefebvre", "Leroy", "Moreau", "Laurent", "Simon", "Michel", "Garcia",
        "Roux", "Fournier", "Girard", "Lambert", "Bonnet", "Diallo", "Marie", "Lemoine", "Renaud", "Benali"]


@dataclass(frozen=True)
class Params:
    learners: int = 100_000
    badges: int = 2_000_000
    partners: int = 50
    classes: int = 300
    claims: int = 50_000
    shares: int = 200_000          # evidence shares of the claims included
    heaviest: int = 500            # the biggest wallet
    median: int = 20

    @classmethod
    def scaled(cls, scale: float, **overrides) -> Params:
        base = cls()
        values = {"learners": max(4, round(base.learners * scale)), "badges": max(40, round(base.badges * scale)),
                  "claims": max(2, round(base.claims * scale)), "shares": max(4, round(base.shares * scale))}
        values.update(overrides)
        return cls(**{**asdict(base), **values})


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def learner_email(n: int) -> str:
    return f"apprenant{n}@region-bench.example"


def share_token(seed: int, n: int) -> str:
    """The token of generated share n (the bench recomputes it; only its sha256 is stored)."""
    return tpl.b64url(hashlib.sha256(f"{seed}:share:{n}".encode()).digest())


def session_token(seed: int, n: int) -> str:
    return tpl.b64url(hashlib.sha256(f"{seed}:session:{n}".encode()).digest())[:32]


class Region:
    def __init__(self, params: Params, seed: int = 17, now: datetime | None = None, log: Callable = print,
                 base_url: str = BASE_URL, cache: Path | None = WORK) -> None:
        self.p = params
        self.seed = seed
        self.log = log
        self.base_url = base_url
        moment = now or datetime.now(UTC)
        self.now = moment.replace(minute=0, second=0, microsecond=0)
        self.cache = cache
        self.partners = self._partners()
        self.classes = [c for p in self.partners for c in p.classes]
        self.templates, self.images = self._templates()
        self.by_class: dict[int, dict[str, tpl.Template]] = {}
        for t in self.templates:
            self.by_class.setdefault(id(t.badge_class), {})[t.variant] = t
        self.counts = self._wallet_sizes()
        # Filled while badges are generated: per learner, (first badge id, count); per badge its class
        # index and whether it is valid and matched (shares and claims pick from those).
        self.first_badge: list[int] = []
        self.badge_class: bytearray | list[int] = []
        self.badge_good = bytearray()
        self.badge_cid: list[str] = []
        self.password_hash = _password_hash()

    # ------------------------------------------------------------------------------- the region

    def _partners(self) -> list[Partner]:
        rng = random.Random(f"{self.seed}:partners")
        partners = []
        n = self.p.partners
        # A partner's platform issues one format: 40 % hosted (Moodle-like), 24 % signed, 36 % OB 3.0.
        formats = (["ob2-hosted"] * max(1, round(n * 0.40)) + ["ob2-signed"] * max(1, round(n * 0.24)))
        formats += ["ob3"] * max(1, n - len(formats))
        formats = formats[:n]
        skills = TRANSVERSAL + [s[0] for s in TECHNICAL_SKILLS]
        per = [self.p.classes // n + (1 if i < self.p.classes % n else 0) for i in range(n)]
        for i in range(n):
            number = i + 1
            kind = ["Centre de formation", "Association d'insertion", "Entreprise d'accueil", "GRETA",
                    "Mission locale"][i % 5]
            partner = Partner(number, f"partenaire-{number:02d}", f"{kind} n° {number}",
                              f"https://badges.partenaire-{number:02d}.example", formats[i])
            for j in range(per[i]):
                skill = skills[rng.randrange(len(skills))] if rng.random() < 0.4 else TRANSVERSAL[rng.randrange(4)]
                level = 1 if rng.random() < 0.6 else 2
                name = f"{CLASS_WORDS[rng.randrange(len(CLASS_WORDS))]} {skill.replace('-', ' ')} {j + 1}"
                partner.classes.append(BadgeClass(partner, f"{skill}-{j + 1}", name, skill, level))
            partners.append(partner)
        return partners

    def _templates(self):
        key = hashlib.sha256(json.dumps([self.seed, asdict(self.p)["partners"], asdict(self.p)["classes"],
                                         _code_version()]).encode()).hexdigest()[:16]
        cache = self.cache / f"region-templates-{key}.pickle" if self.cache else None
        if cache is not None and cache.is_file():
            data = pickle.loads(cache.read_bytes())
            ids = {(c.partner.number, c.slug): c for c in self.classes}
            templates = []
            for (number, slug), variant, fields, signing_input, payload_json in data["templates"]:
                templates.append(tpl.Template(ids[(number, slug)], variant, fields, signing_input, payload_json))
            images = {id(ids[k]): v for k, v in data["images"].items()}
            return templates, images
        started = time.perf_counter()
        self.log(f"region: verifying {len(self.classes)} badge classes' templates")
        templates, images = tpl.build_templates(self.partners, self.seed, log=lambda m: None)
        self.log(f"region: templates ready in {time.perf_counter() - started:.1f} s")
        if cache is None:
            return templates, images
        by_id = {id(c): (c.partner.number, c.slug) for c in self.classes}
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps({
            "templates": [(by_id[id(t.badge_class)], t.variant, t.fields, t.signing_input, t.payload_json)
                          for t in templates],
            "images": {by_id[k]: v for k, v in images.items()}}))
        return templates, images

    def referential_text(self) -> str:
        """Normandy's referential without its demo partners, plus 10 technical skills (20 regional
        badges) and the partners with their catalogues."""
        from wallet.eligibility import default_referential_path

        text = default_referential_path().read_text(encoding="utf-8")
        text = re.sub(r"\[\[partners\]\]\n(?:(?!\n\[\[).)*?demo = true.*?(?=\n\[\[|\n# ---)", "", text, flags=re.DOTALL)
        out = [text.replace('version = "2026.1"', 'version = "2026.1-banc"'), "\n# --- banc régional ---\n"]
        for key, fr, en in TECHNICAL_SKILLS:
            url = f"{{base_url}}/referentials/normandie/competences/{key}"
            out.append(f'[[skills]]\nkey = "{key}"\nname = {{ fr = "{fr}", en = "{en}" }}\n'
                       f'description = {{ fr = "{fr} (compétence technique).", en = "{en} (technical skill)." }}\n'
                       f'url = "{url}"\ntargets = [\n'
                       f'  {{ level = 1, url = "{url}/niveau-1", tags = ["{key}-1"] }},\n'
                       f'  {{ level = 2, url = "{url}/niveau-2", tags = ["{key}-2"] }},\n]\n\n')
            for level, need, partners, word in ((1, 2, 1, "Je pratique"), (2, 3, 2, "Je maîtrise")):
                out.append(f'[[badges]]\nkey = "{key}-{level}"\nid = "{{base_url}}/issuers/region/badges/{key}-{level}"\n'
                           f'skill = "{key}"\nlevel = {level}\n'
                           f'name = {{ fr = "{fr} — {word}", en = "{en} — level {level}" }}\n'
                           f'description = {{ fr = "Atteste la compétence technique « {fr} ».", '
                           f'en = "Attests the technical skill \\"{en}\\"." }}\n'
                           f'criteria = {{ fr = "Au moins {need} badges partenaires « {fr} ».", '
                           f'en = "At least {need} partner badges \\"{en}\\"." }}\n'
                           f'rule = {{ type = "count", skill = "{key}", min_level = {level}, badges = {need}, '
                           f'partners = {partners} }}\n\n')
        for partner in self.partners:
            out.append(f'[[partners]]\nkey = "{partner.key}"\nname = "{partner.name}"\n'
                       f'issuer_ids = ["{partner.issuer_id}"]\nurl = "{partner.origin}/"\ncatalogue = [\n')
            for c in partner.classes:
                out.append(f'  {{ id = "{c.id}", skill = "{c.skill}", level = {c.level}, name = "{c.name}" }},\n')
            out.append("]\n\n")
        return "".join(out)

    def regional_keys(self) -> list[tuple[str, str]]:
        """(key, skill) of the regional badges a count rule gives."""
        keys = [(f"{s}-{lv}", s) for s in TRANSVERSAL for lv in (1, 2)]
        return keys + [(f"{s[0]}-{lv}", s[0]) for s in TECHNICAL_SKILLS for lv in (1, 2)]

    # ------------------------------------------------------------------------------- learners

    def _wallet_sizes(self) -> list[int]:
        """Badges per learner: median ≈ `median`, a few wallets at `heaviest`, exactly `badges` in all."""
        rng = random.Random(f"{self.seed}:sizes")
        n, total = self.p.learners, self.p.badges
        # Around the median (the mean is the region's 20 badges a learner), a few very full wallets.
        sizes = [max(1, round(rng.gauss(self.p.median, self.p.median * 0.35))) for _ in range(n)]
        heavy = max(1, n // 10_000)
        for i in range(heavy):
            sizes[(i * 7919) % n] = self.p.heaviest
        fixed = {(i * 7919) % n for i in range(heavy)}
        diff = total - sum(sizes)
        order = [i for i in range(n) if i not in fixed]
        while diff:
            i = order[rng.randrange(len(order))]
            if diff > 0:
                sizes[i] += 1
                diff -= 1
            elif sizes[i] > 1:
                sizes[i] -= 1
                diff += 1
        return sizes

    def users(self) -> Iterator[tuple]:
        rng = random.Random(f"{self.seed}:users")
        for n in range(1, self.p.learners + 1):
            name = f"{FIRST[rng.randrange(len(FIRST))]} {LAST[rng.randrange(len(LAST))]}"
            created = self.now - timedelta(days=rng.randrange(1, 1100), seconds=rng.randrange(86400))
            yield (n, name, "learner", "fr" if rng.random() < 0.93 else "en", self.password_hash,
                   session_token(self.seed, n), created)

    def emails(self) -> Iterator[tuple]:
        rng = random.Random(f"{self.seed}:emails")
        email_id = 0
        for n in range(1, self.p.learners + 1):
            email_id += 1
            address = learner_email(n)
            yield (email_id, n, address, address, True, self.now - timedelta(days=1100), self.now - timedelta(days=1100))
            if rng.random() < 0.1:  # a second address, confirmed or not
                email_id += 1
                other = f"a{n}.perso@courriel-bench.example"
                yield (email_id, n, other, other, False, self.now - timedelta(days=30) if rng.random() < 0.7 else None,
                       self.now - timedelta(days=30))

    # ------------------------------------------------------------------------------- badges

    BADGE_COLUMNS = ("id", "owner_id", "credential_key", "credential_id", "source", "source_url", "payload",
                     "payload_format", "version", "name", "description", "issuer_id", "issuer_name",
                     "badge_class_id", "issued_on", "expires", "status", "matched", "recipient", "details",
                     "verdict", "facts", "checked_at", "rules_version", "image", "image_type", "original_file",
                     "original_file_type", "created_at")

    def badges(self) -> Iterator[tuple]:
        from ..fixtures import insert_chunk, itxt

        rng = random.Random(f"{self.seed}:badges")
        base_images = {id(c): tpl.class_image(i + 1) for i, c in enumerate(self.classes)}
        by_partner: dict[int, list[int]] = {}
        for index, c in enumerate(self.classes):
            by_partner.setdefault(c.partner.number, []).append(index)
        partner_numbers = sorted(by_partner)
        badge_id = 0
        self.first_badge = [0] * (self.p.learners + 2)
        self.badge_class = [0] * (self.p.badges + 1)
        self.badge_good = bytearray(self.p.badges + 1)
        self.badge_cid = [""] * (self.p.badges + 1)
        for n in range(1, self.p.learners + 1):
            email = learner_email(n)
            self.first_badge[n] = badge_id + 1
            size = self.counts[n - 1]
            # A learner's path goes through a few partners.
            mine = rng.sample(partner_numbers, k=min(len(partner_numbers), rng.choice((1, 2, 2, 3, 3, 4, 5))))
            pool = [i for p in mine for i in by_partner[p]]
            for _ in range(size):
                badge_id += 1
                class_index = pool[rng.randrange(len(pool))]
                badge_class = self.classes[class_index]
                variants = self.by_class[id(badge_class)]
                roll = rng.random()
                variant = ("revoked" if roll < 0.02 else "expired" if roll < 0.05 else "not_matched" if roll < 0.07
                           else "valid")
                template = variants.get(variant) or variants["valid"]
                issued = self.now - timedelta(days=rng.randrange(30, 1100), seconds=rng.randrange(86400))
                checked = self.now - timedelta(seconds=rng.randrange(7 * 86400))
                expires = issued + timedelta(days=365) if template.variant == "expired" else None
                if expires is not None and expires >= checked:
                    issued, expires = checked - timedelta(days=400), checked - timedelta(days=35)
                salt = f"{rng.getrandbits(64):016x}"
                subst = {
                    tpl.MK_UUID: _uuid(rng), tpl.MK_SALT: salt,
                    tpl.MK_HASH: "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest(),
                    tpl.MK_ISSUED: issued.strftime("%Y-%m-%dT%H:%M:%S"),
                    tpl.MK_CHECKED: checked.strftime("%Y-%m-%dT%H:%M:%S"),
                    tpl.MK_EXPIRES: expires.strftime("%Y-%m-%dT%H:%M:%S") if expires else tpl.MK_EXPIRES,
                }
                f = template.fields
                if template.signing_input is not None:  # signed OB 2.0: the JWS is rebuilt per badge
                    body = _substitute(template.payload_json, subst)
                    pseudo = hashlib.sha256(f"{self.seed}:sig:{badge_id}".encode()).digest() * 8
                    payload = f"{template.signing_input}.{tpl.b64url(body.encode())}.{tpl.b64url(pseudo)}"
                else:
                    payload = _substitute(f["payload"], subst)
                if badge_class.partner.format == "ob3" and '"proofValue"' in payload:
                    payload = _pseudo_proof(payload, hashlib.sha256(f"{self.seed}:proof:{badge_id}".encode()).digest())
                roll = rng.random()
                fmt = badge_class.partner.format
                source = ("upload" if roll < 0.45 else "partner" if roll < 0.7 else "push" if roll < 0.8
                          else "url" if fmt == "ob2-hosted" else "paste")
                original = original_type = None
                if source == "upload":
                    key = "openbadgecredential" if fmt == "ob3" else "openbadges"
                    original = insert_chunk(base_images[id(badge_class)], itxt(key, payload), "ihdr")
                    original_type = "image/png"
                credential_id = _substitute(f["credential_id"], subst)
                self.badge_class[badge_id] = class_index
                self.badge_cid[badge_id] = credential_id
                good = f["status"] == "valid" and f["matched"]
                self.badge_good[badge_id] = 1 if good else 0
                yield (badge_id, n, credential_id[:512], credential_id, source,
                       credential_id if source == "url" else None, payload, f["payload_format"], f["version"],
                       f["name"], f["description"], f["issuer_id"], f["issuer_name"], f["badge_class_id"],
                       issued, expires, f["status"], f["matched"], _substitute(f["recipient"], subst),
                       f["details"], _substitute(f["verdict"], subst), _substitute(f["facts"], subst), checked, f["rules_version"],
                       self.images[id(badge_class)], f["image_type"], original, original_type,
                       checked - timedelta(days=rng.randrange(0, 30)))
        self.first_badge[self.p.learners + 1] = badge_id + 1

    def _valid(self, badge: int) -> tpl.Template:
        return self.by_class[id(self.classes[self.badge_class[badge]])]["valid"]

    def _good_badges(self, n: int) -> list[int]:
        return [b for b in range(self.first_badge[n], self.first_badge[n + 1]) if self.badge_good[b]]

    # ------------------------------------------------------------------------------- shares, claims

    def claims_and_shares(self) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
        """(claims, outbox, shares, share_items): call after badges() was consumed."""
        assert self.first_badge, "badges() first"
        rng = random.Random(f"{self.seed}:claims")
        keys = self.regional_keys()
        claims, outbox, shares, items = [], [], [], []
        share_id = item_id = 0
        taken: set[tuple[int, str]] = set()
        statuses = (("issued", 0.6), ("in_review", 0.1), ("refused", 0.12), ("withdrawn", 0.1), ("failed", 0.08))
        claim_id = 0
        attempts = 0
        while claim_id < self.p.claims and attempts < self.p.claims * 20:
            attempts += 1
            n = rng.randrange(1, self.p.learners + 1)
            good = self._good_badges(n)
            if len(good) < 2:
                continue
            skill = self.classes[self.badge_class[good[0]]].skill
            level = 1 + (rng.random() < 0.3)
            key = f"{skill}-{level}"
            if (n, key) in taken or key not in {k for k, _s in keys}:
                continue
            taken.add((n, key))
            claim_id += 1
            supporting = [b for b in good if self.classes[self.badge_class[b]].skill == skill][:4] or good[:2]
            share_id += 1
            created = self.now - timedelta(days=rng.randrange(1, 700), seconds=rng.randrange(86400))
            token = share_token(self.seed, share_id)
            status = _pick(rng, statuses)
            shares.append((share_id, n, hashlib.sha256(token.encode()).hexdigest(), "evidence", key, None,
                           created + timedelta(days=3) if status == "withdrawn" else None, rng.randrange(0, 4),
                           None, created))
            for position, badge in enumerate(supporting):
                item_id += 1
                items.append((item_id, share_id, badge, position))
            # As submit_claim writes it: each supporting badge with its payload and verdict (the
            # class's template stands for them: same shape and size).
            evidence = {"page": f"{self.base_url}/p/{token}", "badges": [
                {"credential_id": self.badge_cid[b], "name": self.classes[self.badge_class[b]].name,
                 "issuer": self.classes[self.badge_class[b]].partner.name,
                 "issuer_id": self.classes[self.badge_class[b]].partner.issuer_id,
                 "payload": self._valid(b).fields["payload"], "verdict": json.loads(self._valid(b).fields["verdict"])}
                for b in supporting]}
            history = [{"at": created.isoformat(), "status": "pending", "note": ""},
                       {"at": (created + timedelta(seconds=2)).isoformat(), "status": "sent", "note": ""}]
            if status != "sent":
                history.append({"at": (created + timedelta(hours=rng.randrange(1, 72))).isoformat(),
                                "status": status, "note": ""})
            active = status in ("issued", "in_review")
            claims.append((claim_id, n, f"{self.base_url}/issuers/region/badges/{key}", key, status, active,
                           hashlib.sha256(f"{self.seed}:claim:{claim_id}".encode()).hexdigest()[:32],
                           learner_email(n), json.dumps(evidence), share_id, "builtin",
                           f"urn:uuid:{_uuid(rng)}" if status == "issued" else None, None,
                           "Les badges ne correspondent pas au niveau demandé." if status == "refused" else None,
                           status == "failed", json.dumps(history), None, created, created + timedelta(days=3)))
            outbox.append((claim_id, claim_id, "deliver_claim", "dead" if status == "failed" else "done",
                           6 if status == "failed" else 1, created, None, False,
                           "timeout" if status == "failed" else None, created))
        # The learners' own links to employers: one badge, or a collection.
        for _ in range(max(0, self.p.shares - share_id)):
            n = rng.randrange(1, self.p.learners + 1)
            good = self._good_badges(n)
            if not good:
                continue
            share_id += 1
            created = self.now - timedelta(days=rng.randrange(1, 700), seconds=rng.randrange(86400))
            collection = len(good) > 1 and rng.random() < 0.25
            chosen = rng.sample(good, k=min(len(good), rng.randrange(2, 7))) if collection else [rng.choice(good)]
            roll = rng.random()
            revoked = created + timedelta(days=10) if roll < 0.05 else None
            expires = created + timedelta(days=30) if 0.05 <= roll < 0.15 else None
            shares.append((share_id, n, hashlib.sha256(share_token(self.seed, share_id).encode()).hexdigest(),
                           "collection" if collection else "badge", "Mon parcours" if collection else "",
                           expires, revoked, rng.randrange(0, 40), created + timedelta(days=1), created))
            for position, badge in enumerate(chosen, start=1):
                item_id += 1
                items.append((item_id, share_id, badge, position))
        return claims, outbox, shares, items

    # ------------------------------------------------------------------------------- sinks

    SHARE_COLUMNS = ("id", "owner_id", "token_hash", "kind", "label", "expires_at", "revoked_at", "view_count",
                     "last_viewed_at", "created_at", "purpose")
    ITEM_COLUMNS = ("id", "share_id", "badge_id", "position")
    CLAIM_COLUMNS = ("id", "user_id", "regional_badge_id", "regional_badge_key", "status", "active",
                     "idempotency_key", "recipient_email", "evidence", "evidence_share_id", "issuer_backend",
                     "issuer_reference", "issued_badge_id", "refusal_reason", "needs_staff", "history",
                     "prepared_by_id", "created_at", "updated_at")
    OUTBOX_COLUMNS = ("id", "claim_id", "kind", "state", "attempts", "next_at", "locked_until", "outcome_unknown",
                      "last_error", "created_at")
    USER_COLUMNS = ("id", "display_name", "role", "locale", "password_hash", "session_token", "created_at")
    EMAIL_COLUMNS = ("id", "user_id", "address", "normalized", "is_primary", "verified_at", "created_at")

    def _tables(self):
        """(table, columns, rows) in foreign-key order; claims and shares come after the badges."""
        yield "users", self.USER_COLUMNS, self.users()
        yield "emails", self.EMAIL_COLUMNS, self.emails()
        yield "badges", self.BADGE_COLUMNS, self.badges()
        claims, outbox, shares, items = self.claims_and_shares()
        yield "shares", self.SHARE_COLUMNS, [(*row, "") for row in shares]  # purpose: an ordinary link
        yield "share_items", self.ITEM_COLUMNS, items
        yield "claims", self.CLAIM_COLUMNS, claims
        yield "outbox", self.OUTBOX_COLUMNS, outbox

    def referential_row(self) -> tuple:
        text = self.referential_text()
        from wallet.eligibility.referential import load_referential

        referential = load_referential(text, base_url=self.base_url, include_demo=False)
        return (1, referential.id, referential.version or "", text, hashlib.sha256(text.encode()).hexdigest(),
                "file", None, self.now)

    def fill_postgresql(self, url: str) -> dict[str, float]:
        """COPY every table into the migrated database at `url` (SQLAlchemy URL, psycopg driver)."""
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        timings: dict[str, float] = {}
        with psycopg.connect(dsn, autocommit=False) as conn:
            with conn.cursor() as cur:
                cur.execute("SET synchronous_commit = off")
                cur.execute("INSERT INTO referential_versions (id, referential_id, version, content, sha256, source, "
                            "loaded_by_id, loaded_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", self.referential_row())
                for table, columns, rows in self._tables():
                    started = time.perf_counter()
                    count = 0
                    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                            count += 1
                    conn.commit()
                    timings[table] = time.perf_counter() - started
                    self.log(f"region: {table}: {count} rows in {timings[table]:.1f} s")
                for table in ("users", "emails", "badges", "shares", "share_items", "claims", "outbox",
                              "referential_versions"):
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")
                conn.commit()
            conn.autocommit = True
            started = time.perf_counter()
            conn.execute("VACUUM ANALYZE")
            timings["vacuum analyze"] = time.perf_counter() - started
        return timings

    def fill_sqlalchemy(self, engine) -> None:
        """The same rows through plain INSERTs (the small test runs it on SQLite)."""
        from sqlalchemy import MetaData

        meta = MetaData()
        meta.reflect(engine)
        from wallet.models import ReferentialVersion

        with engine.begin() as conn:
            row = self.referential_row()
            conn.execute(ReferentialVersion.__table__.insert(), [dict(zip(
                ("id", "referential_id", "version", "content", "sha256", "source", "loaded_by_id", "loaded_at"), row))])
            for table, columns, rows in self._tables():
                conn.execute(_typed_table(table), [dict(zip(columns, r)) for r in rows])


def _typed_table(name: str):
    from wallet.db import Base

    return Base.metadata.tables[name].insert()


def _pick(rng: random.Random, weighted) -> str:
    roll, acc = rng.random(), 0.0
    for value, weight in weighted:
        acc += weight
        if roll < acc:
            return value
    return weighted[-1][0]


def _substitute(text: str | None, subst: dict[str, str]) -> str | None:
    if text is None:
        return None
    for marker, value in subst.items():
        if marker in text:
            text = text.replace(marker, value)
    return text


_PROOF = re.compile(r'"proofValue": "z[1-9A-HJ-NP-Za-km-z]+"')


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _pseudo_proof(payload: str, digest: bytes) -> str:
    """A base58 proofValue of a real one's length (88 characters), not a signature."""
    value = "".join(_B58[b % 58] for b in (digest * 3)[:87])
    return _PROOF.sub(f'"proofValue": "z{value}"', payload, count=1)


def _password_hash() -> str:
    from wallet.services.accounts import hash_password

    return hash_password(PASSWORD)


def _code_version() -> str:
    """The template cache is rebuilt when the template code or the verifier's rules change."""
    from wallet.services.rules import RULES_VERSION

    return hashlib.sha256(Path(tpl.__file__).read_bytes()).hexdigest()[:12] + f":{RULES_VERSION}"
