"""The GitHub Action's entry point: the action's inputs to a plan, a release or a status.

A Docker action gets its inputs as `INPUT_<NAME>` variables (`INPUT_DRY-RUN`); nothing
here goes through a shell. The plan and the final summary go to the job summary, the
results to step outputs, failures to annotations; the state lives in the configured store
(the central repo's state branch) and a copy goes to `.release-train/` for the artifact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from release_train import gates, runs
from release_train.action_inputs import Inputs
from release_train.adapters import handoff
from release_train.adapters.actions import ActionsProgress, ActionsRuntime
from release_train.adapters.store import StateStore
from release_train.config import Config, GateKind, StoreKind, load_config
from release_train.core import render, summary
from release_train.core.family_note import note_markdown
from release_train.core.plan import Plan
from release_train.core.problems import errors, preflight_failed
from release_train.core.state import Gate, RunState, RunStatus, dry_run_result, run_result
from release_train.errors import ErrorCode, ExitStatus, ReleaseError
from release_train.preflight import validate_gate_token
from release_train.preflight_access import with_access_problems

OUT_DIR = Path(".release-train")  # in the workspace: uploaded as the run's artifact


@dataclass
class Action:
    """One invocation of the action inside a job."""

    inputs: Inputs
    runtime: ActionsRuntime
    env: dict[str, str]
    config: Config
    progress: ActionsProgress = field(init=False)

    def __post_init__(self) -> None:
        self.progress = ActionsProgress(self.runtime)

    @property
    def origin(self) -> str:
        """This workflow run's URL: a re-run of its jobs resumes the run it started."""
        server = runs.server_url(self.env)
        return f"{server}/{self.env.get('GITHUB_REPOSITORY', '')}/actions/runs/" + self.env.get(
            "GITHUB_RUN_ID", ""
        )

    def options(self, *, run_id: str | None = None) -> runs.Options:
        i = self.inputs
        return runs.Options(
            repos=i.repos,
            bump=i.bump,
            run_id=run_id,
            skip_index_wait=i.skip_pypi_wait,
            index_minutes=i.pypi_timeout_minutes,
            max_parallel=i.max_parallel,
            releasing=True,
            dry_run=i.dry_run,
            env=self.env,
        )

    def store(self) -> StateStore:
        return runs.store_for(self.config, self.env)

    def find_run(self, store: StateStore, run_id: str) -> RunState | None:
        if run_id not in dict(store.runs()):
            return None
        state, _, _ = runs.load_run(store, run_id)
        return state

    # -- plan ---------------------------------------------------------------------------

    def own_run(self, store: StateStore) -> str | None:
        """The unfinished run this workflow run started: "Re-run all jobs" continues it."""
        for run_id, archived in store.runs():
            if not archived:
                state = self.find_run(store, run_id)
                if state is not None and state.origin == self.origin:
                    return run_id
        return None

    def plan(self) -> int:
        store = self.store()
        resume = self.inputs.resume or self.own_run(store)
        if resume:
            return self._plan_resume(store, resume)
        plan, _ = runs.plan_release(self.config, self.options(run_id=self.inputs.run_id))
        run_id = runs.free_run_id(store, plan, explicit=self.inputs.run_id is not None)
        plan = dataclasses.replace(plan, run_id=run_id)  # keeps the problems and the detail
        plan = with_access_problems(self.config, plan, self.env)  # the job has the token
        print(render.plan_text(plan), end="")
        self.runtime.summary(render.plan_markdown(plan))
        self.runtime.outputs(
            {
                "run-id": run_id,
                "plan-hash": plan.plan_hash,
                "has-work": "true" if plan.entries else "false",
            }
        )
        if errors(plan.problems):  # the release job needs this one: nobody is asked to approve
            raise preflight_failed(plan.problems)
        return ExitStatus.OK

    def _plan_resume(self, store: StateStore, run_id: str) -> int:
        state, archived, _ = runs.load_run(store, run_id)
        finished = archived or state.status is RunStatus.SUCCESS
        print(summary.status_text(state, archived=archived, location=store.describe()), end="")
        self.runtime.summary(
            f"## Resuming run `{run_id}`\n\n"
            + ("The run is finished: nothing to resume.\n\n" if finished else "")
            + summary.summary_markdown(state)
        )
        self.runtime.outputs(
            {
                "run-id": run_id,
                "plan-hash": state.plan_hash,
                "has-work": "false" if finished else "true",
            }
        )
        return ExitStatus.OK

    def status(self) -> int:
        run_id = self.inputs.run_id or self.inputs.resume
        if run_id is None:
            raise ReleaseError(
                ErrorCode.USAGE, "`status` needs `run-id`", hint="pass the run id to show"
            )
        state, archived, location = runs.load_run(self.store(), run_id)
        print(summary.status_text(state, archived=archived, location=location), end="")
        self.runtime.summary(summary.summary_markdown(state))
        outputs = {"run-id": run_id, "plan-hash": state.plan_hash}
        self.runtime.outputs({**outputs, "status": run_result(state).status})
        return ExitStatus.OK

    # -- release ------------------------------------------------------------------------

    def release(self) -> int:
        if self.inputs.dry_run:
            return self._dry_run()
        run_id = self.inputs.resume or self.inputs.run_id
        if run_id is None:
            raise ReleaseError(
                ErrorCode.USAGE,
                "a release needs the plan job's run id",
                hint="pass `run-id: ${{ needs.plan.outputs.run-id }}` (or `resume`)",
            )
        existing = self.find_run(self.store(), run_id)
        if existing is not None:
            if not self.inputs.resume and existing.origin != self.origin:
                raise ReleaseError(
                    ErrorCode.RUN_EXISTS,
                    f"run {run_id} was started by {existing.origin or 'another run'}",
                    hint=f"dispatch with `resume: {run_id}` to continue it",
                )
            gate = self.gate(run_id, existing.plan_hash, plan=None)
            self.progress.expect(existing)
            world = runs.connect(self.config, self.options(), self.progress)
            print(f"Resuming run {run_id} (approved by {gate.approved_by or gate.kind})")
            outcome = runs.resume(world, self.options(), run_id, gate)
        elif self.inputs.resume:
            raise ReleaseError(
                ErrorCode.STATE_NOT_FOUND,
                f"no run {run_id} in {self.store().describe()}",
                hint="`release-train status` lists the runs; check the id",
            )
        else:
            outcome = self._start(run_id)
        self.report(outcome)
        return outcome.exit_status

    def _start(self, run_id: str) -> runs.Outcome:
        plan, sources = runs.plan_release(self.config, self.options(run_id=run_id))
        wanted = self.inputs.plan_hash
        if wanted and plan.plan_hash != wanted:
            self.runtime.summary(
                "## The plan changed since it was approved\n\n" + render.plan_markdown(plan)
            )
            raise ReleaseError(
                ErrorCode.PLAN_CHANGED,
                f"the plan is now {plan.plan_hash}, the approved one was {wanted}",
                hint="something was pushed since the plan job; dispatch again and review "
                "the new plan",
            )
        plan = with_access_problems(self.config, plan, self.env)
        print(render.plan_text(plan), end="")
        if errors(plan.problems):
            raise preflight_failed(plan.problems)  # before the gate and before any state
        gate = self.gate(run_id, plan.plan_hash, plan=plan)
        world = runs.connect(self.config, self.options(run_id=run_id), self.progress)
        return runs.start(
            world, self.options(run_id=run_id), plan, sources, gate, origin=self.origin
        )

    def gate(self, run_id: str, plan_hash: str, plan: Plan | None) -> Gate:
        """This attempt's approval, by the configured (or given) kind of gate."""
        kind = self.inputs.gate or self.config.gate
        if self.inputs.gate_attestation or kind is GateKind.ATTESTATION:
            return gates.attestation_gate(self.inputs.gate_attestation or "", run_id)
        if kind is GateKind.SLACK:
            return self._slack_gate(run_id, plan)
        from release_train.adapters.github import GitHub  # noqa: PLC0415

        repo, actions_run = self.env.get("GITHUB_REPOSITORY", ""), self.env.get("GITHUB_RUN_ID")
        if not repo or not (actions_run or "").isdigit():
            raise ReleaseError(
                ErrorCode.USAGE,
                "the environment gate needs GITHUB_REPOSITORY and GITHUB_RUN_ID",
                hint="run it inside GitHub Actions, or use another gate",
            )
        github = GitHub.from_env(self.config.owner, self.env)
        return gates.environment_gate(
            github,
            repo=repo,
            actions_run_id=int(actions_run or 0),
            environment=self.inputs.environment,
            run_id=run_id,
            plan_hash=plan_hash,
        )

    def _slack_gate(self, run_id: str, plan: Plan | None) -> Gate:
        from release_train.adapters.slack import Slack  # noqa: PLC0415

        slack, channel = Slack.from_env(self.env), self.slack_channel()
        if slack is None or channel is None or plan is None:
            raise ReleaseError(
                ErrorCode.USAGE,
                "the Slack gate needs a bot token, a channel and a new plan",
                hint="set `slack-bot-token` and `slack-channel` (or [slack] channel); a "
                "resume is approved through the environment or an attestation",
            )
        return gates.slack_gate(
            slack,
            channel=channel,
            approvers=self.config.slack.approvers,
            plan=plan,
            run_id=run_id,
            timeout_seconds=self.config.slack.gate_timeout_minutes * 60.0,
        )

    def slack_channel(self) -> str | None:
        return self.inputs.slack_channel or self.config.slack.channel

    def _dry_run(self) -> int:
        plan, _ = runs.plan_release(self.config, self.options(run_id=self.inputs.run_id))
        print(render.plan_text(plan), end="")
        if errors(plan.problems):
            raise preflight_failed(plan.problems)
        self.runtime.summary("## Dry run: nothing was changed\n\n" + render.plan_markdown(plan))
        result = dry_run_result(plan, {r: self.config.tag_template(r) for r in self.config.repos})
        self.report(runs.Outcome(ExitStatus.OK, result))
        return ExitStatus.OK

    def report(self, outcome: runs.Outcome) -> None:
        """The end of every attempt: summary, annotations, state copy, Slack, outputs."""
        state, result = outcome.state, outcome.result
        result_file = _write(OUT_DIR / "result.json", result.model_dump_json(indent=2) + "\n")
        if state is not None:
            _write(OUT_DIR / f"{state.run_id}.json", state.model_dump_json(indent=2) + "\n")
            self.progress.close()
            self.runtime.summary(summary.summary_markdown(state) + "\n" + note_markdown(state))
            self._slack_summary(state)
        self.runtime.outputs(
            {
                "run-id": result.run_id,
                "plan-hash": state.plan_hash if state else "",
                "status": result.status,
                "result-file": str(result_file),
            }
        )

    def _slack_summary(self, state: RunState) -> None:
        from release_train.adapters.slack import Slack, post_summary  # noqa: PLC0415

        slack, channel = Slack.from_env(self.env), self.slack_channel()
        if slack is None or channel is None:
            return
        problem = post_summary(slack, channel, state)
        if problem:
            self.runtime.warning(f"the Slack summary was not posted: {problem}")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _environment(inputs: Inputs, base: Mapping[str, str]) -> dict[str, str]:
    """The process environment the run sees: the token as GITHUB_TOKEN, Slack's if given."""
    env = {**base, "GITHUB_TOKEN": inputs.token}
    if inputs.slack_bot_token:
        env["SLACK_BOT_TOKEN"] = inputs.slack_bot_token
    return env


