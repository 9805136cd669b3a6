"""A hosted repository: a bare git repo on disk and the plumbing the stand-in's API needs."""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from release_train.adapters import command
from release_train.adapters.git import git

ZERO_SHA = "0" * 40
BOT_NAME = "GitHub"
BOT_EMAIL = "noreply@github.com"


@dataclass(frozen=True)
class Person:
    """An author, committer or tagger line: name, email and epoch seconds."""

    name: str
    email: str
    epoch: int

    @classmethod
    def parse(cls, line: str) -> Person:
        # "Name <email> 1700000000 +0000"
        who, _, when = line.rpartition("> ")
        name, _, email = who.partition(" <")
        return cls(name, email, int(when.split()[0]))

    def env(self, role: str) -> dict[str, str]:
        return {
            f"GIT_{role}_NAME": self.name,
            f"GIT_{role}_EMAIL": self.email,
            f"GIT_{role}_DATE": f"{self.epoch} +0000",
        }


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


@dataclass(frozen=True)
class TagInfo:
    sha: str
    object_sha: str
    object_type: str
    name: str
    tagger: Person
    message: str


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    kind: str  # blob | tree | commit
    sha: str
    size: int
    path: str


def _split_object(text: str) -> tuple[dict[str, list[str]], str]:
    header, _, message = text.partition("\n\n")
    fields: dict[str, list[str]] = {}
    for line in header.splitlines():
        key, _, value = line.partition(" ")
        fields.setdefault(key, []).append(value)
    return fields, message


