"""wallboard: a sub-second terminal wallboard for contact-centre floors."""

from wallboard.core import native

__version__ = "0.1.0"

native.choose()  # compiled fold or its sources: decided before anything imports the fold
