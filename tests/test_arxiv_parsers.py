"""The arXiv parsers on every recorded body in ../shared/fixtures/real (one test each) and on
truncated and malformed bodies."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from conftest import FIXTURES, shared_path
from hotpapers.errors import SourceError
from hotpapers.sources.arxiv.api import parse_feed
from hotpapers.sources.arxiv.oai import parse_page
from hotpapers.sources.arxiv.rss import parse_listing


def real(*parts: str) -> bytes:
    return shared_path("fixtures", "real", *parts).read_bytes()


@pytest.mark.parametrize(("name", "total", "count", "first_id", "categories"), [
    ("query-id_list-1707.08567.atom.xml", 1, 1, "1707.08567", ["cs.IT"]),
    ("query-id_list-2104.12255v1.atom.xml", 1, 1, "2104.12255", ["cs.CR"]),
    ("query-id_list-1605.08386.atom.xml", 1, 1, "1605.08386", ["math.CO", "math.ST"]),
    ("query-id_list-astro-ph_0601001.atom.xml", 1, 1, "astro-ph/0601001", ["astro-ph"]),
    ("query-id_list-quant-ph_0201082v1.atom.xml", 1, 1, "quant-ph/0201082", ["quant-ph", "cs.PL"]),
    ("query-id_list-0808.05394_1707.08567.one-missing.atom.xml", 1, 1, "1707.08567", ["cs.IT"]),
    ("query-id_list-0000.0000.empty.atom.xml", 0, 0, None, None),
    ("query-id_list-0808.05394.empty.atom.xml", 0, 0, None, None),
    ("query-search_query-testing-start0-max10.atom.xml", 214881, 10, "2202.12139",
     ["cs.SE", "cs.LG"]),
    ("query-search_query-testing-start10-max10.atom.xml", 214881, 10, "2403.16981",
     ["math.ST", "cs.IT", "stat.ML"]),
    ("query-search_query-testing-start0-max100.atom.xml", 214881, 100, "2202.12139",
     ["cs.SE", "cs.LG"]),
    ("query-search_query-all_transformer-AND-cat_cs.LG-max5.2026-06-14.atom.xml", 28946, 5,
     "2606.13677", ["cs.RO", "cs.AI", "cs.CV", "cs.LG"]),
    ("legacy2016-query-id_list-1111.2011v2.atom.xml", 1, 1, "1111.2011",
     ["cond-mat.str-el", "cond-mat.stat-mech"]),
    ("legacy2016-query-search_query-au_del_maestro.atom.xml", 31, 10, "1201.4869",
     ["cond-mat.mes-hall", "cond-mat.other"]),
    ("legacy2016-query-search_query-au_del_maestro-AND-ti_checkerboard.atom.xml", 1, 1,
     "cond-mat/0603029", ["cond-mat.str-el", "cond-mat.supr-con"]),
])
def test_export_api_bodies(name, total, count, first_id, categories):
    page = parse_feed(real("arxiv-api", name), name)
    assert (page.total, len(page.papers)) == (total, count)
    if first_id:
        assert (page.papers[0].id, page.papers[0].categories) == (first_id, categories)
        assert all(p.title and p.authors and p.abs_url for p in page.papers)


def test_export_api_details_of_one_paper():
    (paper,) = parse_feed(real("arxiv-api", "legacy2016-query-id_list-1111.2011v2.atom.xml")).papers
    assert paper.latest_version == 2
    assert paper.title == ("Quantum Criticality for Extended Nodes on a Bethe Lattice in the "
                           "Large Connectivity Limit")
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.submitted_at == datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)
    assert paper.pdf_url == "https://arxiv.org/pdf/1111.2011"
    big = parse_feed(real("arxiv-api", "query-id_list-1707.08567.atom.xml")).papers[0]
    assert big.authors[-2] == "Dirk Wübben" and len(big.authors) == 34


def test_export_api_error_feed():
    with pytest.raises(SourceError, match="arXiv API error: incorrect id format for abc"):
        parse_feed(real("arxiv-api", "query-id_list-abc.error-http400.atom.xml"), "API")


@pytest.mark.parametrize(("name", "count", "first_id", "categories", "token"), [
    ("ListRecords-arXiv-set_cs-from_2015-01-16-until_2015-01-18.46-records.xml", 46,
     "1101.4388", ["stat.ML", "cs.LG", "math.FA"], None),
    ("ListRecords-arXiv-set_physics-from_2015-01-16-until_2015-01-18.150-records.xml", 150,
     "0912.3200", ["math.CO", "math-ph", "math.MP"], None),
    ("ListRecords-arXiv-set_physics_hep-ex-from_2017-12-14.trimmed-upstream.xml", 3,
     "1706.05371", ["physics.ins-det", "hep-ex"], None),
    ("ListRecords-arXiv-set_physics_hep-th-from_2017-12-14.trimmed-upstream.xml", 3,
     "1412.8323", ["quant-ph", "gr-qc", "hep-th", "math-ph", "math.MP", "physics.hist-ph"],
     None),
    ("ListRecords-oai_dc-set_cs-from_2024-01-25.resumptionToken.trimmed-upstream.xml", 5,
     None, None, "6960524|1001"),
    ("ListRecords-error-noRecordsMatch-set_physics_hep-lat.xml", 0, None, None, None),
])
def test_oai_pmh_bodies(name, count, first_id, categories, token):
    page = parse_page(real("arxiv-oai-pmh", name), name)
    assert (len(page.records), page.token) == (count, token)
    if first_id:
        paper = page.records[0].paper
        assert (paper.id, paper.categories) == (first_id, categories)
        assert all(r.paper and r.paper.title for r in page.records)
    if token:
        assert page.complete_size == 1162
        assert all(r.paper is None and r.identifier.startswith("oai:arXiv.org:")
                   for r in page.records)  # oai_dc is not a format hotpapers reads


def test_oai_arxiv_format_authors_and_dates():
    page = parse_page(real("arxiv-oai-pmh", "ListRecords-arXiv-set_cs-from_2015-01-16-until_"
                                            "2015-01-18.46-records.xml"))
    first = page.records[0]
    assert first.datestamp == date(2015, 1, 16) and first.sets == ["cs"]
    assert first.paper.authors == ["Guohui Song", "Haizhang Zhang", "Fred J. Hickernell"]
    assert first.paper.doi == "10.1016/j.acha.2012.03.009"
    assert first.paper.submitted_at == datetime(2011, 1, 23, tzinfo=UTC)


@pytest.mark.parametrize("name", [
    "rss-cs.LG+cs.AI+cs.CL+stat.ML.2026-09-24.trimmed-upstream-4-items.xml",
    "atom-cs.LG.2026-09-25.trimmed-upstream-3-entries-abstracts-shortened.xml",
])
def test_announcement_feeds(name):
    listing = parse_listing(real("arxiv-rss", name), name)
    kinds = [item.announce_type for item in listing.items]
    if name.startswith("rss"):
        assert listing.day == date(2026, 9, 24) and kinds == ["new", "new", "cross", "replace"]
    else:
        assert listing.day == date(2026, 9, 25) and kinds == ["new", "cross", "replace"]
        assert listing.items[0].paper.journal_ref.startswith("2026 International Conference")
    assert all(not item.paper.abstract.startswith("arXiv:") for item in listing.items)


@pytest.mark.parametrize("cut", [0.2, 0.5, 0.9])
def test_truncated_bodies_are_named_errors(cut):
    body = (FIXTURES / "arxiv" / "oai-cs-page1.xml").read_bytes()
    with pytest.raises(SourceError, match=r"^OAI page: malformed XML at line \d+, column \d+$"):
        parse_page(body[: int(len(body) * cut)], "OAI page")


def test_entity_declarations_are_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><feed>&a;</feed>'
    with pytest.raises(SourceError, match="DOCTYPE"):
        parse_feed(bomb, "API")
