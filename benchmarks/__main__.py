"""The benchmarks' own front door, beside the `reel` command: `reel-bench WHICH [options]` (or
`python -m benchmarks`, or `reel bench WHICH`, which hands over to this). Each prints figures."""

from __future__ import annotations

import importlib
import sys

from reel.env import configure
from reel.errors import UserError

WHICH = ("schedule", "memory", "preview", "batch", "plan")
# module per name; "plan" is plan_speed (a module called plan would read as the plan stage)
MODULES = {"plan": "plan_speed"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    configure()
    try:
        if not argv or argv[0] not in WHICH:
            raise UserError(f"name a benchmark: {', '.join(WHICH)} (got {' '.join(argv) or 'nothing'})")
        which, rest = argv[0], argv[1:]
        code = importlib.import_module(f"benchmarks.{MODULES.get(which, which)}").main(rest)
    except UserError as exc:
        print(f"reel-bench: error: {exc}", file=sys.stderr)
        return 2
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
