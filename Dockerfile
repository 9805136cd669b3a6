# The release-train GitHub Action: release-train with git, uv and pre-commit.
# Layers go from least to most often changed: tools, dependencies, then our source, so a
# change to src/ rebuilds one small layer. Only the base image comes from a registry.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    UV_NATIVE_TLS=1 \
    UV_NO_CACHE=1

# git for clones and worktrees; the slim image has none (a base that has it skips apt).
RUN if ! command -v git >/dev/null; then \
        apt-get update \
        && apt-get install --yes --no-install-recommends git ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && git config --system --add safe.directory '*'

RUN python -m pip install uv pre-commit

# The dependencies alone, from pyproject.toml: cached until they change.
COPY pyproject.toml /opt/release-train/
RUN uv pip install --system --requirement /opt/release-train/pyproject.toml

COPY README.md LICENSE /opt/release-train/
COPY src /opt/release-train/src
RUN uv pip install --system --no-deps /opt/release-train \
    && release-train --version

ENTRYPOINT ["release-train", "action"]
