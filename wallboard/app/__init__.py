"""The Textual app: the live board, its sources and trend history, and the replay app."""
