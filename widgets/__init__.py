"""Textual widgets. Each renders a `wallboard.core.snapshot.Snapshot`; none touches a feed."""
