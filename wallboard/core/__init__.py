"""The pure core: the event contract, the fold, metrics, alerts, staffing, reserve and the
snapshot. No IO, no clock reads, no UI (import-linter contracts in pyproject.toml)."""
