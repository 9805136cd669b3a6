"""The rehearsal report as Markdown, text and JSON, and the step times it is built from."""

from __future__ import annotations

import json

from release_train.console import ConsoleProgress
from release_train.rehearsal_report import Recorder, RepoReport, Report


def sample() -> Report:
    core = RepoReport(
        repo="omnibase_core",
        package="omnibase-core",
        tier=1,
        branch="dev",
        upstreams=[],
        old_version="0.46.8",
        new_version="0.47.0",
        status="done",
        tag="v0.47.0",
        tag_sha="abc123",
        merge_sha="abc123",
        pr_url="http://127.0.0.1:1/OmniNode-ai/omnibase_core/pull/1",
        publish_run_url=None,
        uploads=["omnibase_core-0.47.0-py3-none-any.whl", "omnibase_core-0.47.0.tar.gz"],
        pr_body="Release **0.47.0**",
        changelog_entry="## v0.47.0 (2026-12-02)\n\n- fix: ```x```\n",
        diff='commit abc123\n+version = "0.47.0"\n',
        steps=[("LOCKED", 12.5), ("LINT", 1.0), ("PUBLISHED", 20.25)],
        waits=[("PUBLISHED", "omnibase-core==0.47.0 to be installable from the index", 15.5)],
        warnings=["LINT skipped hooks (lint_skip): mypy"],
        error=None,
    )
    return Report(
        "release-1",
        "success",
        0,
        75.0,
        ["EDGE_DROPPED omnibase_core: extra *spi*"],
        ["omnibase_core: LINT skipped hooks (lint_skip): mypy"],
        [core],
    )


def test_markdown_shows_time_warnings_and_each_release() -> None:
    assert sample().render("markdown") == (
        """\
# Rehearsal `release-1`

**success** · 1 repo · wall time 75.0s · exit status 0

## Where the time went

| step | what | seconds |
| --- | --- | ---: |
| PUBLISHED | release workflow (uv build, upload), wait until installable | 20.2 |
| LOCKED | wait for upstreams on the index, uv lock | 12.5 |
| LINT | pre-commit | 1.0 |

## Warnings

- EDGE\\_DROPPED omnibase\\_core: extra \\*spi\\*
- omnibase\\_core: LINT skipped hooks (lint\\_skip): mypy

## omnibase\\_core 0.46.8 → 0.47.0

- status: done
- tag: `v0.47.0` at `abc123` (merge commit `abc123`)
- PR: http://127.0.0.1:1/OmniNode-ai/omnibase_core/pull/1; publish run: -
- uploaded: `omnibase_core-0.47.0-py3-none-any.whl`, `omnibase_core-0.47.0.tar.gz`
- steps: LOCKED 12.5s, LINT 1.0s, PUBLISHED 20.2s
- waited 15.5s in PUBLISHED for omnibase-core==0.47.0 to be installable from the index
- warning: LINT skipped hooks (lint\\_skip): mypy

### Changelog entry

````markdown
## v0.47.0 (2026-12-02)

- fix: ```x```
````

<details><summary>PR body</summary>

```markdown
Release **0.47.0**
```

</details>

<details><summary>Release commit</summary>

```diff
commit abc123
+version = "0.47.0"
```

</details>
"""
    )


def test_text_and_json() -> None:
    report = sample()
    assert report.render("text") == (
        "\n"
        "Rehearsal release-1: success in 75.0s\n"
        "  omnibase_core      v0.47.0      omnibase_core-0.47.0-py3-none-any.whl, "
        "omnibase_core-0.47.0.tar.gz\n"
        "  time by step: PUBLISHED 20.2s, LOCKED 12.5s, LINT 1.0s\n"
        "  warning: EDGE_DROPPED omnibase_core: extra *spi*\n"
        "  warning: omnibase_core: LINT skipped hooks (lint_skip): mypy\n"
    )
    data = json.loads(report.render("json"))
    assert data["phase_seconds"] == {"LINT": 1.0, "LOCKED": 12.5, "PUBLISHED": 20.2}
    assert data["repos"][0]["steps"] == [["LOCKED", 12.5], ["LINT", 1.0], ["PUBLISHED", 20.25]]


def test_the_recorder_keeps_step_times_waits_and_warnings() -> None:
    now = iter([10.0, 14.5, 20.0, 21.0])
    recorder = Recorder(ConsoleProgress(), clock=lambda: next(now))
    recorder.step("a", "LOCKED", "done in 2.5s")  # 10.0
    recorder.waiting("a", "b==1.0 to be installable")  # 14.5
    recorder.step("a", "PUBLISHED", "already there")  # 20.0
    recorder.step("a", "DONE", "1.0 -> 1.1")
    recorder.warning("a", "LINT skipped hooks (lint_skip): x")
    recorder.warning(None, "family-wide")

    assert [(s.repo, s.phase, s.seconds) for s in recorder.steps] == [
        ("a", "LOCKED", 2.5),
        ("a", "PUBLISHED", 0.0),
    ]
    assert [(w.phase, w.what, w.seconds) for w in recorder.waits] == [
        ("PUBLISHED", "b==1.0 to be installable", 5.5)
    ]
    assert recorder.warnings == [("a", "LINT skipped hooks (lint_skip): x"), (None, "family-wide")]
