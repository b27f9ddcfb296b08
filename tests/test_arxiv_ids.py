"""Tests for hotpapers.arxiv_ids: table of real-looking cases plus Hypothesis properties."""

import dataclasses
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotpapers.arxiv_ids import ArxivId, find, find_ids, normalize, parse

OLD_ARCHIVES = (  # space-separated
    "acc-phys adap-org alg-geom ao-sci astro-ph atom-ph bayes-an chao-dyn chem-ph cmp-lg "
    "comp-gas cond-mat cs dg-ga funct-an gr-qc hep-ex hep-lat hep-ph hep-th math math-ph "
    "mtrl-th nlin nucl-ex nucl-th patt-sol physics plasm-ph q-alg q-bio quant-ph solv-int "
    "supr-con"
)

# --------------------------------------------------------------------------- tables

PARSE_CASES = [
    # bare and prefixed ids
    ("2101.06046", "2101.06046"),
    ("2101.06046v2", "2101.06046v2"),
    ("  1706.03762\n", "1706.03762"),
    ("arXiv:2101.06046", "2101.06046"),
    ("arxiv:2101.06046v2", "2101.06046v2"),
    ("arXiv: 2101.06046", "2101.06046"),
    ("ARXIV:1706.03762", "1706.03762"),
    ("arXiv:1706.03762v7 [cs.CL]", "1706.03762v7"),
    ("0704.0001", "0704.0001"),
    ("1412.9999", "1412.9999"),
    ("1501.00001", "1501.00001"),
    ("hep-th/9901001", "hep-th/9901001"),
    ("cond-mat/0102536v1", "cond-mat/0102536v1"),
    ("math.GT/0309136", "math/0309136"),
    ("arXiv:astro-ph/0703999", "astro-ph/0703999"),
    # URLs
    ("https://arxiv.org/abs/2101.06046v3?context=cs.LG#", "2101.06046v3"),
    ("https://www.arxiv.org/pdf/2101.06046v1.pdf", "2101.06046v1"),
    ("http://export.arxiv.org/abs/hep-th/9901001v2", "hep-th/9901001v2"),
    ("https://arxiv.org/pdf/2101.06046", "2101.06046"),
    ("https://arxiv.org/pdf/2101.06046v2", "2101.06046v2"),
    ("https://arxiv.org/html/2401.01234v1", "2401.01234v1"),
    ("https://arxiv.org/html/2401.01234v1/#S3.SS2", "2401.01234v1"),
    ("https://arxiv.org/format/2101.06046", "2101.06046"),
    ("https://arxiv.org/ps/hep-th/9901001", "hep-th/9901001"),
    ("https://arxiv.org/abs/math.GT/0309136", "math/0309136"),
    ("arxiv.org/abs/1706.03762", "1706.03762"),
    ("HTTPS://ArXiv.org/abs/1706.03762", "1706.03762"),
    ("https://huggingface.co/papers/2401.01234", "2401.01234"),
    ("https://www.alphaxiv.org/abs/2401.01234", "2401.01234"),
    ("https://alphaxiv.org/overview/2401.01234v2", "2401.01234v2"),
    # DOIs
    ("doi.org/10.48550/arXiv.2401.01234", "2401.01234"),
    ("https://doi.org/10.48550/arXiv.2401.01234", "2401.01234"),
    ("10.48550/ARXIV.2401.01234", "2401.01234"),
    ("doi:10.48550/arXiv.hep-th/9901001", "hep-th/9901001"),
    # near misses
    ("", None),
    ("   ", None),
    ("see 2101.06046 for details", None),
    ("2101.06046.", None),
    ("0703.1234", None),
    ("0612.1234", None),
    ("2113.06046", None),
    ("2100.06046", None),
    ("1412.12345", None),
    ("1501.1234", None),
    ("2101.060461", None),
    ("12101.06046", None),
    ("2101.06046v0", None),
    ("2101.06046v", None),
    ("foo/9901001", None),
    ("HEP-TH/9901001", None),
    ("hep-th/9013001", None),
    ("hep-th/0801001", None),
    ("hep-th/9001001", None),
    ("hep-th/990100", None),
    ("3.14159", None),
    ("v1.2.3", None),
    ("https://example.com/abs/2101.06046", None),
    ("https://arxiv.org/list/cs.LG/recent", None),
    ("https://arxiv.org/abs/2101.06046x", None),
    ("https://t.co/AbC2101x06", None),
]

