"""Mes badges régionaux: which regional badges can I claim, and what is still missing?"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, send_from_directory, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from ..services import badges as badges_service
from ..services import referentials
from ..services.claims.submission import active_claims_by_badge
from ..text.rendering import badge_title
from .claims import claim_status
from .helpers import request_lang as _lang
from .helpers import request_session

bp = Blueprint("regional", __name__, url_prefix="/badges-regionaux")

STATES = {
    "obtained": (_l("Obtenu"), "ok"),
    "eligible": (_l("Vous pouvez le demander"), "ok"),
    "in_progress": (_l("En cours"), "warn"),
    "not_started": (_l("Pas encore commencé"), ""),
}

# Reasons shown on a card: they concern badges that match the card's skill.
CARD_REASONS = {
    "revoked": _l("révoqué par l'émetteur : il ne compte plus"),
    "expired": _l("expiré : il ne compte plus"),
    "not_matched": _l("délivré à une adresse que vous n'avez pas encore confirmée"),
    "duplicate": _l("même badge qu'un autre déjà compté"),
}
# Reasons that apply to every card: shown once, under the cards.
GENERAL_REASONS = {
    "not_valid": _l("pas vérifié (authenticité non établie)"),
    "not_a_partner": _l("délivré par un organisme qui n'est pas partenaire de la Région"),
}


@bp.route("/")
def index():
    session = request_session()
    user = current_user._get_current_object()
    referential, results = referentials.eligibility_for(session, user)
    lang = _lang()
    rows = {row.credential_id: row for row in badges_service.summaries(session, user)}
    shown: dict = {}

    def named(credential_id) -> tuple[str | None, str]:
        """(link to the badge's page, its title), each built once and only for a badge the page
        lists (a full wallet lists its badges under many cards; a URL costs more than the line)."""
        if credential_id not in shown:
            row = rows.get(credential_id)
            shown[credential_id] = ((url_for("badges.detail", badge_id=row.id),
                                     badge_title(row.name, row.issuer_name, row.issued_on))
                                    if row is not None else (None, credential_id or "?"))
        return shown[credential_id]

    skills = {skill.key: skill.name.get(lang) for skill in referential.skills}
    regional_names = {b.key: _text(b.name, lang) for b in referential.badges}
    claims = active_claims_by_badge(session, user)
    # Each reason translated once (a full wallet lists hundreds of badges under every card).
    card_reasons = {key: str(text) for key, text in CARD_REASONS.items()}
    general_reasons = {key: str(text) for key, text in GENERAL_REASONS.items()}
    cards, general = [], {}
    for result in results:
        label, style = STATES[result.state]
        reasons = []
        for nc in result.not_counted:
            if nc.reason in card_reasons:
                reasons.append((named(nc.id), card_reasons[nc.reason]))
            elif nc.reason in general_reasons and nc.id not in general:
                general[nc.id] = (named(nc.id), general_reasons[nc.reason])
        cards.append({
            "result": result, "name": _text(result.badge.name, lang),
            "description": _text(result.badge.description, lang), "state": label, "style": style,
            "counted": [named(cid) for cid in result.counted],
            "reasons": reasons, "missing": _missing_words(result, skills, regional_names),
            "offered_by": [p.name for p in result.offered_by],
            "image": result.badge.image,
            "claim": claims.get(result.id),
        })
    return render_template("regional/index.html", cards=cards, groups=group_cards(cards),
                           general=list(general.values()), referential=referential, lang=lang,
                           claim_status=claim_status)


# The page's groups, in this order: what the learner can claim now first, then what is under way,
# then the rest folded. (key, folded)
GROUPS = (("claimable", False), ("in_progress", False), ("obtained", True), ("not_started", True))


def _group_title(key: str, num: int) -> str:
    if key == "claimable":
        return ngettext("Vous pouvez le demander (%(num)s badge)", "Vous pouvez les demander (%(num)s badges)", num)
    if key == "in_progress":
        return ngettext("En cours (%(num)s badge)", "En cours (%(num)s badges)", num)
    if key == "obtained":
        return ngettext("Obtenu (%(num)s badge)", "Obtenus (%(num)s badges)", num)
    return ngettext("Pas encore commencé (%(num)s badge)", "Pas encore commencés (%(num)s badges)", num)


def _group_of(card: dict) -> str:
    state = card["result"].state
    if state == "eligible":
        # A claim already sent is under way, not something left to do.
        return "in_progress" if card["claim"] is not None else "claimable"
    return state


def group_cards(cards: list[dict]) -> list[dict]:
    """Non-empty groups of cards (referential order inside each). When nothing is claimable or under
    way, the first folded group is shown open, so the page never looks empty."""
    groups = []
    for key, folded in GROUPS:
        members = [card for card in cards if _group_of(card) == key]
        if members:
            groups.append({"key": key, "title": _group_title(key, len(members)), "cards": members,
                           "folded": folded})
    if groups and all(group["folded"] for group in groups):
        groups[0]["open"] = True
    return groups


def _text(value, lang: str) -> str:
    return value.get(lang) if value is not None else ""


def _missing_words(result, skills: dict[str, str], regional_names: dict[str, str]) -> str:
    """What is still missing, in plain words (empty when nothing is)."""
    if result.state in ("obtained", "eligible"):
        return ""
    missing = result.missing
    if missing.regional:
        names = ", ".join(_("« %(name)s »", name=regional_names.get(key, key)) for key in missing.regional)
        return ngettext("Il vous manque encore le badge régional %(names)s.",
                        "Il vous manque encore des badges régionaux parmi : %(names)s.",
                        len(missing.regional), names=names)
    skill = skills.get(missing.skill or "", missing.skill or "")
    badges, partners = missing.badges, missing.partners
    if result.progress.partners_need <= 1 or not partners:
        return ngettext("Il vous faut encore %(num)s badge « %(skill)s ».",
                        "Il vous faut encore %(num)s badges « %(skill)s ».", badges, skill=skill)
    if result.progress.partners_have == 0:  # at least two partners, so at least two badges
        return _("Il vous faut encore %(num)s badges « %(skill)s », d'au moins %(partners)s partenaires "
                 "différents.", num=badges, skill=skill, partners=result.progress.partners_need)
    if badges == partners:
        return ngettext("Il vous faut encore %(num)s badge « %(skill)s » d'un autre partenaire.",
                        "Il vous faut encore %(num)s badges « %(skill)s », chacun d'un autre partenaire.",
                        badges, skill=skill)
    # More badges than partners are missing (so at least two badges).
    return ngettext("Il vous faut encore %(badges)s badges « %(skill)s », dont au moins un d'un autre partenaire.",
                    "Il vous faut encore %(badges)s badges « %(skill)s », dont au moins %(num)s d'autres "
                    "partenaires.", partners, badges=badges, skill=skill)


@bp.route("/images/<path:name>")
def image(name: str):
    """A regional badge's image, from the referential's own folder (names listed in the data only)."""
    referential = referentials.current(request_session())
    if name not in {b.image for b in referential.badges if b.image}:
        abort(404)
    folder = referentials.image_folder(name)
    if folder is None:
        abort(404)
    response = send_from_directory(folder, name, max_age=86400)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response
