"""Fault class (d): hypothesis fuzzing of every parser that turns a whole answer, line,
frame or file into data: whatever the bytes, only hotpapers' own errors (HotpapersError)
escape. Per-item parsers (one hit, one status) raise ValueError by contract, caught by the
page loops fuzzed here; Jetstream frames are fuzzed through the ingest that counts them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import sqlite_only
from hotpapers.errors import HotpapersError
from hotpapers.jobs.jetstream_ingest import JetstreamIngest
from hotpapers.render.lumen_parse import parse_post
from hotpapers.sources import hf, hn, reddit
from hotpapers.sources.arxiv import api, oai, rss
from hotpapers.sources.arxiv.kaggle import read_lines
from hotpapers.sources.x.tweets import parse_page as x_page
from hotpapers.store.db import connect

pytestmark = sqlite_only("its stores are SQLite files of real processes; it runs once")

NOW = datetime(2026, 6, 13, tzinfo=UTC)
EXAMPLES = 40

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=5),
                           max_leaves=25)
KEYS = ["hits", "objectID", "created_at", "created_at_i", "points", "num_comments", "title",
        "url", "data", "meta", "next_token", "includes", "public_metrics", "paper", "id",
        "upvotes", "children", "after", "kind", "author", "publishedAt", "nbPages"]
shaped = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(KEYS), inner, max_size=6),
                      max_leaves=30)
answers = json_values | shaped


def only_own_errors(call, *args) -> None:
    try:
        result = call(*args)
        if hasattr(result, "__next__"):
            list(result)
    except HotpapersError:
        pass


@settings(max_examples=EXAMPLES)
@given(answers)
def test_json_answers_raise_only_hotpapers_errors(body):
    only_own_errors(hn.parse_search_page, body)
    only_own_errors(hf.parse_daily_papers, body, date(2026, 6, 12))
    only_own_errors(reddit.listing_posts, body, "r/x")
    only_own_errors(x_page, body)


TAGS = ["<feed xmlns='http://www.w3.org/2005/Atom'>", "</feed>", "<entry>", "</entry>",
        "<id>http://arxiv.org/abs/2401.00001v1</id>", "<published>", "</published>",
        "<updated>2026-99-99</updated>", "<title>", "</title>", "<rss><channel>",
        "</channel></rss>", "<item>", "</item>", "<pubDate>Thu, 99 Foo 2026</pubDate>",
        "<OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/'>", "</OAI-PMH>",
        "<resumptionToken>", "</resumptionToken>", "<?xml version='1.0' encoding='bogus'?>",
        "<!DOCTYPE x [<!ENTITY a 'aaaa'>]>", "&a;", "<opensearch:totalResults "
        "xmlns:opensearch='http://a9.com/-/spec/opensearch/1.1/'>x</opensearch:totalResults>"]
xml_bodies = st.lists(st.sampled_from(TAGS) | st.text(max_size=10), max_size=15).map(
    lambda parts: "".join(parts).encode()) | st.binary(max_size=200)


@settings(max_examples=EXAMPLES)
@given(xml_bodies)
def test_xml_answers_raise_only_hotpapers_errors(body):
    only_own_errors(api.parse_feed, body)
    only_own_errors(oai.parse_page, body)
    only_own_errors(rss.parse_listing, body)
    only_own_errors(reddit.parse_feed, body)


@settings(max_examples=EXAMPLES)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_legacy_posts_raise_only_hotpapers_errors(data):
    only_own_errors(parse_post, data, "fuzz.md")


@settings(max_examples=EXAMPLES)
@given(st.lists(st.binary(max_size=80) | json_values.map(lambda v: repr(v).encode()),
                max_size=5))
def test_snapshot_lines_never_stop_the_import(lines):
    assert len(list(read_lines(lines))) <= len(lines)


@pytest.fixture(scope="module")
def ingest(tmp_path_factory):
    engine = connect(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 's.sqlite3'}")
    yield JetstreamIngest(engine, lambda: NOW)
    engine.dispose()


frames = st.text(max_size=200) | json_values.map(str) | st.fixed_dictionaries({
    "did": st.text(max_size=10), "time_us": scalars, "kind": st.sampled_from(
        ["commit", "identity", "account", "x"]), "commit": json_values}).map(json.dumps)


@settings(max_examples=EXAMPLES)
@given(frames)
def test_jetstream_frames_raise_only_hotpapers_errors(ingest, line):
    only_own_errors(ingest.feed, line)
    only_own_errors(ingest.flush)
