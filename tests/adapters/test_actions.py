"""The Actions runtime: workflow commands as the runner parses them, summary and output files."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release_train.adapters.actions import (
    SUMMARY_LIMIT,
    ActionsProgress,
    ActionsRuntime,
    command,
    plain,
    progress_for,
    truncate_summary,
)
from release_train.console import ConsoleProgress
from release_train.errors import ErrorCode, ReleaseError

COMMAND = re.compile(r"::(?P<name>[a-z-]+)(?: (?P<props>[^:]*))?::(?P<message>.*)", re.DOTALL)


def unescape(text: str) -> str:
    """The runner's unescaping of a command's parts (ActionCommand.cs)."""
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


def parse(line: str) -> tuple[str, dict[str, str], str] | None:
    """A log line as the runner reads it: (name, properties, message), or None if plain."""
    match = COMMAND.fullmatch(line.strip())
    if match is None:
        return None
    props = {}
    for pair in filter(None, (match["props"] or "").split(",")):
        key, _, value = pair.partition("=")
        props[key] = unescape(value)
    return match["name"], props, unescape(match["message"])


def read_outputs(path: Path) -> dict[str, str]:
    """`$GITHUB_OUTPUT` as the runner reads it: `name<<delimiter` heredocs."""
    values: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as file:
        lines = iter(file.read().split("\n"))
    for line in lines:
        if not line:
            continue
        name, _, delimiter = line.partition("<<")
        body = []
        for inner in lines:
            if inner == delimiter:
                break
            body.append(inner)
        else:
            raise AssertionError(f"unterminated output {name}")
        values[name] = "\n".join(body)
    return values


@pytest.fixture
def runtime(tmp_path: Path) -> ActionsRuntime:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
    }
    found = ActionsRuntime.from_env(env, io.StringIO())
    assert found is not None
    return found


def log(runtime: ActionsRuntime) -> list[str]:
    stream = runtime.stream
    assert isinstance(stream, io.StringIO)
    # The runner reads its log line by line on "\n"; "\r" never reaches it unescaped.
    return stream.getvalue().split("\n")[:-1]


def test_outside_actions_there_is_no_runtime_and_progress_is_the_console() -> None:
    assert ActionsRuntime.from_env({}) is None
    assert ActionsRuntime.from_env({"GITHUB_ACTIONS": "false"}) is None
    assert isinstance(progress_for({"CI": "true"}, io.StringIO()), ConsoleProgress)
    inside = progress_for({"GITHUB_ACTIONS": "true"}, io.StringIO())
    assert isinstance(inside, ActionsProgress)


def test_commands_escape_messages_and_properties_like_the_toolkit() -> None:
    assert command("warning", "50% done\r\nnext", {"title": "a:b,c"}) == (
        "::warning title=a%3Ab%2Cc::50%25 done%0D%0Anext"
    )
    assert command("endgroup") == "::endgroup::"


@given(st.text(), st.text())
def test_annotations_reach_the_runner_unchanged(message: str, title: str) -> None:
    rt = ActionsRuntime(io.StringIO())
    rt.error(message, title=title or None)
    lines = log(rt)
    assert len(lines) == 1  # no newline of the message escapes the command
    parsed = parse(lines[0])
    assert parsed is not None
    assert parsed[0] == "error"
    # The runner trims the line: only trailing whitespace of the message may go.
    assert message.startswith(parsed[2])
    assert not message[len(parsed[2]) :].strip()
    assert parsed[1] == ({"title": title} if title else {})


def test_notice_and_warning_annotations(runtime: ActionsRuntime) -> None:
    runtime.notice("released 3 repos")
    runtime.warning("index slow", title="omnibase_spi")
    assert log(runtime) == [
        "::notice::released 3 repos",
        "::warning title=omnibase_spi::index slow",
    ]


def test_mask_covers_each_line_of_a_secret_and_skips_blank_lines(runtime: ActionsRuntime) -> None:
    runtime.mask("ghp_abc%def\r\n\nsecond line\n")
    assert log(runtime) == ["::add-mask::ghp_abc%25def", "::add-mask::second line"]
    parsed = [parse(line) for line in log(runtime)]
    assert [p[2] for p in parsed if p] == ["ghp_abc%def", "second line"]


def test_groups_open_and_close_even_when_the_body_raises(runtime: ActionsRuntime) -> None:
    def fail_inside() -> None:
        with runtime.group("plan: a, b"):
            runtime.write("inside")
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fail_inside()
    assert log(runtime) == ["::group::plan: a, b", "inside", "::endgroup::"]


def test_plain_lines_cannot_become_commands() -> None:
    assert plain("::add-mask::x") == "> ::add-mask::x"
    assert plain("  ##[error]x") == ">   ##[error]x"
    assert plain("fine\n::stop-commands::t") == "fine ::stop-commands::t"
    assert parse(plain("ok\r::error::x")) is None


def test_outputs_are_heredocs_that_survive_multiline_values(runtime: ActionsRuntime) -> None:
    values = {"run-id": "release-1", "plan": "line 1\nline 2\n", "empty": "", "has_work": "true"}
    runtime.outputs(values)
    runtime.outputs({"status": "success"})
    assert read_outputs(runtime.output_path or Path()) == {**values, "status": "success"}
    text = (runtime.output_path or Path()).read_text(encoding="utf-8")
    assert re.match(r"empty<<ghadelimiter_[0-9a-f-]{36}\n\nghadelimiter_", text)


@given(st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True), st.text()))
def test_any_output_value_reads_back(values: dict[str, str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "output"
        ActionsRuntime(io.StringIO(), output_path=path).outputs(values)
        # Read as the runner does, splitting on "\n" only: a value's "\r" stays its own.
        if path.exists():
            assert read_outputs(path) == values
        else:
            assert not values


@pytest.mark.parametrize("name", ["", "1st", "a b", "a=b", "a<<b", "ünï"])
def test_output_names_are_validated(runtime: ActionsRuntime, name: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        runtime.outputs({name: "x"})
    assert caught.value.code is ErrorCode.INTERNAL
    assert not (runtime.output_path or Path()).exists()


def test_files_need_the_runner_variables() -> None:
    rt = ActionsRuntime(io.StringIO())
    with pytest.raises(ReleaseError) as caught:
        rt.summary("# x")
    assert caught.value.code is ErrorCode.USAGE
    assert "GITHUB_STEP_SUMMARY" in caught.value.message
    with pytest.raises(ReleaseError, match="GITHUB_OUTPUT"):
        rt.outputs({"a": "b"})


def test_summary_appends(runtime: ActionsRuntime) -> None:
    runtime.summary("## Plan\n\n| a |\n")
    runtime.summary("## Summary\n")
    assert (runtime.summary_path or Path()).read_text(encoding="utf-8") == (
        "## Plan\n\n| a |\n## Summary\n"
    )
    assert log(runtime) == []


def test_an_oversized_summary_is_cut_at_a_line_and_says_so(runtime: ActionsRuntime) -> None:
    path = runtime.summary_path or Path()
    path.write_text("x" * 1000 + "\n", encoding="utf-8")
    row = "| é | " + "y" * 90 + " |\n"  # multi-byte text: the limit is in bytes
    runtime.summary(row * 20_000)
    data = path.read_bytes()
    assert len(data) <= SUMMARY_LIMIT
    text = data.decode("utf-8")
    assert text.startswith("x" * 1000 + "\n" + row)
    body, note = text.rsplit("\n\n> **Summary truncated**", 1)
    assert body.endswith(row)  # only whole lines
    assert "1 MiB" in note
    assert parse(log(runtime)[-1]) == (
        "warning",
        {},
        "the step summary was truncated to GitHub's 1 MiB limit",
    )


def test_truncation_keeps_text_that_fits_and_drops_what_cannot() -> None:
    assert truncate_summary("a\nb\n", 4) == "a\nb\n"
    assert truncate_summary("a" * 500, 10) == ""
    cut = truncate_summary("line\n" * 100, 300)
    assert len(cut.encode()) <= 300 and cut.startswith("line\n")


# -- ActionsProgress ------------------------------------------------------------------


def progress(runtime: ActionsRuntime) -> ActionsProgress:
    return ActionsProgress(runtime)


def test_one_group_per_repo_and_step(runtime: ActionsRuntime) -> None:
    p = progress(runtime)
    p.step("spi", "WORKTREE", "done in 0.1s")
    p.waiting("spi", "CI on #42")
    p.step("spi", "BUMPED", "done in 0.2s")
    p.note(None, "blocked by core: infra")
    assert log(runtime) == [
        "::group::spi · WORKTREE",
        "  spi                WORKTREE    done in 0.1s",
        "::endgroup::",
        "::group::spi · BUMPED",
        "  spi                ...         waiting for CI on #42",
        "  spi                BUMPED      done in 0.2s",
        "::endgroup::",
        "blocked by core: infra",
    ]


def test_another_repo_writing_closes_the_open_group(runtime: ActionsRuntime) -> None:
    p = progress(runtime)
    p.waiting("a", "CI")
    p.waiting("b", "CI")
    p.step("a", "WORKTREE", "done")
    p.close()
    p.close()
    assert log(runtime) == [
        "::group::a · WORKTREE",
        "  a                  ...         waiting for CI",
        "::endgroup::",
        "::group::b · WORKTREE",
        "  b                  ...         waiting for CI",
        "::endgroup::",
        "::group::a · WORKTREE",
        "  a                  WORKTREE    done",
        "::endgroup::",
    ]


def test_a_resumed_repo_is_titled_by_the_step_it_resumes(runtime: ActionsRuntime) -> None:
    from tests.core.test_state_engine import CORE, advance, fresh_state

    state = fresh_state()
    advance(state, CORE, "PR_CREATED")
    p = progress(runtime)
    p.expect(state)
    p.waiting(CORE, "CI")
    assert log(runtime)[0] == f"::group::{CORE} · MERGED"


def test_warnings_are_annotated_inside_the_repos_group(runtime: ActionsRuntime) -> None:
    p = progress(runtime)
    p.warning("spi", "spi==1.2.1 not installable after 10 min")
    p.warning(None, "slack: summary not sent")
    assert log(runtime) == [
        "::group::spi · WORKTREE",
        "  spi                warning: spi==1.2.1 not installable after 10 min",
        "::warning title=release-train%3A spi::spi==1.2.1 not installable after 10 min",
        "::endgroup::",
        "                     warning: slack: summary not sent",
        "::warning::slack: summary not sent",
    ]


def test_a_failure_is_an_error_annotation_with_its_hint(runtime: ActionsRuntime) -> None:
    p = progress(runtime)
    p.step("core", "PR_CREATED", "done")
    p.failure("core", "CI_FAILED", "check 'lint' failed\n::add-mask::x", "fix it, then resume")
    lines = log(runtime)
    assert lines[3:] == [
        "::group::core · MERGED",
        "  core               [CI_FAILED] check 'lint' failed ::add-mask::x",
        "  core               hint: fix it, then resume",
        "::endgroup::",
        "::error title=release-train%3A core failed::[CI_FAILED] check 'lint' failed%0A"
        "::add-mask::x%0Ahint: fix it, then resume",
    ]
    commands = [parse(line) for line in lines]
    assert [c[0] for c in commands if c] == ["group", "endgroup", "group", "endgroup", "error"]


def test_failures_of_a_settled_state_become_errors(runtime: ActionsRuntime) -> None:
    from tests.core.test_summary import partial_state

    progress(runtime).failures(partial_state())
    errors = [c for c in map(parse, log(runtime)) if c and c[0] == "error"]
    assert len(errors) == 1
    assert errors[0][1] == {"title": "release-train: omnibase_core failed"}
    assert errors[0][2].startswith("[CI_FAILED] check '<b>lint</b> | @team `x`' failed")
    assert errors[0][2].endswith(
        "\nhint: see https://github.com/OmniNode-ai/omnibase_core/actions/runs/7/job/9"
    )


def test_parallel_repos_never_nest_or_interleave_groups(runtime: ActionsRuntime) -> None:
    p = progress(runtime)
    repos = [f"repo{i}" for i in range(6)]
    phases = ["WORKTREE", "BUMPED", "PINNED", "CHANGELOG"]
    start = threading.Barrier(len(repos))

    def release(repo: str) -> None:
        start.wait()
        for phase in phases:
            p.waiting(repo, "something")
            p.note(repo, "a note")
            p.step(repo, phase, "done")

    threads = [threading.Thread(target=release, args=(r,)) for r in repos]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    p.close()

    open_group: str | None = None
    outcomes: dict[str, list[str]] = {r: [] for r in repos}
    for line in log(runtime):
        parsed = parse(line)
        if parsed and parsed[0] == "group":
            assert open_group is None, "nested group"
            open_group = parsed[2]
        elif parsed and parsed[0] == "endgroup":
            assert open_group is not None
            open_group = None
        else:
            assert open_group is not None, f"stray line {line!r}"
            repo, phase = open_group.split(" · ")
            assert line.split()[0] == repo  # every line sits in its own repo's group
            if line.split()[1] in phases:
                assert line.split()[1] == phase
                outcomes[repo].append(phase)
    assert open_group is None
    assert outcomes == dict.fromkeys(repos, phases)
