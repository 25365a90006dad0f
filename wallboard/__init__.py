"""wallboard: a sub-second terminal wallboard for contact-centre floors."""

__version__ = "0.1.0"
