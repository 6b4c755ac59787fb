"""Errors a user can act on: the CLI prints their message as one line, no traceback."""


class UserError(Exception):
    """Bad input or missing setup; the message says what was wrong and what to do."""


class BackendUnavailable(UserError):
    """A model backend cannot run here (missing extra, weights or binary)."""


class BackendCrashed(RuntimeError):
    """A model backend died mid-task (worker exit, lost device): worth retrying as is."""


class DiskFull(UserError):
    """A write found no space left on its device; the message names the folder and the space needed."""
