"""The arXiv parsers under hostile and broken input: entity bombs, external entities,
DOCTYPEs hidden behind comments or UTF-16, bad encodings, dates and numbers, and fuzzed
bodies. Only SourceError may escape, naming the request and the element."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from conftest import FIXTURES, SHARED
from hotpapers.errors import SourceError
from hotpapers.sources.arxiv.api import parse_feed
from hotpapers.sources.arxiv.oai import parse_page
from hotpapers.sources.arxiv.rss import parse_listing
from hotpapers.sources.reddit import parse_feed as parse_reddit_feed

ARXIV = FIXTURES / "arxiv"
REAL = SHARED / "fixtures" / "real"
PARSERS = {"api": parse_feed, "oai": parse_page, "feed": parse_listing,
           "reddit-feed": parse_reddit_feed}  # every XML body a source reads

LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol0 "lol">\n'
          + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, b"&lol%d;" % (i - 1) * 10)
                     for i in range(1, 10))
          + b']>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol9;</title></feed>')
QUADRATIC = (b'<?xml version="1.0"?>\n<!DOCTYPE q [<!ENTITY a "' + b"x" * 100_000 + b'">]>\n'
             b'<feed xmlns="http://www.w3.org/2005/Atom"><title>' + b"&a;" * 50_000
             + b"</title></feed>")
EXTERNAL = (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
            b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&e;</title></feed>')
PARAMETER = (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd">'
             b"%p;]>\n<rss><channel/></rss>")


def behind_a_comment(body: bytes) -> bytes:
    """The DOCTYPE after a 5,000-byte comment (a guard reading the first bytes misses it)."""
    head, rest = body.split(b"\n", 1)
    return head + b"\n<!--" + b" padding " * 600 + b"-->\n" + rest


def utf16(body: bytes) -> bytes:
    text = body.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    return text.encode("utf-16")


HOSTILE = {
    "billion-laughs": LAUGHS, "quadratic-blowup": QUADRATIC, "external-entity": EXTERNAL,
    "external-parameter-entity": PARAMETER,
    "laughs-behind-a-comment": behind_a_comment(LAUGHS),
    "quadratic-behind-a-comment": behind_a_comment(QUADRATIC),
    "external-behind-a-comment": behind_a_comment(EXTERNAL),
    "laughs-in-utf16": utf16(LAUGHS), "external-in-utf16": utf16(EXTERNAL),
    "quadratic-in-utf16": utf16(QUADRATIC),
}


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("name", HOSTILE)
def test_p9_dtds_and_entities_are_refused_quickly(name, parser):
    started = time.perf_counter()
    with pytest.raises(SourceError, match=r"^hostile: refusing XML with a DOCTYPE"):
        PARSERS[parser](HOSTILE[name], "hostile")
    assert time.perf_counter() - started < 2.0


def test_p9_a_harmless_utf16_body_is_read():
    body = (ARXIV / "rss-cs+stat.ML.xml").read_bytes().decode()
    body = body.replace("encoding='UTF-8'", "encoding='UTF-16'").encode("utf-16")
    listing = parse_listing(body, "feed")
    assert [item.paper.id for item in listing.items][:1] == ["2403.00001"]


RSS = (ARXIV / "rss-cs+stat.ML.xml").read_bytes()
API = (ARXIV / "api-details.xml").read_bytes()
OAI = (ARXIV / "oai-cs-page1.xml").read_bytes()


def replace_first(body: bytes, tag: bytes, value: bytes, after: bytes = b"") -> bytes:
    """`body` with the text of the first <tag> (after `after`) replaced by `value`."""
    at = body.index(after)
    changed, count = re.subn(rb"(<%s(?:\s[^>]*)?>)[^<]*(</%s>)" % (tag, tag),
                             lambda m: m[1] + value + m[2], body[at:], count=1)
    assert count == 1, tag
    return body[:at] + changed


def atom_feed() -> bytes:
    return (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
            b'xmlns:arxiv="http://arxiv.org/schemas/atom"><entry><id>oai:arXiv.org:2609.28553v1'
            b"</id><title>T</title><summary>arXiv:2609.28553v1 Announce Type: new Abstract: A"
            b"</summary><published>2026-09-25T00:00:00-04:00</published></entry></feed>")


@pytest.mark.parametrize(("parser", "body", "element"), [
    ("feed", replace_first(RSS, b"pubDate", b"Thu, 99 Foo 2026"), "<pubDate>"),
    ("feed", replace_first(RSS, b"pubDate", b"Thu, 31 Feb 2026 00:00:00 +0000"), "<pubDate>"),
    ("feed", replace_first(atom_feed(), b"published", b"2026-13-45T00:00:00"), "<published>"),
    ("api", replace_first(API, b"published", b"yesterday"), "<published>"),
    ("api", replace_first(API, b"updated", b"2024-02-30T00:00:00Z", b"<entry>"), "<updated>"),
    ("api", replace_first(API, b"opensearch:totalResults", b"many"), "<totalResults>"),
    ("api", replace_first(API, b"opensearch:startIndex", b"1e3"), "<startIndex>"),
    ("oai", replace_first(OAI, b"date", b"Thu, 99 Foo 2026"), "<date>"),
    ("oai", replace_first(OAI, b"datestamp", b"2024-99-01"), "<datestamp>"),
])
def test_p8_bad_dates_and_numbers_name_the_element(parser, body, element):
    with pytest.raises(SourceError, match=rf"^answer: .*{re.escape(element)}"):
        PARSERS[parser](body, "answer")


@pytest.mark.parametrize("declaration", [
    b'<?xml version="1.0" encoding="klingon"?>', b'<?xml version="1.0" encoding="utf-32"?>',
    b'<?xml version="1.0" encoding="UTF-16"?>', b'<?xml version="1.0" encoding=""?>',
    b'<?xml version="1.0" encoding="\xff\xfe"?>', b'<?xml version="1.0" encoding="cp037"?>',
])
@pytest.mark.parametrize("parser", PARSERS)
def test_p8_unknown_or_wrong_encodings_are_source_errors(parser, declaration):
    body = declaration + b'<feed xmlns="http://www.w3.org/2005/Atom"/>'
    with pytest.raises(SourceError, match=r"^answer: "):
        PARSERS[parser](body, "answer")


def small_bodies() -> dict[str, list[bytes]]:
    """Own fixtures, plus the small recorded bodies when ../shared is there."""
    bodies = {"api": [API, atom_feed()], "oai": [OAI, (ARXIV / "oai-cs-page2.xml").read_bytes()],
              "feed": [RSS, atom_feed()]}
    real = {"api": ["arxiv-api", "query-id_list-1707.08567.atom.xml"],
            "oai": ["arxiv-oai-pmh", "ListRecords-arXiv-set_physics_hep-th-from_2017-12-14"
                    ".trimmed-upstream.xml"],
            "feed": ["arxiv-rss", "atom-cs.LG.2026-09-25.trimmed-upstream-3-entries-"
                     "abstracts-shortened.xml"]}
    for parser, parts in real.items():
        if REAL.joinpath(*parts).exists():
            bodies[parser].append(REAL.joinpath(*parts).read_bytes())
    return bodies


BODIES = small_bodies()
TRICKY = [b"", b"x", b"-1", b"99", b"1e9", b"nan", b"Thu, 99 Foo 2026", b"2026-13-45",
          b"9" * 40, b"v", b"vx", b"\xff\xfe", b"&amp;", b"<", b"]]>", "\u00e9".encode()]


@st.composite
def mutated(draw, parser: str) -> bytes:
    """A body of `parser`'s fixtures, broken one way: bytes inserted, truncated, the text
    of an element or attribute replaced, or the encoding declaration changed."""
    body = draw(st.sampled_from(BODIES[parser]))
    how = draw(st.sampled_from(["insert", "truncate", "text", "attribute", "encoding"]))
    if how == "insert":
        at = draw(st.integers(0, len(body)))
        return body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at:]
    if how == "truncate":
        return body[:draw(st.integers(0, len(body)))]
    if how == "encoding":
        name = draw(st.sampled_from([b"latin-1", b"ascii", b"utf-16", b"klingon", b"x" * 300,
                                     b"utf-7", b"cp500"]))
        return re.sub(rb"encoding=.([\w-]+).", b'encoding="' + name + b'"', body, count=1)
    value = draw(st.sampled_from(TRICKY) | st.text(max_size=12).map(str.encode))
    pattern = rb">([^<]+)<" if how == "text" else rb'="([^"]*)"'
    spans = [m.span(1) for m in re.finditer(pattern, body)]
    start, end = draw(st.sampled_from(spans))
    return body[:start] + value + body[end:]


def only_source_errors(parser: str, body: bytes) -> None:
    try:
        PARSERS[parser](body, "fuzzed")
    except SourceError as exc:
        assert str(exc).startswith("fuzzed: ") and "\n" not in str(exc)


FUZZ = hypothesis_settings(max_examples=300, deadline=None,
                           suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(body=mutated("api"))
def test_p8_fuzzed_api_answers_raise_only_source_errors(body):
    only_source_errors("api", body)


@FUZZ
@given(body=mutated("oai"))
def test_p8_fuzzed_oai_pages_raise_only_source_errors(body):
    only_source_errors("oai", body)


@FUZZ
@given(body=mutated("feed"))
def test_p8_fuzzed_announcement_feeds_raise_only_source_errors(body):
    only_source_errors("feed", body)
