"""Shared fixtures: real git families built in temp dirs by the sandbox builders."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_train.sandbox.family import build_sample_family, config_text


@pytest.fixture
def sample_family(tmp_path: Path) -> Path:
    """The six-repo sample family with its `release-train.toml`, in a fresh workspace."""
    workspace = tmp_path / "family"
    build_sample_family(workspace)
    (workspace / "release-train.toml").write_text(config_text(), encoding="utf-8")
    return workspace


# Parallel runs (`pytest -n`, README): a file's tests stay on one worker, so its module
# fixtures (a reference run, a sandbox) are built once; the directories whose tests share
# something outside the test (the e2e Docker daemon's data root, the contract tests'
# download caches) are one group each, so no two workers build those at once.
_SHARED_GROUPS = ("e2e", "contract")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    groups: dict[str, str] = {}
    for item in items:
        path = Path(item.path).resolve().relative_to(Path(__file__).parent.resolve())
        group = path.parts[0] if path.parts[0] in _SHARED_GROUPS else path.as_posix()
        groups[item.nodeid] = group
        item.add_marker(pytest.mark.xdist_group(group))
    # Workers take groups in this order: the ones allowed longest (the six-repo rehearsal,
    # the crash harnesses, e2e) go first, so the longest do not start last.
    bound: dict[str, float] = {}
    for item in items:
        mark = item.get_closest_marker("timeout")
        seconds = float(mark.args[0]) if mark is not None and mark.args else 0.0
        bound[groups[item.nodeid]] = max(bound.get(groups[item.nodeid], 0.0), seconds)
    items.sort(key=lambda item: -bound[groups[item.nodeid]])  # stable: files stay whole
