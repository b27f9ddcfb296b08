"""Link a mention to the papers it names: arXiv ids in its text and in its expanded links
(never in shortened links, which hide them). Pure, with a cheap prefilter for firehoses."""

from __future__ import annotations

from collections.abc import Iterable

from hotpapers.arxiv_ids import find_ids, parse

__all__ = ["might_name_paper", "paper_ids"]


def might_name_paper(text: str) -> bool:
    """False when `text` names no paper in a form we accept: substring tests, no regex.
    A paper is named by a link (arxiv.org, alphaxiv.org, huggingface.co/papers), a DOI
    (10.48550/...) or an id after "arXiv:" spelt arxiv, arXiv, ArXiv or ARXIV; a bare
    number such as 2101.01234 alone is too often something else."""
    return ("xiv" in text or "Xiv" in text or "XIV" in text or "10.48550" in text
            or "co/papers" in text)


def paper_ids(text: str | None, urls: Iterable[str | None] = ()) -> list[str]:
    """Versionless ids named by the expanded `urls` (each a whole URL on a known host or a
    DOI) and in `text`, in order of first appearance, each once."""
    found: dict[str, None] = {}
    for url in urls:
        if url and might_name_paper(url):
            arxiv_id = parse(url)
            if arxiv_id is not None:
                found.setdefault(arxiv_id.id)
    if text and might_name_paper(text):
        for ident in find_ids(text):
            found.setdefault(ident)
    return list(found)
