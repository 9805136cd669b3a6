"""Every side effect of release-train lives in this package."""
