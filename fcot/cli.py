"""``python -m fcot`` / ``fcot``: the command-line entry point.

Each subcommand is a ``register_<name>(subparsers)`` function below that adds its parser and
sets ``func``; the function returns the process exit code. Errors a user can fix (bad task,
missing file, malformed record) print one clear line and exit 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys


def register_tasks(subparsers) -> None:
    parser = subparsers.add_parser(
        "tasks",
        help="list the 12 tasks: answer type, dataset size, default split sizes (train/validation/test)",
        description="Reads the data mirror ($FCOT_DATA_MIRROR) or the download cache. aqua shows its test "
        "size only unless deepmind/AQuA train.json is provided.",
    )
    parser.add_argument("--tasks", default="all", help="comma-separated task names, or all (default)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per task instead of a table")
    parser.add_argument("--mirror", default=None, help="data mirror root (default: $FCOT_DATA_MIRROR)")
    parser.set_defaults(func=_run_tasks)


def _run_tasks(args) -> int:
    import json

    from fcot import tasks

    frame = tasks.summarize_tasks(args.tasks, mirror=args.mirror)
    rows = [
        {key: (None if value is None or value != value else value) for key, value in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0


REGISTRARS = [register_tasks]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fcot", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for register in REGISTRARS:
        register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"fcot {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
