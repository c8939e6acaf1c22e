"""Errors the CLI turns into exit code 2 with a one-line message."""


class InputError(Exception):
    """Bad command input (a missing file or column); the message says which."""
