"""Textual widgets. Each renders a `wallboard.snapshot.Snapshot`; none touches a feed."""
