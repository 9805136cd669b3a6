"""LOCK's wait for an upstream on a real pypiserver says what it waits for and where to look
(issue 13, item 7), on a fake clock: uv really asks the index, nobody sleeps."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any, cast

from release_train.adapters.clones import GitAuth
from release_train.config import Config
from release_train.console import ConsoleProgress
from release_train.context import RepoContext, Services, Waits
from release_train.sandbox.index import IndexServer
from release_train.steps.publishing import wait_installable
from tests.core.test_family_note import sample_state
from tests.test_waits import FakeClock


def test_the_upstream_wait_shows_time_against_the_bound_and_the_index_page(
    index_server: IndexServer, tmp_path: Path
) -> None:
    clock, stream = FakeClock(), io.StringIO()
    config = Config.model_validate({"owner": "acme", "repos": {"omnibase_core": {}}})
    services = Services(
        config=config,
        github=cast(Any, None),  # the index wait asks only the index
        auth=GitAuth(None, None),
        index_url=index_server.simple_url,
        work_dir=tmp_path,
        progress=ConsoleProgress(stream),
        waits=Waits(index_timeout=65.0, first=10.0, longest=10.0),
        clock=clock,
        sleep=clock.sleep,
    )
    state = sample_state()
    ctx = RepoContext(services, state, state.repos["omnibase_core"], tmp_path, threading.Lock())

    assert not wait_installable(ctx, "omnibase-spi", "0.10.0", "before uv lock")

    what = "omnibase-spi==0.10.0 to be installable from the index before uv lock"
    page = f"{index_server.simple_url}omnibase-spi/"
    assert stream.getvalue().splitlines() == [
        f"  omnibase_core      ...         waiting for {what}",
        f"  omnibase_core      ...         {what}: 30s of 1m05s · {page}",
        f"  omnibase_core      ...         {what}: 1m of 1m05s · {page}",
    ]
