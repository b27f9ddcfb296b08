"""Atomic file writes: a folder in the target's place is bad input, a refused write names
the target rather than its temporary file, and nothing is left behind."""

from __future__ import annotations

import pytest

from hotpapers.errors import InputError
from hotpapers.render.write import check_writable, write_atomic


def test_a_folder_where_the_file_goes_is_bad_input(tmp_path):
    (tmp_path / "post.md").mkdir()
    for call in (lambda: write_atomic(tmp_path / "post.md", "text"),
                 lambda: check_writable(tmp_path / "post.md")):
        with pytest.raises(InputError, match=r"post\.md: a folder, not a file to write"):
            call()
    assert list(tmp_path.iterdir()) == [tmp_path / "post.md"]


def test_a_refused_write_names_the_target_and_leaves_nothing(tmp_path):
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "post.md"  # its folder would be a file
    for call in (lambda: write_atomic(target, "text"), lambda: check_writable(target)):
        with pytest.raises(OSError) as caught:
            call()
        assert caught.value.filename == str(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_check_writable_leaves_no_file(tmp_path):
    check_writable(tmp_path / "new" / "post.md")
    assert list((tmp_path / "new").iterdir()) == []
    write_atomic(tmp_path / "new" / "post.md", "text")
    assert (tmp_path / "new" / "post.md").read_text() == "text"