FIND_CASES = [
    (
        "New paper! arXiv:2101.06046 builds on 1706.03762v5 and hep-th/9901001 🔥 "
        "https://t.co/Xy12AbC3dE",
        ["2101.06046", "1706.03762v5", "hep-th/9901001"],
    ),
    (
        "Check https://arxiv.org/abs/2101.06046v3?context=cs.LG# and "
        "https://www.arxiv.org/pdf/2101.06046v1.pdf",
        ["2101.06046v3"],
    ),
    ("see 2101.06046 for details", ["2101.06046"]),
    ("(2101.06046), 1706.03762. Also 2012.00001!", ["2101.06046", "1706.03762", "2012.00001"]),
    ("Read arXiv:2101.06046v2, then arXiv:2101.06046v3", ["2101.06046v2"]),
    ("math.GT/0309136 and math/0309136v2", ["math/0309136"]),
    ("http://export.arxiv.org/abs/hep-th/9901001v2", ["hep-th/9901001v2"]),
    (
        "via https://huggingface.co/papers/2401.01234 and https://www.alphaxiv.org/abs/2401.05678",
        ["2401.01234", "2401.05678"],
    ),
    ("doi.org/10.48550/arXiv.2401.01234", ["2401.01234"]),
    ("DOI: 10.48550/arXiv.2401.01234.", ["2401.01234"]),
    ("<https://arxiv.org/abs/1706.03762>", ["1706.03762"]),
    ("[paper](https://arxiv.org/pdf/1706.03762v7)", ["1706.03762v7"]),
    ("https://arxiv.org/html/2401.01234v1/#S3 is nice", ["2401.01234v1"]),
    ("huggingface.co/papers/2401.01234#community", ["2401.01234"]),
    ("saved as 2101.06046.pdf", ["2101.06046"]),
    ("0704.0001 was first; 0703.0001 never existed", ["0704.0001"]),
    # near misses in free text
    ("https://t.co/Ab3dE5fG7h https://t.co/2101060460", []),
    ("RT @someone: wow https://t.co/x2101y0604", []),
    ("released v1.2101.0604 today", []),
    ("upgrade from 1.2.3 to 2.1012.3", []),
    ("pi is 3.14159 and 12345.6789 is big", []),
    ("dated 2021.01.18 or 2021.0118", []),
    ("call +1 650.253.0000 or 0800.123456", []),
    ("id 12101.06046 and 2101.060461", []),
    ("1412.12345 and 1501.1234 have the wrong width", []),
    ("2101.06046v2abc ID2101.06046 2101.06046.1", []),
    ("https://example.com/foo/9901001", []),
    ("https://example.org/files/xyz-hep-th/9901001", []),
    ("hep-th/9913001 cond-mat/0801001", []),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_table(text: str, expected: str | None) -> None:
    result = parse(text)
    assert (None if result is None else str(result)) == expected


@pytest.mark.parametrize(("text", "expected"), FIND_CASES)
def test_find_table(text: str, expected: list[str]) -> None:
    assert [str(x) for x in find(text)] == expected
    assert find_ids(text) == [parse(s).id for s in expected]  # type: ignore[union-attr]


# --------------------------------------------------------------------------- unit tests


def test_arxiv_id_str_and_style() -> None:
    assert str(ArxivId("2101.06046", 2)) == "2101.06046v2"
    assert str(ArxivId("hep-th/9901001")) == "hep-th/9901001"
    assert ArxivId("hep-th/9901001", None).is_old_style
    assert not ArxivId("2101.06046", None).is_old_style


def test_arxiv_id_is_frozen_and_ordered() -> None:
    x = ArxivId("2101.06046", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        x.version = 2  # type: ignore[misc]
    ids = [ArxivId("hep-th/9901001", None), ArxivId("2101.06046", 3), ArxivId("2101.06046", 1)]
    assert sorted(ids) == [ids[2], ids[1], ids[0]]


@pytest.mark.parametrize(
    ("ident", "version"),
    [
        ("2101.06046v2", None),
        ("arXiv:2101.06046", None),
        ("math.GT/0309136", None),
        ("foo/9901001", None),
        ("2101.06046", 0),
        ("2101.06046", True),
    ],
)
def test_arxiv_id_rejects_unnormalised(ident: str, version: int | None) -> None:
    with pytest.raises(ValueError, match="invalid ArxivId"):
        ArxivId(ident, version)


def test_normalize() -> None:
    assert normalize("https://arxiv.org/abs/2101.06046v3") == "2101.06046"
    assert normalize("arXiv:math.GT/0309136v1") == "math/0309136"
    with pytest.raises(ValueError, match=r"^not an arXiv id: 'nope'$"):
        normalize("nope")


# --------------------------------------------------------------------------- strategies


@st.composite
def new_style(draw: st.DrawFn) -> str:
    year = draw(st.integers(7, 99))
    month = draw(st.integers(4 if year == 7 else 1, 12))
    yymm = f"{year:02d}{month:02d}"
    width = 4 if yymm <= "1412" else 5
    return f"{yymm}.{draw(st.integers(0, 10**width - 1)):0{width}d}"


@st.composite
def old_style(draw: st.DrawFn) -> str:
    archive = draw(st.sampled_from(OLD_ARCHIVES.split()))
    year = draw(st.sampled_from([*range(91, 100), *range(8)]))
    month = draw(st.integers(1, 12))
    return f"{archive}/{year:02d}{month:02d}{draw(st.integers(0, 999)):03d}"


versions = st.none() | st.integers(1, 9999)
arxiv_ids = st.builds(ArxivId, st.one_of(new_style(), old_style()), versions)
words = st.lists(st.text(string.ascii_letters, min_size=1, max_size=8), max_size=6)


def variants(x: ArxivId) -> list[str]:
    """Every whole-string form that should denote x."""
    s = str(x)
    return [
        s,
        f"arXiv:{s}",
        f"arxiv: {s}",
        f"https://arxiv.org/abs/{s}",
        f"https://arxiv.org/abs/{s}?context=cs.LG#",
        f"http://www.arxiv.org/pdf/{s}",
        f"https://arxiv.org/pdf/{s}.pdf",
        f"https://export.arxiv.org/abs/{s}",
        f"https://arxiv.org/html/{s}/",
        f"https://arxiv.org/html/{s}/#S2",
        f"https://arxiv.org/format/{s}",
        f"https://arxiv.org/ps/{s}",
        f"https://www.alphaxiv.org/abs/{s}",
        f"https://alphaxiv.org/overview/{s}",
        f"https://huggingface.co/papers/{s}",
        f"10.48550/arXiv.{s}",
        f"https://doi.org/10.48550/arXiv.{s}",
    ]


# --------------------------------------------------------------------------- properties


@given(arxiv_ids)
def test_str_round_trips(x: ArxivId) -> None:
    assert parse(str(x)) == x
    assert x.is_old_style == ("/" in x.id)


@given(arxiv_ids)
def test_every_variant_parses(x: ArxivId) -> None:
    for form in variants(x):
        assert parse(form) == x, form


@given(arxiv_ids, st.sampled_from(["math.GT", "cs.AI", "physics.acc-ph"]))
def test_subject_class_is_dropped(x: ArxivId, subject: str) -> None:
    if x.is_old_style:
        with_subject = f"{subject}/{str(x).split('/')[1]}"
        assert parse(with_subject) == ArxivId(f"{subject.split('.')[0]}/{x.id[-7:]}", x.version)


@given(arxiv_ids, words, words, st.data())
def test_find_in_text(x: ArxivId, before: list[str], after: list[str], data: st.DataObject) -> None:
    form = data.draw(st.sampled_from(variants(x)))
    opener, closer = data.draw(st.sampled_from([("", ""), ("(", ")"), ("<", ">."), ("", ",")]))
    text = " ".join([*before, f"{opener}{form}{closer}", *after])
    assert find(text) == [x]
    assert find_ids(text) == [x.id]


@given(st.lists(arxiv_ids, min_size=1, max_size=5))
def test_find_order_and_dedup(ids: list[ArxivId]) -> None:
    text = " and ".join(str(x) for x in ids)
    expected: dict[str, ArxivId] = {}
    for x in ids:
        expected.setdefault(x.id, x)
    assert find(text) == list(expected.values())


@given(arxiv_ids)
def test_normalize_is_idempotent(x: ArxivId) -> None:
    for form in variants(x):
        once = normalize(form)
        assert once == x.id
        assert normalize(once) == once


GLUED = ["9{s}", "{id}9", "v1.{s}", "x{s}", "{s}x", "{s}.5", "-{s}", "{s}v0", "{s}_"]


@given(arxiv_ids, st.sampled_from(GLUED))
def test_glued_ids_are_rejected(x: ArxivId, template: str) -> None:
    assert find(template.format(s=x, id=x.id)) == []


FRAGMENTS = [
    "arXiv:",
    " ",
    ".",
    "/",
    "v",
    "v2",
    "10.48550/arXiv.",
    "https://arxiv.org/abs/",
    "hep-th",
    "math.GT",
    "0704",
    "1412",
    "1501",
    "2101",
    "06046",
    "0001",
    "9901001",
]
noisy_text = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS),
        arxiv_ids.map(str),
        st.text("0123456789./v-: ", max_size=6),
    ),
    max_size=12,
).map("".join)


@given(noisy_text | st.text())
def test_find_only_returns_parseable_unique_ids(text: str) -> None:
    found = find(text)
    for x in found:
        assert parse(str(x)) == x
    assert len({x.id for x in found}) == len(found)
    assert find_ids(text) == [x.id for x in found]


@given(st.text())
def test_parse_never_raises(text: str) -> None:
    result = parse(text)
    assert result is None or parse(str(result)) == result
