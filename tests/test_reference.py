"""The generated reference pages in docs/ match the code they are generated from."""

from __future__ import annotations

import pytest

from release_train.errors import ErrorCode
from release_train.reference import DOCS, PAGES


@pytest.mark.parametrize("name", sorted(PAGES))
def test_committed_page_is_current(name: str) -> None:
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert committed == PAGES[name](), (
        f"run `python -m release_train.reference` to update docs/{name}"
    )


def test_every_error_code_is_documented() -> None:
    text = PAGES["errors.md"]()
    assert all(f"`{code}`" in text for code in ErrorCode)
