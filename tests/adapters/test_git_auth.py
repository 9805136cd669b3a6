"""git's credentials: an askpass that reads the token from an inherited descriptor."""

from __future__ import annotations

from pathlib import Path

from release_train.adapters import clones, command


def test_askpass_answers_every_ask_from_the_descriptor(tmp_path: Path) -> None:
    auth = clones.GitAuth.for_token("ghs_t0ken with\\odd chars", tmp_path / "auth")
    assert auth.askpass is not None
    with auth.session() as (env, fds):
        assert "ghs_t0ken" not in "".join(env.values())  # only the descriptor's number
        asks = [
            command.run([str(auth.askpass), prompt], env=env, pass_fds=fds).stdout
            for prompt in ("Username for 'http://h': ", *["Password for 'http://h': "] * 3)
        ]
    assert asks == ["x-access-token\n", *["ghs_t0ken with\\odd chars\n"] * 3]
    assert (tmp_path / "auth").stat().st_mode & 0o077 == 0
    assert "ghs_t0ken" not in repr(auth)


def test_without_a_token_git_gets_no_askpass(tmp_path: Path) -> None:
    auth = clones.GitAuth.for_token(None, tmp_path / "auth")
    with auth.session() as (env, fds):
        assert fds == () and "GIT_ASKPASS" not in env
        assert env["GIT_TERMINAL_PROMPT"] == "0"
