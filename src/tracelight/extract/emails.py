"""E-mail addresses, plain and spelled out ("amy at gmail dot com", "amy (at) gmail [dot] com").

Matched on the folded text (full-width and mathematical letters read as ASCII). Spelled-out
forms are accepted only with a known top-level domain, so "meet me at the mall dot com"-like
prose needs a real-looking domain to count. Values are lower-case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TLDS = ("com|net|org|edu|gov|mil|io|co|us|uk|ca|au|de|fr|es|mx|me|info|biz|xyz|app|dev|ru|"
         "nl|it|br|in|jp|ch|se|no|online|site|club|live|email|ly|ai|tv|cc|eu|pl|be|at|ie|nz|"
         "za|ar|cl|pe|ve|ph|vn|th|my|sg|hk|tw|kr|co\\.uk")
_PROVIDERS = ("gmail", "yahoo", "hotmail", "outlook", "icloud", "aol", "protonmail", "proton",
              "live", "msn", "gmx", "mail", "yandex", "zoho")

_PLAIN = re.compile(
    r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9][A-Za-z0-9._%+\-]{0,63})@"
    r"([A-Za-z0-9][A-Za-z0-9\-]{0,62}(?:\.[A-Za-z0-9][A-Za-z0-9\-]{0,62}){0,4})"
    r"(?![A-Za-z0-9\-@])")

_AT = r"(?:\s?[\(\[\{<]\s?(?:at|@)\s?[\)\]\}>]\s?|\s{1,2}at\s{1,2}|\s{1,2}@\s{0,2}|\s{0,2}@\s{1,2})"
_DOT = r"(?:\s?[\(\[\{<]\s?dot\s?[\)\]\}>]\s?|\s{1,2}dot\s{1,2}|\s{0,2}\.)"
_OBF = re.compile(
    r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9][A-Za-z0-9._%+\-]{0,63})" + _AT +
    r"([A-Za-z0-9][A-Za-z0-9\-]{0,62})((?:" + _DOT + r"[A-Za-z0-9][A-Za-z0-9\-]{0,62}){0,3})"
    + _DOT + r"(" + _TLDS + r")(?![A-Za-z0-9])", re.IGNORECASE)
_DOT_SPLIT = re.compile(_DOT, re.IGNORECASE)
# "name at gmail" with no domain ending is too loose; with an explicit "@" it is a provider.
_BARE_PROVIDER = re.compile(
    r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9][A-Za-z0-9._%+\-]{0,63})\s?@\s?(" +
    "|".join(_PROVIDERS) + r")(?![A-Za-z0-9.\-@])", re.IGNORECASE)
_LOCAL_STOP = frozenset({"me", "us", "you", "him", "her", "them", "it", "is", "are", "here",
                         "there", "email", "mail", "contact", "reach", "write", "i", "we", "be",
                         "am", "available", "located", "staying", "incall", "outcall", "or",
                         "and", "text", "call", "only", "just", "also", "from", "up", "out"})


@dataclass(frozen=True, slots=True)
class EmailHit:
    value: str
    start: int
    end: int
    obfuscated: bool


def _clean_local(local: str) -> str:
    return local.strip(".").lower()


def find_emails(text: str, folded: str) -> list[EmailHit]:
    if "@" not in folded and "at" not in folded.lower():
        return []
    hits: list[EmailHit] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    for m in _PLAIN.finditer(folded):
        domain = m.group(2).lower().rstrip(".-")
        if "." not in domain or not re.search(r"\.[a-z]{2,24}$", domain):
            continue
        s, e = m.start(), m.start(2) + len(domain)
        hits.append(EmailHit(f"{_clean_local(m.group(1))}@{domain}", s, e,
                             text[s:e] != folded[s:e]))
        taken.append((s, e))
    for m in _OBF.finditer(folded):
        s, e = m.span()
        local = _clean_local(m.group(1))
        if not free(s, e) or local in _LOCAL_STOP or not local:
            continue
        middle = [p for p in _DOT_SPLIT.split(m.group(3)) if p]
        domain = ".".join([m.group(2), *middle, m.group(4)]).lower()
        hits.append(EmailHit(f"{local}@{domain}", s, e, True))
        taken.append((s, e))
    for m in _BARE_PROVIDER.finditer(folded):
        s, e = m.span()
        local = _clean_local(m.group(1))
        if not free(s, e) or local in _LOCAL_STOP or not local:
            continue
        hits.append(EmailHit(f"{local}@{m.group(2).lower()}.com", s, e, True))
        taken.append((s, e))
    hits.sort(key=lambda h: h.start)
    return hits
