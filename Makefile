# The two commands of the README: `make demo` and `make test`.
# Each bootstraps .venv with Python 3.11 and pip only, and reinstalls only
# when setup.cfg or pyproject.toml changed.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-tf test-jax bench clean

$(STAMP): setup.cfg pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found; run with PYTHON=/path/to/python3.11" >&2; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m keras_lr.cli demo

# The whole suite on TensorFlow, then the backend-neutral tests on JAX.
test: $(STAMP)
	KERAS_BACKEND=tensorflow $(PY) -m pytest tests
	KERAS_BACKEND=jax $(PY) -m pytest tests -m backend_neutral

bench: $(STAMP)
	$(PY) bench/bench_schedules.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
