"""Replay: the engine (a fold with checkpoints, seekable) and the player (the virtual clock)."""
