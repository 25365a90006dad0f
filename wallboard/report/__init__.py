"""Post-mortem reports of a snapshot or a window: HTML and plain text."""
