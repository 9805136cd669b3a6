"""release-train: release a family of interdependent Python packages in dependency order."""

from __future__ import annotations

__version__ = "0.1.0"
