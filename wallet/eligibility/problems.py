"""Problems found in a referential file, each naming the path in the document and the line.

Messages come from a small catalog, French first with English too; `Problem.format(filename)` is
the `FILE:LINE: path: message` line that `wallet referential check` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXPECTED = {
    "string": ("un texte", "a string"),
    "integer": ("un entier", "an integer"),
    "boolean": ("un booléen (true/false)", "a boolean (true/false)"),
    "list": ("une liste", "a list"),
    "table": ("une table", "a table"),
    "text": ("une table { fr = …, en = … }", "a table { fr = …, en = … }"),
}

MESSAGES: dict[str, tuple[str, str]] = {
    "syntax": ("erreur de syntaxe TOML : {detail}", "TOML syntax error: {detail}"),
    "unreadable": ("fichier illisible : {detail}", "unreadable file: {detail}"),
    "too_large": ("fichier trop volumineux ({max_kb} Ko au plus)", "file too large ({max_kb} KB at most)"),
    "required": ("champ obligatoire manquant", "required field missing"),
    "type": ("doit être {expected_fr}", "must be {expected_en}"),
    "unknown_key": ("clé inconnue « {key} »", "unknown key \"{key}\""),
    "empty": ("ne doit pas être vide", "must not be empty"),
    "missing_lang": ("texte manquant en « {lang} »", "missing \"{lang}\" text"),
    "not_positive": ("doit être un entier strictement positif (reçu : {value})",
                     "must be a positive integer (got {value})"),
    "bad_key": ("clé invalide « {value} » : lettres minuscules, chiffres et tirets seulement",
                "invalid key \"{value}\": lowercase letters, digits and hyphens only"),
    "not_url": ("« {value} » n'est pas une URL http(s)", "\"{value}\" is not an http(s) URL"),
    "not_issuer_id": ("« {value} » n'est ni une URL http(s) ni un DID",
                      "\"{value}\" is neither an http(s) URL nor a DID"),
    "not_uri": ("« {value} » n'est pas un identifiant (URL, DID ou URN)",
                "\"{value}\" is not an identifier (URL, DID or URN)"),
    "bad_image": ("chemin d'image invalide « {value} » : chemin relatif, sans « .. »",
                  "invalid image path \"{value}\": relative, without \"..\""),
    "duplicate": ("« {value} » est déjà utilisé ({other})", "\"{value}\" is already used ({other})"),
    "unknown_skill": ("compétence inconnue « {value} »", "unknown skill \"{value}\""),
    "unknown_level": ("niveau inconnu « {value} »", "unknown level \"{value}\""),
    "unknown_badge": ("badge régional inconnu « {value} »", "unknown regional badge \"{value}\""),
    "unknown_rule": ("type de règle inconnu « {value} » (attendu : count, all_of, any_of, n_of)",
                     "unknown rule type \"{value}\" (expected count, all_of, any_of, n_of)"),
    "n_too_large": ("n = {n} dépasse le nombre de badges listés ({count})",
                    "n = {n} exceeds the number of listed badges ({count})"),
    "partners_gt_badges": ("partners ({partners}) ne peut pas dépasser badges ({badges})",
                           "partners ({partners}) cannot exceed badges ({badges})"),
    "cycle": ("cycle entre règles composées : {cycle}", "cycle among composite rules: {cycle}"),
    "no_target": ("une cible doit avoir au moins url, code ou tags",
                  "a target needs at least url, code or tags"),
    "region_as_partner": ("« {value} » est un identifiant de la Région, pas d'un partenaire",
                          "\"{value}\" is a Region issuer id, not a partner's"),
}


@dataclass(frozen=True, slots=True)
class Problem:
    path: str                      # e.g. badges[3].rule.skill ("" for the whole document)
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    def message(self, lang: str = "fr") -> str:
        params = dict(self.params)
        if self.code == "type":
            fr, en = EXPECTED.get(str(params.get("expected")), (params.get("expected"),) * 2)
            params.update(expected_fr=fr, expected_en=en)
        fr_template, en_template = MESSAGES.get(self.code, (self.code, self.code))
        template = en_template if lang.lower().startswith("en") else fr_template
        try:
            return template.format(**params)
        except (KeyError, IndexError):
            return template

    def format(self, filename: str) -> str:
        """`FILE:LINE: path: message (fr) / message (en)`."""
        where = self.path or "(document)"
        return f"{filename}:{self.line or 1}: {where}: {self.message('fr')} / {self.message('en')}"


class ReferentialError(ValueError):
    """The referential file is unreadable or invalid; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else None
        summary = (f"line {first.line}: {first.path}: {first.message('en')}" if first else "invalid")
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"invalid referential: {summary}{more}")
