"""Errors for data that cannot be found or read; each message names the file or sources and the fix."""


class MissingDataError(FileNotFoundError):
    """No source of a dataset is available; the message lists the sources tried and how to provide one."""


class CorruptDataError(ValueError):
    """A data file exists but is not what it should be (wrong magic number, length, unreadable image)."""
