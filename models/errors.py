"""The one error type for user mistakes: the CLI prints its message as a single line."""


class PercheadError(Exception):
    """A problem the user can fix (bad file, bad option); the message says what to do."""
