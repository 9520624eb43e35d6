"""Models of this app (filled by the issue that builds it)."""
