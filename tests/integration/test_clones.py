"""Run-owned clones shared by two runs on one machine (issue 12, item 3): `work/clones/` is
locked, so concurrent clones and fetches of one repo never trip over each other."""

from __future__ import annotations

import threading
from pathlib import Path

from release_train.adapters import clones
from release_train.adapters.git import git
from release_train.errors import ReleaseError
from release_train.sandbox.builder import RepoBuilder

RUNS = 4


def test_runs_cloning_the_same_repo_at_once_all_get_a_good_clone(tmp_path: Path) -> None:
    source = RepoBuilder(tmp_path / "source").init()
    head = source.commit(["feat: something"])
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(source.path), str(bare))
    dest = tmp_path / "work" / "clones" / "acme" / "lib"
    auth = clones.GitAuth(None, None)
    start = threading.Barrier(RUNS)
    failures: list[str] = []

    def run() -> None:
        start.wait()
        try:
            clones.fresh_clone(bare.as_uri(), dest, "main", auth)
        except ReleaseError as exc:
            failures.append(exc.message)

    threads = [threading.Thread(target=run) for _ in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert git(dest, "rev-parse", "HEAD").strip() == head
    assert sorted(p.name for p in dest.parent.iterdir()) == [".lib.lock", "lib"]
