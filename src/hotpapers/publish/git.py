"""The git target, as the original Hot Papers was deployed: write the day's post into a blog
checkout, commit it and push it to the blog's remote.

Everything goes through the `git` command line (`git -C CHECKOUT ...`), never through a
library, so the user's own git setup applies: credential helpers, SSH keys, hooks. Git is
told never to prompt (GIT_TERMINAL_PROMPT=0); no credential ever comes from the settings.

`send` never forces and never rewrites history: when the remote branch has commits the
checkout lacks, it refuses before writing anything. The commit is made on the checkout's
current HEAD and holds the post file only (other staged changes are left alone); the push
sends HEAD to `git_remote`'s `git_branch` (the current branch when empty)."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import httpx

from hotpapers import __version__
from hotpapers.config import Secrets, Settings
from hotpapers.errors import InputError, PublishError
from hotpapers.http import Clock
from hotpapers.publish.base import Digest, Payload, Receipt

__all__ = ["GitPublisher", "commit_message", "scrub_url_credentials"]

_AUTHOR = re.compile(r"^\s*([^<>]*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s'\"]+@")
_LOCAL_TIMEOUT = 60.0


def scrub_url_credentials(text: str) -> str:
    """`text` with the user information of every URL removed: `https://user:token@host/x`
    becomes `https://host/x` (git may quote a remote's URL in its messages)."""
    return _USERINFO.sub(r"\1", text)


def commit_message(digest: Digest) -> str:
    """The commit message of a day's post: a subject line, a blank line, then who made it."""
    n = len(digest.papers)
    papers = "paper" if n == 1 else "papers"
    return (f"Hot Papers {digest.day.isoformat()}: {n} {papers}\n\n"
            f"Published by hotpapers {__version__} ({digest.method})")


class GitPublisher:
    """Commits the day's post (`digest.post_text`) into `git_checkout` at `git_post_path`,
    then pushes it to `git_remote`/`git_branch` when `git_push` is on."""

    name = "git"

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        del clock, transport  # git needs neither: it does its own I/O
        self.settings, self.secrets = settings, secrets
        self.author_name, self.author_email = _parse_author(settings.git_author)
        self.author = f"{self.author_name} <{self.author_email}>"
        _check_post_path(settings.git_post_path)
        if not settings.git_remote.strip():
            raise InputError("git_remote: the remote to push to is empty")
        if scrub_url_credentials(settings.git_remote) != settings.git_remote:
            raise InputError("git_remote: credentials do not belong in the remote's URL; use "
                             "a git credential helper or an SSH key")
        self.remote = settings.git_remote.strip()
        self.branch = settings.git_branch.strip()
        if self.branch and not _valid_branch_name(self.branch):
            raise InputError(f"git_branch: {self.branch!r} is not a valid branch name")
        self.push = settings.git_push
        self.network_timeout = max(60.0, 4 * settings.http_timeout)
        self.checkout = self._check_checkout(settings.git_checkout)

    # -- pure -------------------------------------------------------------------------

    def post_path(self, digest: Digest) -> str:
        """The post's path in the checkout (POSIX separators, relative)."""
        return self.settings.git_post_path.format(date=digest.day.isoformat())

    def prepare(self, digest: Digest) -> list[Payload]:
        """One payload: the commit message, a blank line, then the post file's full text.
        Touches neither the checkout nor the remote."""
        if not digest.post_text:
            raise InputError(f"git: the digest of {digest.day.isoformat()} has no post text "
                             "to commit")
        path = self.post_path(digest)
        branch = self.branch or "(current branch)"
        where = (f"to {self.remote}/{branch}" if self.push
                 else f"on {self.branch or 'the current branch'} of {self.checkout} (no push)")
        summary = f"commit {path} {where} (author {self.author})"
        body = f"{commit_message(digest)}\n\n{digest.post_text}"
        return [Payload(target=self.name, summary=summary, body=body)]

    # -- I/O --------------------------------------------------------------------------

    def send(self, digest: Digest, payloads: list[Payload]) -> Receipt:
        """Write, commit and push the payload's post; no commit when the file is unchanged."""
        message, text = _split_payload(payloads)
        path = self.post_path(digest)
        branch = self.branch or self._current_branch()
        target = f"{self.remote}/{branch}"
        remote_head = self._refuse_if_behind(branch, target) if self.push else None

        self._write(self.checkout / path, text)
        self._git(["add", "--", path], what=f"add {path}")
        staged = self._run(["diff", "--cached", "--quiet", "--", path])
        if staged.returncode == 0:  # the file is already committed as it is
            head = self._head()
            pushed = False
            if self.push and head and not self._contains(remote_head, head):
                self._push(branch, target)  # a previous push failed: finish it
                pushed = True
            return Receipt(target=self.name, remote_id=head or "",
                           details={"unchanged": True, "path": path, "pushed": pushed})
        if staged.returncode != 1:
            raise self._error(f"diff {path}", staged)

        self._git(["-c", f"user.name={self.author_name}", "-c", f"user.email={self.author_email}",
                   "commit", "--quiet", "--no-edit", f"--author={self.author}", "-F", "-",
                   "--only", "--", path], what=f"commit {path}", stdin=message)
        commit = self._head() or ""
        if self.push:
            self._push(branch, target)
        return Receipt(target=self.name, remote_id=commit,
                       details={"path": path, "pushed": self.push})

    # -- helpers ----------------------------------------------------------------------

    def _check_checkout(self, value: str) -> Path:
        if not value.strip():
            raise InputError("git_checkout: not set (the blog checkout to commit into)")
        path = Path(value).expanduser()
        if not path.is_dir():
            raise InputError(f"git_checkout: {path} is not a folder")
        path = path.resolve()
        try:
            result = self._run(["rev-parse", "--is-inside-work-tree"], cwd=path)
        except PublishError as exc:
            raise InputError(f"git_checkout: {exc}") from None
        if result.returncode != 0 or result.stdout.strip() != "true":
            raise InputError(f"git_checkout: {path} is not a git work tree")
        return path

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["GIT_TERMINAL_PROMPT"] = "0"
        return env

    def _run(self, args: Sequence[str], *, stdin: str | None = None, cwd: Path | None = None,
             timeout: float = _LOCAL_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """`git -C CHECKOUT ARGS`, output captured; the exit status is the caller's business."""
        where = cwd if cwd is not None else self.checkout
        try:
            return subprocess.run(
                ["git", "-C", str(where), *args], input=stdin,
                stdin=subprocess.DEVNULL if stdin is None else None,
                capture_output=True, text=True, encoding="utf-8", errors="replace",
                env=self._env(), timeout=timeout, check=False)
        except FileNotFoundError:
            raise PublishError("git: the git command was not found on PATH") from None
        except subprocess.TimeoutExpired:
            raise PublishError(f"git: `git {args[0]}` in {where} did not finish in "
                               f"{timeout:g} s") from None

    def _git(self, args: Sequence[str], *, what: str, stdin: str | None = None,
             timeout: float = _LOCAL_TIMEOUT) -> str:
        """`git ARGS` that must succeed: its stdout, else a PublishError naming `what`."""
        result = self._run(args, stdin=stdin, timeout=timeout)
        if result.returncode != 0:
            raise self._error(what, result)
        return result.stdout

    def _error(self, what: str, result: subprocess.CompletedProcess[str]) -> PublishError:
        return PublishError(f"git: {what} in {self.checkout} failed: "
                            f"{self._reason(result.stderr or result.stdout)}")

    def _reason(self, stderr: str) -> str:
        """The one line of git's output that says why, scrubbed of credentials."""
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        chosen = next((line for line in lines if line.startswith("! ")), None)
        chosen = chosen or next((line for line in lines
                                 if line.startswith(("fatal:", "error:"))), None)
        chosen = chosen or (lines[0] if lines else "no message from git")
        return self.secrets.scrub(scrub_url_credentials(chosen))

    def _current_branch(self) -> str:
        result = self._run(["symbolic-ref", "--quiet", "--short", "HEAD"])
        if result.returncode != 0 or not result.stdout.strip():
            raise PublishError(f"git: {self.checkout} is not on a branch (detached HEAD): "
                               "check out a branch or set git_branch")
        return result.stdout.strip()

    def _head(self) -> str | None:
        result = self._run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        if result.returncode != 0:
            return None  # no commit yet
        return result.stdout.strip() or None

    def _fetch(self, branch: str) -> str | None:
        """Fetch the remote branch: its commit, or None when the remote has no such branch."""
        result = self._run(["fetch", "--quiet", "--no-tags", self.remote, f"refs/heads/{branch}"],
                           timeout=self.network_timeout)
        if result.returncode != 0:
            probe = self._run(["ls-remote", "--exit-code", "--heads", self.remote,
                               f"refs/heads/{branch}"], timeout=self.network_timeout)
            if probe.returncode == 2:  # reachable, but the branch does not exist yet
                return None
            raise PublishError(f"git: fetch of {self.remote}/{branch} failed: "
                               f"{self._reason(result.stderr)}")
        return self._git(["rev-parse", "--verify", "FETCH_HEAD^{commit}"],
                         what="read FETCH_HEAD").strip()

    def _contains(self, descendant: str | None, ancestor: str | None) -> bool:
        """Whether commit `descendant` has `ancestor` in its history (None: no commit)."""
        if ancestor is None:
            return True
        if descendant is None:
            return False
        result = self._run(["merge-base", "--is-ancestor", ancestor, descendant])
        if result.returncode not in (0, 1):
            raise self._error("compare commits", result)
        return result.returncode == 0

    def _refuse_if_behind(self, branch: str, target: str) -> str | None:
        """Fetch the remote branch and refuse when it has commits HEAD lacks; its commit."""
        remote_head = self._fetch(branch)
        if not self._contains(self._head(), remote_head):
            raise PublishError(f"git: {self.checkout} has diverged from {target}: "
                               "pull or rebase it first")
        return remote_head

    def _push(self, branch: str, target: str) -> None:
        result = self._run(["push", "--quiet", self.remote,
                            f"HEAD:refs/heads/{branch}"], timeout=self.network_timeout)
        if result.returncode != 0:
            raise PublishError(f"git: push to {target} was rejected: "
                               f"{self._reason(result.stderr or result.stdout)}")

    @staticmethod
    def _write(path: Path, text: str) -> None:
        """Replace `path` by `text` atomically (a temporary file in the same folder)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o777 if path.is_file() else 0o644
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _parse_author(value: str) -> tuple[str, str]:
    match = _AUTHOR.match(value)
    if not match or not match.group(1):
        raise InputError(f"git_author: {value!r} is not 'Name <email>'")
    return match.group(1), match.group(2)


def _check_post_path(pattern: str) -> None:
    try:
        path = pattern.format(date="2021-01-18")
    except (KeyError, IndexError, ValueError):
        raise InputError(f"git_post_path: {pattern!r}: only the placeholder {{date}} may "
                         "appear") from None
    parts = PurePosixPath(path).parts
    if (not path.strip() or path.endswith("/") or "\\" in path or PurePosixPath(path).is_absolute()
            or any(part in ("..", ".git") for part in parts) or re.match(r"^[A-Za-z]:", path)):
        raise InputError(f"git_post_path: {pattern!r} must be a file path relative to the "
                         "checkout, without '..' or .git")


def _valid_branch_name(name: str) -> bool:
    return bool(re.fullmatch(r"[^\s~^:?*\[\\]+", name)) and not (
        name.startswith(("-", "/")) or name.endswith((".", "/", ".lock"))
        or ".." in name or "//" in name or "@{" in name)


def _split_payload(payloads: list[Payload]) -> tuple[str, str]:
    """The commit message and the file text of the one git payload."""
    if len(payloads) != 1 or payloads[0].target != "git":
        raise PublishError(f"git: expected one git payload, got {len(payloads)}")
    parts = payloads[0].body.split("\n\n", 2)
    if len(parts) != 3:
        raise PublishError("git: the payload holds no commit message and post text")
    return f"{parts[0]}\n\n{parts[1]}", parts[2]
