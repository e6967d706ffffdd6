"""The script entry: ``python -m fcot.students`` trains one student, the same code under ``python`` or
``accelerate launch``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from fcot.curate import read_samples
from fcot.runs import is_main_process
from fcot.students.recipes import RECIPES, TrainConfig, recipe_config
from fcot.students.training import train_student


def _parse_value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def config_from_args(recipe: str = "tiny", config_file: str | None = None, overrides: Sequence[str] = ()) -> TrainConfig:
    """A TrainConfig from a recipe, then a JSON/YAML file of fields, then ``key=value`` overrides."""
    changes: dict[str, Any] = {}
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such training config file")
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(path.read_text()) or {}
        else:
            data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of TrainConfig fields")
        changes.update(data)
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected key=value (a TrainConfig field)")
        key, value = item.split("=", 1)
        changes[key.strip()] = _parse_value(value.strip())
    return recipe_config(recipe, **changes)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fcot.students --train T.jsonl --val V.jsonl --run-dir DIR [--recipe tiny] [--set k=v]``.

    Runs unchanged under ``accelerate launch --num_processes N -m fcot.students ...`` (DDP; the
    Trainer shards batches, only the main process writes). Prints the result summary as JSON.
    """
    parser = argparse.ArgumentParser(prog="python -m fcot.students", description="Fine-tune a student on curated samples.")
    parser.add_argument("--train", required=True, help="samples JSONL (fcot.curate.write_samples) to train on")
    parser.add_argument("--val", required=True, help="validation samples JSONL (model selection; never test)")
    parser.add_argument("--run-dir", required=True, help="checkpoints, best/ and train_result.json go here")
    parser.add_argument("--recipe", default="tiny", choices=sorted(RECIPES), help="training recipe (hyperparameters)")
    parser.add_argument("--config", default=None, help="JSON or YAML file of TrainConfig fields")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a TrainConfig field (repeatable), e.g. --set epochs=3")
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args.recipe, args.config, args.overrides)
        result = train_student(read_samples(args.train), read_samples(args.val), config, args.run_dir)
    except (FileNotFoundError, ValueError) as error:
        print(f"fcot.students: error: {error}", file=sys.stderr)
        return 2
    finally:
        _end_distributed()
    if is_main_process():
        summary = {k: v for k, v in dataclasses.asdict(result).items() if k not in ("log_history", "config")}
        print(json.dumps(summary, default=str))
    return 0


def _end_distributed() -> None:
    """Destroy the DDP process group the Trainer created (under ``accelerate launch``), so a process
    does not exit with the backend's threads still running (gloo then aborts it: SIGABRT,
    "terminate called without an active exception")."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()

