"""Find and normalise arXiv identifiers in free text, URLs and DOIs.

Pure functions over strings (no I/O), used to pick paper ids out of posts and links.
"""

import re
from dataclasses import dataclass

__all__ = ["ArxivId", "find", "find_ids", "normalize", "parse", "valid_new"]

# Archives that issued old-style identifiers (archive/YYMMNNN) before April 2007.
_ARCHIVES = """
    acc-phys adap-org alg-geom ao-sci astro-ph atom-ph bayes-an chao-dyn chem-ph cmp-lg
    comp-gas cond-mat cs dg-ga funct-an gr-qc hep-ex hep-lat hep-ph hep-th math math-ph
    mtrl-th nlin nucl-ex nucl-th patt-sol physics plasm-ph q-alg q-bio quant-ph solv-int
    supr-con
"""
_ARCHIVE = "|".join(sorted(map(re.escape, _ARCHIVES.split()), key=len, reverse=True))

# One identifier, optional subject class (old style) and version; no anchoring.
_ID = (
    rf"(?:(?P<archive>{_ARCHIVE})(?:\.[A-Za-z][A-Za-z-]*)?/(?P<old>[0-9]{{7}})"
    r"|(?P<new>[0-9]{4}\.[0-9]{4,5}))"
    r"(?:v(?P<version>[1-9][0-9]{0,3}))?"
)
_DOI = r"(?i:(?:(?:https?://)?(?:dx\.)?doi\.org/|doi:\s*)?10\.48550/arxiv\.)"
_HOSTS = (
    r"(?i:(?:https?://)?"
    r"(?:(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format|ps)"
    r"|(?:www\.)?alphaxiv\.org/(?:abs|overview)"
    r"|(?:www\.)?huggingface\.co/papers)/)"
)

# Whole-string forms: bare or "arXiv:"-prefixed id (optional " [cs.LG]"), or a DOI.
_PLAIN_RE = re.compile(rf"(?:(?i:arxiv)\s*:\s*|{_DOI})?{_ID}(?:\s*\[[\w.-]+\])?")
# Whole-string forms: a URL on a known host, with optional .pdf, path, query, fragment.
_URL_RE = re.compile(rf"{_HOSTS}{_ID}(?:\.pdf)?(?:[/?#]\S*)?")
# Free text: an id that is not glued to a longer token of word chars, dots or dashes.
_FIND_RE = re.compile(rf"(?:(?i:10\.48550/arxiv\.)|(?<![\w.-])){_ID}(?!\w|\.[0-9])")


def valid_new(ident: str) -> bool:
    """YYMM.NNNN for 0704..1412, YYMM.NNNNN from 1501, month 01-12."""
    yymm, number = ident.split(".")
    if not 1 <= int(yymm[2:]) <= 12 or yymm < "0704":
        return False
    return len(number) == (4 if yymm <= "1412" else 5)


def _valid_old(digits: str) -> bool:
    """YYMMNNN with YY in 91..99 or 00..07 and month 01-12."""
    yy, mm = int(digits[:2]), int(digits[2:4])
    return (yy >= 91 or yy <= 7) and 1 <= mm <= 12


def _from_match(match: re.Match[str]) -> tuple[str, int | None] | None:
    """Normalised (id, version) of a regex match, or None if the date/width is invalid."""
    if match["new"]:
        ident, ok = match["new"], valid_new(match["new"])
    else:
        ident, ok = f"{match['archive']}/{match['old']}", _valid_old(match["old"])
    if not ok:
        return None
    version = match["version"]
    return ident, int(version) if version else None


def _match_whole(text: str) -> tuple[str, int | None] | None:
    """(id, version) denoted by the whole string, without building an ArxivId."""
    text = text.strip()
    for regex in (_PLAIN_RE, _URL_RE):
        match = regex.fullmatch(text)
        if match:
            return _from_match(match)
    return None


@dataclass(frozen=True, order=True)
class ArxivId:
    """A normalised arXiv identifier: versionless ``id`` plus optional ``version``."""

    id: str
    version: int | None = None

    def __post_init__(self) -> None:
        if _match_whole(str(self)) != (self.id, self.version):
            raise ValueError(f"invalid ArxivId(id={self.id!r}, version={self.version!r})")

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}v{self.version}"

    @property
    def is_old_style(self) -> bool:
        """True for pre-2007 ``archive/YYMMNNN`` identifiers."""
        return "/" in self.id


def parse(text: str) -> ArxivId | None:
    """The id that the whole string denotes, or None.

    Accepts a bare id, an `arXiv:` prefixed id, a URL on a known host, or a DOI.
    """
    found = _match_whole(text)
    return ArxivId(*found) if found else None


def find(text: str) -> list[ArxivId]:
    """Every id named anywhere in free text (URLs included), in order of first appearance.

    The same versionless id is returned once, keeping the first occurrence's version.
    """
    seen: dict[str, ArxivId] = {}
    for match in _FIND_RE.finditer(text):
        found = _from_match(match)
        if found and found[0] not in seen:
            seen[found[0]] = ArxivId(*found)
    return list(seen.values())


def find_ids(text: str) -> list[str]:
    """Like find, but versionless id strings."""
    return [arxiv_id.id for arxiv_id in find(text)]


def normalize(text: str) -> str:
    """Versionless id of the whole string.

    Raises ValueError("not an arXiv id: '...'") when the string denotes no id.
    """
    found = parse(text)
    if found is None:
        raise ValueError(f"not an arXiv id: {text!r}")
    return found.id
