"""Student models: building, loading, fine-tuning on curated samples, saving (``python -m fcot.students`` trains one).

``kinds`` says which student a name or model is (tiny alias, pretrained alias, path or hub id; decoder or
encoder-decoder); ``runtime`` sets a process's seeds and threads and quiets library logs; ``tiny`` builds the offline
tiny students; ``loading`` loads and saves any student; ``encoding`` tokenises samples as a student sees them;
``recipes`` holds :class:`TrainConfig` and the named recipes; ``training`` fine-tunes a student
(:func:`train_student`) and records the result; ``script`` is the command line, also under ``accelerate launch``.
"""

from .encoding import SampleCollator, encode_prompt, encode_sample, encode_samples
from .kinds import (
    STUDENT_KINDS,
    TINY_ALIASES,
    TINY_STUDENTS,
    StudentKind,
    TinySpec,
    is_tiny_alias,
    resolve_student,
    student_kind,
    sync_generation_config,
)
from .loading import (
    count_parameters,
    load_student,
    load_tokenizer,
    load_trained,
    save_adapter,
    save_student,
    shippable_base,
)
from .recipes import (
    FINETUNE_MODES,
    LORA_TARGETS,
    OPTIMIZERS,
    PRECISIONS,
    RECIPE_LR,
    RECIPES,
    SCHEDULERS,
    SELECT_METRICS,
    TrainConfig,
    recipe_config,
)
from .runtime import peft_quiet, quiet_transformers, set_seed, set_threads
from .script import config_from_args, main
from .tiny import EOS_TOKEN, PAD_TOKEN, build_tiny_student, train_tokenizer
from .training import (
    RESUME_KEY_FILE,
    TrainResult,
    check_resume,
    greedy_answers,
    learning_curves,
    record_training,
    train_student,
    validation_accuracy,
)
