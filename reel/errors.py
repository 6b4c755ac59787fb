"""Errors a user can act on: the CLI prints their message as one line, no traceback."""


class UserError(Exception):
    """Bad input or missing setup; the message says what was wrong and what to do."""


class BackendUnavailable(UserError):
    """A model backend cannot run here (missing extra, weights or binary)."""


class BackendCrashed(RuntimeError):
    """A model backend died mid-task (worker exit, lost device): worth retrying as is."""


class DirectorError(UserError):
    """The director model could not write a valid plan, even after being shown its errors: a
    setting (a larger model, --director-fallback heuristic) changes that, not a re-run. `rule` is
    the first check still failing, `replies` the raw replies, saved beside the run by the plan stage."""

    def __init__(self, message: str, rule: str = "", replies: tuple[str, ...] = ()):
        super().__init__(message)
        self.rule, self.replies = rule, replies


class DiskFull(UserError):
    """A write found no space left on its device; the message names the folder and the space needed."""
