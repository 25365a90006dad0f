"""The traffic simulator: a seeded discrete-event model of a contact-centre floor that writes
contract events to a file or a Redis stream (docs/simulator.md)."""

from feeds.simulator.model import Record, Simulator
from feeds.simulator.profile import Profile, ProfileError, load_profile

__all__ = ["Profile", "ProfileError", "Record", "Simulator", "load_profile"]
