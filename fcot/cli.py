"""``python -m fcot`` / ``fcot``: the command-line entry point.

Each subcommand is a ``register_<name>(subparsers)`` function below that adds its parser and
sets ``func``; the function returns the process exit code. Errors a user can fix (bad task,
missing file, malformed record) print one clear line and exit 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys


def register_tasks(subparsers) -> None:
    parser = subparsers.add_parser("tasks", help="list the tasks fcot knows, with their answer types")
    parser.set_defaults(func=_run_tasks)


def _run_tasks(args) -> int:
    from fcot import tasks

    for name in tasks.task_names():
        print(name)
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
