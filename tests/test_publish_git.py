"""The git publisher against real repositories in tmp_path: a bare repository as the blog's
remote and a clone of it as the blog checkout. The user's own git configuration is shut out
(HOME and GIT_CONFIG_GLOBAL point at empty temporary files)."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hotpapers import __version__
from hotpapers.config import Secrets, Settings
from hotpapers.errors import InputError, PublishError
from hotpapers.publish.base import Digest, DigestPaper, Payload, Publisher
from hotpapers.publish.git import GitPublisher, commit_message, scrub_url_credentials

DAY = date(2021, 1, 18)
POST_PATH = "content/posts/2021-01-18---Hot-Papers.md"
AUTHOR = "Hot Papers Bot <bot@hotpapers.example>"
SETUP = ["-c", "user.name=Setup", "-c", "user.email=setup@example.org"]


def post_text(extra: str = "") -> str:
    return ("---\ntitle: \"Hot Papers 2021-01-18\"\n---\n\n"
            "1. \"Attention\" Is All You Need & More 🚀\n"
            "2. 深層学習による論文の要約\n"
            "3. Ünïcödé, 'quotes' and <tags>\n" + extra)


def make_digest(text: str | None = None, n: int = 3) -> Digest:
    titles = ['"Attention" Is All You Need & More 🚀', "深層学習による論文の要約",
              "Ünïcödé, 'quotes' and <tags>"]
    papers = tuple(
        DigestPaper(rank=i + 1, id=f"2101.0000{i + 1}", title=titles[i % 3],
                    authors=("A. Author", "B. Autor"),
                    url=f"https://arxiv.org/abs/2101.0000{i + 1}")
        for i in range(n))
    return Digest(day=DAY, title="Hot Papers 2021-01-18", method="hot",
                  generated_at=datetime(2021, 1, 18, 12, tzinfo=UTC), papers=papers,
                  post_name="2021-01-18---Hot-Papers.md",
                  post_text=post_text() if text is None else text)


def git(*args: str | Path, check: bool = True) -> str:
    result = subprocess.run(["git", *map(str, args)], capture_output=True, text=True,
                            encoding="utf-8", check=False, stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise AssertionError(f"git {args}: {result.stderr}")
    return result.stdout


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_AUTHOR_NAME",
                 "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL",
                 "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("HOTPAPERS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """The blog's remote: a bare repository with one commit on main."""
    path = tmp_path / "blog.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", path)
    seed = tmp_path / "seed"
    git("clone", "--quiet", path, seed)
    (seed / "README.md").write_text("my blog\n")
    git("-C", seed, "add", "README.md")
    git("-C", seed, *SETUP, "commit", "--quiet", "-m", "initial")
    git("-C", seed, "push", "--quiet", "origin", "HEAD:refs/heads/main")
    return path


@pytest.fixture
def checkout(tmp_path: Path, bare: Path) -> Path:
    path = tmp_path / "checkout"
    git("clone", "--quiet", bare, path)
    return path


def publisher(checkout: Path | str, **values) -> GitPublisher:
    settings = Settings(git_checkout=str(checkout), git_author=AUTHOR, **values)
    return GitPublisher(settings, Secrets())


def remote_log(bare: Path, fmt: str = "%H") -> list[str]:
    return git("--git-dir", bare, "log", f"--format={fmt}", "main").splitlines()


def test_is_a_publisher(checkout: Path) -> None:
    assert isinstance(publisher(checkout), Publisher)
    assert GitPublisher.name == "git"