class BareRepo:
    """One bare repository; `lock` serialises the stand-in's own ref updates on it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()

    def git(
        self, *args: str, env: dict[str, str] | None = None, input_text: str | None = None
    ) -> str:
        return git(self.path, *args, env=env, input_text=input_text)

    def init_from(self, source: Path, default_branch: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        git(self.path.parent, "clone", "-q", "--bare", "--no-local", str(source), str(self.path))
        self.git("symbolic-ref", "HEAD", f"refs/heads/{default_branch}")
        # Partial clones (`--filter=blob:none`) and pushes over smart HTTP.
        self.git("config", "uploadpack.allowFilter", "true")
        self.git("config", "uploadpack.allowAnySHA1InWant", "true")
        self.git("config", "http.receivepack", "true")
        self.git("config", "receive.denyNonFastForwards", "false")
        self._adopt_remote_branches(source)

    def _adopt_remote_branches(self, source: Path) -> None:
        """Branches that `source` only tracks (`origin/dev` of a fresh clone) become branches.

        A workspace clone holds its other branches as remote-tracking refs, which a bare
        clone leaves behind; its local branches win where both exist.
        """
        out = git(source, "for-each-ref", "--format=%(refname)", "refs/remotes/")
        have = set(self.refs())
        refspecs = []
        for ref in sorted(out.split(), key=lambda r: (not r.startswith("refs/remotes/origin/"), r)):
            branch = ref.split("/", 3)[3] if ref.count("/") >= 3 else ""
            target = f"refs/heads/{branch}"
            if branch and branch != "HEAD" and target not in have:
                have.add(target)
                refspecs.append(f"{ref}:{target}")
        if refspecs:
            self.git("fetch", "-q", "--no-tags", str(source), *refspecs)

    # --- reading ------------------------------------------------------------------
    def refs(self) -> dict[str, str]:
        """Every ref name -> the object it points at (a tag object for annotated tags)."""
        out = self.git("for-each-ref", "--format=%(objectname) %(refname)")
        pairs = (line.split(" ", 1) for line in out.splitlines() if line)
        return {name: sha for sha, name in sorted(pairs, key=lambda p: p[1])}

    def resolve(self, rev: str, kind: str = "commit") -> str | None:
        """The `kind` object `rev` names (peeling tags), or None when there is none."""
        if rev.startswith("-"):
            return None
        out = git(self.path, "rev-parse", "--verify", "--quiet", f"{rev}^{{{kind}}}", check=False)
        sha = out.strip()
        return sha or None

    def object_type(self, sha: str) -> str | None:
        if not sha or sha.startswith("-"):
            return None
        out = git(self.path, "cat-file", "-t", sha, check=False).strip()
        return out or None

    def commit(self, sha: str) -> CommitInfo:
        fields, message = _split_object(self.git("cat-file", "commit", sha))
        return CommitInfo(
            sha=sha,
            tree=fields["tree"][0],
            parents=tuple(fields.get("parent", [])),
            author=Person.parse(fields["author"][0]),
            committer=Person.parse(fields["committer"][0]),
            message=message,
        )

    def tag(self, sha: str) -> TagInfo:
        fields, message = _split_object(self.git("cat-file", "tag", sha))
        tagger = fields.get("tagger", [f"{BOT_NAME} <{BOT_EMAIL}> 0 +0000"])[0]
        return TagInfo(
            sha=sha,
            object_sha=fields["object"][0],
            object_type=fields["type"][0],
            name=fields["tag"][0],
            tagger=Person.parse(tagger),
            message=message,
        )

    def entry(self, commit: str, path: str) -> TreeEntry | None:
        """The tree entry at `path` in `commit` (the root tree for an empty path)."""
        if not path:
            return TreeEntry(
                "040000", "tree", self.git("rev-parse", f"{commit}^{{tree}}").strip(), 0, ""
            )
        out = self.git("ls-tree", "-l", commit, "--", path)
        entries = self._parse_tree(out)
        return entries[0] if entries and entries[0].path == path else None

    def list_tree(self, commit: str, path: str) -> list[TreeEntry]:
        prefix = f"{path}/" if path else ""
        out = (
            self.git("ls-tree", "-l", commit, "--", prefix)
            if prefix
            else self.git("ls-tree", "-l", commit)
        )
        return sorted(self._parse_tree(out), key=lambda e: e.path)

    @staticmethod
    def _parse_tree(out: str) -> list[TreeEntry]:
        entries = []
        for line in out.splitlines():
            meta, _, path = line.partition("\t")
            mode, kind, sha, size = meta.split()
            entries.append(TreeEntry(mode, kind, sha, 0 if size == "-" else int(size), path))
        return entries

    def blob_text(self, sha: str) -> str:
        return self.git("cat-file", "blob", sha)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self._status("merge-base", "--is-ancestor", ancestor, descendant) == 0

    def _status(self, *args: str) -> int:
        """The exit status of a git command whose failure is an answer, not an error."""
        return command.run(["git", "-C", str(self.path), *args], check=False).returncode

    def count_commits(self, base: str, head: str) -> int:
        return int(self.git("rev-list", "--count", f"{base}..{head}").strip() or "0")

    def diff_stats(self, base: str, head: str) -> tuple[int, int, int]:
        """(additions, deletions, changed files) of `head` against its merge base with `base`."""
        out = self.git("diff", "--numstat", f"{base}...{head}")
        adds = dels = files = 0
        for line in out.splitlines():
            added, deleted, _ = line.split("\t", 2)
            files += 1
            adds += int(added) if added.isdigit() else 0
            dels += int(deleted) if deleted.isdigit() else 0
        return adds, dels, files

    # --- writing ------------------------------------------------------------------
    def merge_tree(self, base: str, head: str) -> str | None:
        """The tree of merging `head` into `base`, or None on a conflict (git >= 2.38)."""
        done = command.run(
            [
                "git",
                "-C",
                str(self.path),
                "merge-tree",
                "--write-tree",
                "--no-messages",
                base,
                head,
            ],
            check=False,
        )
        if done.returncode == 1:
            return None
        if done.returncode != 0:
            self.git("merge-tree", "--write-tree", base, head)  # raises GIT_FAILED with output
        return done.stdout.split("\n", 1)[0].strip()

    def commit_tree(
        self, tree: str, parents: list[str], message: str, author: Person, committer: Person
    ) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        env = {**author.env("AUTHOR"), **committer.env("COMMITTER")}
        return self.git(*args, "-F", "-", env=env, input_text=message).strip()

    def update_ref(self, ref: str, new: str, old: str | None) -> bool:
        """Compare-and-swap `ref` from `old` (None: must not exist) to `new`; False if it moved."""
        return self._status("update-ref", ref, new, old or ZERO_SHA) == 0

    def delete_ref(self, ref: str, old: str) -> bool:
        return self._status("update-ref", "-d", ref, old) == 0

    def make_tag(self, name: str, message: str, target: str, kind: str, tagger: Person) -> str:
        body = (
            f"object {target}\ntype {kind}\ntag {name}\n"
            f"tagger {tagger.name} <{tagger.email}> {tagger.epoch} +0000\n\n{message}"
        )
        if not body.endswith("\n"):
            body += "\n"
        return self.git("mktag", input_text=body).strip()

    def write_file(self, parent: str, path: str, content: bytes) -> str:
        """The tree of `parent` with `path` set to `content` (mode 100644)."""
        with tempfile.TemporaryDirectory(prefix="sandbox-contents-") as tmp:
            blob_file = Path(tmp, "blob")
            blob_file.write_bytes(content)
            env = {"GIT_INDEX_FILE": str(Path(tmp, "index"))}
            blob = self.git("hash-object", "-w", str(blob_file)).strip()
            self.git("read-tree", parent, env=env)
            self.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
            return self.git("write-tree", env=env).strip()
