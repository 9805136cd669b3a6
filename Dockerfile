# The release-train GitHub Action: release-train with git, uv and pre-commit.
# Layers go from least to most often changed: tools, dependencies, then our source, so a
# change to src/ rebuilds one small layer. The base image is pinned by digest, and every
# Python package comes from the hashed lock requirements/action.txt: a run resolves nothing.
# BASE is an argument only so that tests can build on a local stand-in of the same image.
ARG BASE=python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    UV_NATIVE_TLS=1 \
    UV_NO_CACHE=1 \
    RELEASE_TRAIN_WORK_DIR=/var/lib/release-train

# git for clones and worktrees; the slim image has none (a base that has it skips apt).
# Repo code (uv lock, pre-commit hooks) runs as release-train-runner, never as root; the
# clones and worktrees live in the image's own work dir, which that account can traverse
# (the runner's mounted home need not be).
RUN if ! command -v git >/dev/null; then \
        apt-get update \
        && apt-get install --yes --no-install-recommends git ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && git config --system --add safe.directory '*' \
    && useradd --system --create-home --shell /usr/sbin/nologin release-train-runner \
    && install --directory --mode 0755 /var/lib/release-train

# uv, pre-commit, the build backend and release-train's dependencies, each by hash.
COPY requirements/action.txt /opt/release-train/requirements/action.txt
RUN python -m pip install --require-hashes --no-deps \
        --requirement /opt/release-train/requirements/action.txt

COPY pyproject.toml README.md LICENSE /opt/release-train/
COPY src /opt/release-train/src
RUN python -m pip install --no-deps --no-build-isolation --no-index /opt/release-train \
    && release-train --version

ENTRYPOINT ["release-train", "action"]