def test_prepare_gives_the_exact_payload_and_touches_nothing(checkout: Path) -> None:
    head = git("-C", checkout, "rev-parse", "HEAD")
    digest = make_digest()
    payloads = publisher(checkout, git_branch="main").prepare(digest)
    message = ("Hot Papers 2021-01-18: 3 papers\n\n"
               f"Published by hotpapers {__version__} (hot)")
    assert payloads == [Payload(
        target="git",
        summary=f"commit {POST_PATH} to origin/main (author {AUTHOR})",
        body=f"{message}\n\n{post_text()}")]
    assert commit_message(digest) == message
    assert git("-C", checkout, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (checkout / POST_PATH).exists()
    assert git("-C", checkout, "rev-parse", "HEAD") == head


def test_prepare_wording_without_branch_or_push(checkout: Path) -> None:
    digest = make_digest(n=1)
    [payload] = publisher(checkout).prepare(digest)
    assert payload.summary == (f"commit {POST_PATH} to origin/(current branch) "
                               f"(author {AUTHOR})")
    assert payload.body.startswith("Hot Papers 2021-01-18: 1 paper\n\n")
    [local] = publisher(checkout, git_push=False).prepare(digest)
    assert local.summary == (f"commit {POST_PATH} on the current branch of "
                             f"{checkout.resolve()} (no push) (author {AUTHOR})")


def test_prepare_refuses_a_digest_without_post(checkout: Path) -> None:
    with pytest.raises(InputError, match="no post text"):
        publisher(checkout).prepare(make_digest(text=""))


def test_send_commits_and_pushes_the_post(checkout: Path, bare: Path) -> None:
    pub = publisher(checkout)
    digest = make_digest()
    receipt = pub.send(digest, pub.prepare(digest))

    commits = remote_log(bare)
    assert len(commits) == 2
    assert receipt.target == "git"
    assert receipt.remote_id == commits[0]
    assert receipt.details == {"path": POST_PATH, "pushed": True}
    assert git("--git-dir", bare, "show", f"main:{POST_PATH}") == post_text()
    fields = git("--git-dir", bare, "log", "-1", "--format=%an%x00%ae%x00%cn%x00%ce%x00%B",
                 "main").split("\x00")
    assert fields[:4] == ["Hot Papers Bot", "bot@hotpapers.example",
                          "Hot Papers Bot", "bot@hotpapers.example"]
    assert fields[4].rstrip("\n") == commit_message(digest)
    changed = git("--git-dir", bare, "show", "--name-only", "--format=", "main").split()
    assert changed == [POST_PATH]
    assert git("-C", checkout, "status", "--porcelain", "--untracked-files=all") == ""


def test_same_digest_twice_makes_no_new_commit(checkout: Path, bare: Path) -> None:
    pub = publisher(checkout)
    digest = make_digest()
    first = pub.send(digest, pub.prepare(digest))
    again = pub.send(digest, pub.prepare(digest))
    assert again.remote_id == first.remote_id
    assert again.details == {"unchanged": True, "path": POST_PATH, "pushed": False}
    assert len(remote_log(bare)) == 2


def test_a_changed_post_makes_a_second_commit(checkout: Path, bare: Path) -> None:
    pub = publisher(checkout)
    first = pub.send(make_digest(), pub.prepare(make_digest()))
    changed = make_digest(text=post_text("4. A late addition\n"))
    second = pub.send(changed, pub.prepare(changed))
    assert remote_log(bare)[:2] == [second.remote_id, first.remote_id]
    assert git("--git-dir", bare, "show", f"main:{POST_PATH}") == post_text("4. A late addition\n")


def test_refuses_when_the_remote_has_commits_the_checkout_lacks(
        tmp_path: Path, checkout: Path, bare: Path) -> None:
    other = tmp_path / "other"
    git("clone", "--quiet", bare, other)
    (other / "about.md").write_text("about\n")
    git("-C", other, "add", "about.md")
    git("-C", other, *SETUP, "commit", "--quiet", "-m", "elsewhere")
    git("-C", other, "push", "--quiet", "origin", "HEAD:refs/heads/main")
    remote_before = remote_log(bare)
    local_before = git("-C", checkout, "rev-parse", "HEAD")

    pub = publisher(checkout)
    with pytest.raises(PublishError) as caught:
        pub.send(make_digest(), pub.prepare(make_digest()))
    assert str(caught.value) == (f"git: {checkout.resolve()} has diverged from origin/main: "
                                 "pull or rebase it first")
    assert remote_log(bare) == remote_before
    assert git("-C", checkout, "rev-parse", "HEAD") == local_before
    assert not (checkout / POST_PATH).exists()


def test_a_local_commit_ahead_of_the_remote_is_pushed_along(
        checkout: Path, bare: Path) -> None:
    (checkout / "draft.md").write_text("draft\n")
    git("-C", checkout, "add", "draft.md")
    git("-C", checkout, *SETUP, "commit", "--quiet", "-m", "local")
    pub = publisher(checkout)
    receipt = pub.send(make_digest(), pub.prepare(make_digest()))
    assert remote_log(bare, "%s") == [commit_message(make_digest()).splitlines()[0], "local",
                                      "initial"]
    assert receipt.remote_id == remote_log(bare)[0]


def test_a_rejected_push_is_one_line(checkout: Path, bare: Path) -> None:
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'policy: no pushes today' >&2\nexit 1\n")
    hook.chmod(0o755)
    pub = publisher(checkout)
    with pytest.raises(PublishError) as caught:
        pub.send(make_digest(), pub.prepare(make_digest()))
    message = str(caught.value)
    assert "\n" not in message
    assert message == ("git: push to origin/main was rejected: "
                       "! [remote rejected] HEAD -> main (pre-receive hook declined)")
    assert len(remote_log(bare)) == 1

    # the commit stays in the checkout; once the remote accepts, a retry pushes it
    hook.unlink()
    receipt = pub.send(make_digest(), pub.prepare(make_digest()))
    assert receipt.details == {"unchanged": True, "path": POST_PATH, "pushed": True}
    assert remote_log(bare)[0] == receipt.remote_id


def test_push_off_commits_without_pushing(checkout: Path, bare: Path) -> None:
    before = remote_log(bare)
    pub = publisher(checkout, git_push=False)
    receipt = pub.send(make_digest(), pub.prepare(make_digest()))
    assert receipt.details == {"path": POST_PATH, "pushed": False}
    assert remote_log(bare) == before
    assert git("-C", checkout, "rev-parse", "HEAD").strip() == receipt.remote_id
    assert git("-C", checkout, "show", f"HEAD:{POST_PATH}") == post_text()


def test_other_staged_changes_stay_out_of_the_commit(checkout: Path, bare: Path) -> None:
    (checkout / "wip.md").write_text("work in progress\n")
    git("-C", checkout, "add", "wip.md")
    pub = publisher(checkout)
    pub.send(make_digest(), pub.prepare(make_digest()))
    changed = git("--git-dir", bare, "show", "--name-only", "--format=", "main").split()
    assert changed == [POST_PATH]
    assert git("-C", checkout, "status", "--porcelain") == "A  wip.md\n"


def test_pushes_to_a_branch_the_remote_lacks(checkout: Path, bare: Path) -> None:
    pub = publisher(checkout, git_branch="published")
    receipt = pub.send(make_digest(), pub.prepare(make_digest()))
    assert git("--git-dir", bare, "rev-parse", "published").strip() == receipt.remote_id
    assert git("--git-dir", bare, "show", f"published:{POST_PATH}") == post_text()


def test_fetch_failure_names_the_remote_without_credentials(checkout: Path) -> None:
    git("-C", checkout, "remote", "add", "web", "https://bot:s3cr3t-t0ken@127.0.0.1:1/blog.git")
    pub = publisher(checkout, git_remote="web")
    with pytest.raises(PublishError) as caught:
        pub.send(make_digest(), pub.prepare(make_digest()))
    message = str(caught.value)
    assert message.startswith("git: fetch of web/main failed: ")
    assert "s3cr3t" not in message and "bot:" not in message
    assert "\n" not in message
    assert not (checkout / POST_PATH).exists()


def test_scrub_url_credentials() -> None:
    text = ("fatal: unable to access 'https://bot:tok3n@git.example.org/blog.git/' "
            "and http://user@host:8080/x, ssh://git@host/y")
    assert scrub_url_credentials(text) == (
        "fatal: unable to access 'https://git.example.org/blog.git/' "
        "and http://host:8080/x, ssh://host/y")


def test_detached_head_without_branch_is_refused(checkout: Path) -> None:
    git("-C", checkout, "checkout", "--quiet", "--detach")
    pub = publisher(checkout)
    with pytest.raises(PublishError, match=r"detached HEAD.*git_branch"):
        pub.send(make_digest(), pub.prepare(make_digest()))


@pytest.mark.parametrize("where", ["", "missing", "plain", "bare"])
def test_checkout_must_be_a_work_tree(tmp_path: Path, bare: Path, where: str) -> None:
    (tmp_path / "plain").mkdir()
    value = {"": "", "missing": str(tmp_path / "missing"), "plain": str(tmp_path / "plain"),
             "bare": str(bare)}[where]
    with pytest.raises(InputError, match=r"^git_checkout: "):
        publisher(value)


@pytest.mark.parametrize(("setting", "value"), [
    ("git_author", "no email here"),
    ("git_author", "<only@email>"),
    ("git_post_path", "../outside/{date}.md"),
    ("git_post_path", "/abs/{date}.md"),
    ("git_post_path", ".git/hooks/{date}"),
    ("git_post_path", "posts/{day}.md"),
    ("git_branch", "bad branch"),
    ("git_remote", " "),
])
def test_bad_settings_are_named(checkout: Path, setting: str, value: str) -> None:
    values = {"git_author": AUTHOR, setting: value}
    with pytest.raises(InputError, match=f"^{setting}: "):
        GitPublisher(Settings(git_checkout=str(checkout), **values), Secrets())


def test_a_remote_url_with_credentials_is_refused(checkout: Path) -> None:
    with pytest.raises(InputError, match="git_remote: credentials do not belong") as caught:
        publisher(checkout, git_remote="https://bot:ghp_SECRET123@github.example/blog.git")
    assert "ghp_SECRET123" not in str(caught.value)
