# rtmo-plugin developer commands. Everything runs inside .venv/ (created by `make setup`).
PY      := .venv/bin/python
STAMP   := .venv/.rtmo_plugin_setup_ok
PYTEST  := $(PY) -m pytest
export OMP_NUM_THREADS ?= 2

.PHONY: setup lint test test-slow demo overfit benchmark clean-venv setup-compat test-compat

$(STAMP): requirements/constraints.txt scripts/setup_env.sh setup.py
	bash scripts/setup_env.sh

## make setup: create .venv with the verified stack and the plugin (idempotent; seconds when done)
setup:
	bash scripts/setup_env.sh

## make lint: ruff (flake8's and isort's rules, settings in pyproject.toml) over the whole tree
lint: setup
	$(PY) -m ruff check .

## make test: lint, then the test suite (fast, deterministic; slow tests excluded) on the main stack, then on
## the compat stack
test: lint
	$(PYTEST) -m "not slow" -q
	$(MAKE) test-compat

## make setup-compat: create .venv-compat, CI's second stack (torch 2.1.2; idempotent)
setup-compat:
	bash scripts/setup_compat_env.sh

## make test-compat: the same test suite on the second stack (classic MMPose, torch 2.1.2)
test-compat: setup-compat
	.venv-compat/bin/python -m pytest -m "not slow" -q

## make test-slow: only the long tests (10k-example fuzzing, longer trainings)
test-slow: setup
	$(PYTEST) -m slow -q

## make demo: synthetic data -> train a small RTMO on the CPU -> AP -> visualisations (<= 20 min on 2 cores)
demo: setup
	$(PY) tools/make_demo.py

## make overfit: RTMO-t from scratch on the 4 coco_mini images, ours then the reference (20 min budget each)
overfit: setup
	$(PY) -m experiments.overfit_check --budget-minutes 20

## make benchmark: speed of ours vs the reference (pipeline and model)
benchmark: setup
	$(PY) -m experiments.benchmark_pipeline
	$(PY) -m experiments.benchmark

clean-venv:
	rm -rf .venv .venv-compat