def _load(inputs: Inputs, runtime: ActionsRuntime, env: dict[str, str]) -> Config:
    config, _ = load_config(inputs.config)
    if config.state.store is not StoreKind.BRANCH:
        # Without the state branch a re-run on a fresh runner cannot find the state; keep it
        # in the workspace at least, so the artifact has it.
        env.setdefault("RELEASE_TRAIN_STATE_DIR", str(OUT_DIR / "state"))
        runtime.warning(
            'the state is kept on this runner only: set [state] store = "branch" so a re-run '
            "can resume"
        )
    return config


def run_action(env: Mapping[str, str] | None = None) -> int:
    """`release-train action`: what the Docker action's entrypoint runs.

    Without `env`, the process first starts itself again with its secrets out of its
    environment (`handoff`): repo code it runs later cannot read them in /proc.
    """
    base = handoff.sealed_environment() if env is None else dict(env)
    runtime = ActionsRuntime.from_env(base)
    if runtime is None:
        raise ReleaseError(
            ErrorCode.USAGE,
            "`release-train action` runs inside GitHub Actions (GITHUB_ACTIONS is not true)",
            hint="on a laptop use `release-train plan`, `release`, `resume` and `status`",
        )
    try:
        inputs = Inputs.from_env(base)
        runtime.mask(inputs.token)
        if inputs.slack_bot_token:
            runtime.mask(inputs.slack_bot_token)
        if inputs.gate_attestation:  # checked before anything is scanned (spec Step 0.1)
            validate_gate_token(inputs.gate_attestation, inputs.resume or inputs.run_id)
        run_env = _environment(inputs, base)
        action = Action(inputs, runtime, run_env, _load(inputs, runtime, run_env))
        if inputs.command == "plan":
            return action.plan()
        if inputs.command == "status":
            return action.status()
        return action.release()
    except ReleaseError as exc:
        hint = f" (hint: {exc.hint})" if exc.hint else ""
        runtime.error(f"{exc.message}{hint}", title=f"release-train: {exc.code}")
        runtime.summary("## release-train stopped\n\n```text\n" + _fence(exc.render()) + "\n```\n")
        raise


def _fence(text: str) -> str:
    """`text` safe inside a ``` block: a line of backticks cannot close it early."""
    return text.replace("```", "`\u200b``")
