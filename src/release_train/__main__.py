"""Allow ``python -m release_train``."""

from __future__ import annotations

from release_train.cli import main

raise SystemExit(main())
