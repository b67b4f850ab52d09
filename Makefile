# The two commands of the README: `make demo` and `make test`.
# Each bootstraps .venv with Python 3.11 and pip only, and reinstalls only
# when setup.cfg or pyproject.toml changed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# `make demo` installs keras_lr with the `examples` extra only (what the demo
# needs); `make test` with `dev`, which holds every `examples` requirement
# too, so its stamp marks both as installed.
DEMO_STAMP := $(VENV)/.installed-examples
DEV_STAMP := $(VENV)/.installed-dev
# The JAX pass of `make test` runs in an environment without TensorFlow:
# keras_lr[jax,test]: JAX and the test tools its tests import, nothing else.
NOTF_VENV := .venv-notf
NOTF_PY := $(NOTF_VENV)/bin/python
NOTF_STAMP := $(NOTF_VENV)/.installed-jax

# TensorFlow's start-up chatter (CUDA probing, CPU flags) hides test output.
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo tensorboard test docs docs-serve bench clean

# $(call venv,DIR): check Python, create the virtualenv DIR if needed, with
# a current pip.
define venv
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null || { echo "make: needs Python 3.11; run with PYTHON=/path/to/python3.11" >&2; exit 2; }
	test -x $(1)/bin/python || $(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --quiet --upgrade pip
endef

# torch's CPU build first (the one PyPI serves bundles CUDA, several GB):
# from a local wheel if pip finds one, else from PyTorch's CPU index.
$(DEV_STAMP): setup.cfg pyproject.toml
	$(call venv,$(VENV))
	$(PY) -m pip install --quiet --quiet "torch==2.13.0+cpu" 2>/dev/null \
	  || $(PY) -m pip install --quiet --quiet --index-url https://download.pytorch.org/whl/cpu "torch>=2.13.0"
	$(PY) -m pip install --quiet --quiet -e ".[dev]"
	touch $(DEV_STAMP) $(DEMO_STAMP)

$(NOTF_STAMP): setup.cfg pyproject.toml
	$(call venv,$(NOTF_VENV))
	$(NOTF_PY) -m pip install --quiet --quiet -e ".[jax,test]"
	touch $(NOTF_STAMP)

$(DEMO_STAMP): setup.cfg pyproject.toml
	$(call venv,$(VENV))
	$(PY) -m pip install --quiet --quiet -e ".[examples]"
	touch $(DEMO_STAMP)

# The console script, not `python -m`: it hides TensorFlow's start-up lines.
demo: $(DEMO_STAMP)
	$(VENV)/bin/keras-lr demo

# TensorBoard on the last `make demo` (runs/mnist/latest), every point of
# every run (it samples 1,000 per tag otherwise), on localhost only.
LOGDIR ?= runs/mnist/latest
tensorboard: $(DEMO_STAMP)
	@test -e $(LOGDIR) || { echo "make: no $(LOGDIR); run make demo first" >&2; exit 2; }
	$(VENV)/bin/tensorboard --logdir $(LOGDIR) --samples_per_plugin scalars=0 --host 127.0.0.1

# The documentation site (docs/mkdocs.yml), strict: a broken link, a bad
# docstring or a failing hook is an error. Built into build/site; the API
# pages and the schedule figures are made by docs/hooks.py at build time.
# NO_MKDOCS_2_WARNING silences Material's banner about its successor.
DOCS := NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs
docs: $(DEV_STAMP)
	$(DOCS) build --strict -f docs/mkdocs.yml

# The site, rebuilt on each change, on localhost only.
docs-serve: $(DEV_STAMP)
	$(DOCS) serve --strict -a 127.0.0.1:8000 -f docs/mkdocs.yml

# The whole suite on TensorFlow, and the backend-neutral tests on JAX and on
# torch; all run, and the exit status fails if any failed. Two lanes, one per
# core, of about equal length: the TensorFlow pass over everything but
# LANE_TWO, beside the JAX and torch passes followed by LANE_TWO on
# TensorFlow (the command, the demo and the comparison: trainings in
# subprocesses) and the strict documentation build. The JAX pass runs in
# .venv-notf, which has no TensorFlow (installed first, in the second lane),
# less the tests marked `needs_tensorflow` or `needs_torch`, which the other
# passes run; the tests marked `without_tensorflow` run there only.
# Each pass in its own temporary directory; the second lane's reports follow.
LANE_TWO := tests/tool/test_cli.py tests/tool/test_demo.py tests/tool/test_compare.py
test: $(DEV_STAMP)
	@others=$$(mktemp -d); status=0; \
	( { $(MAKE) --no-print-directory $(NOTF_STAMP) \
	    && KERAS_BACKEND=jax $(NOTF_PY) -m pytest tests \
	      -m "backend_neutral and not (needs_tensorflow or needs_torch)" \
	      --basetemp=$$others/jax; } > $$others/jax.log 2>&1; \
	  echo $$? > $$others/jax.status; \
	  KERAS_BACKEND=torch $(PY) -m pytest tests \
	    -m "backend_neutral and not without_tensorflow" \
	    --basetemp=$$others/torch > $$others/torch.log 2>&1; \
	  echo $$? > $$others/torch.status; \
	  KERAS_BACKEND=tensorflow $(PY) -m pytest $(LANE_TWO) \
	    --basetemp=$$others/tool > $$others/tool.log 2>&1; \
	  echo $$? > $$others/tool.status; \
	  $(DOCS) build --strict -f docs/mkdocs.yml > $$others/docs.log 2>&1; \
	  echo $$? > $$others/docs.status ) & \
	KERAS_BACKEND=tensorflow $(PY) -m pytest tests $(LANE_TWO:%=--ignore=%) \
	  -m "not without_tensorflow" || status=1; \
	wait; \
	for pass in jax torch tool docs; do \
	  case $$pass in \
	    jax) echo "== KERAS_BACKEND=jax pytest tests -m 'backend_neutral and not (needs_tensorflow or needs_torch)' (in $(NOTF_VENV): no TensorFlow)";; \
	    tool) echo "== KERAS_BACKEND=tensorflow pytest $(LANE_TWO)";; \
	    docs) echo "== mkdocs build --strict -f docs/mkdocs.yml";; \
	    torch) echo "== KERAS_BACKEND=torch pytest tests -m 'backend_neutral and not without_tensorflow'";; \
	  esac; \
	  cat $$others/$$pass.log; \
	  [ "$$(cat $$others/$$pass.status)" = 0 ] || status=1; \
	done; \
	rm -rf $$others; \
	exit $$status

# The README's benchmark tables (several minutes; not part of `make test`).
bench: $(DEV_STAMP)
	$(PY) bench/bench_schedules.py
	KERAS_BACKEND=tensorflow $(PY) bench/bench_callbacks.py
	KERAS_BACKEND=jax $(PY) bench/bench_callbacks.py
	KERAS_BACKEND=tensorflow $(PY) bench/bench_optimizers.py
	KERAS_BACKEND=jax $(PY) bench/bench_optimizers.py

clean:
	rm -rf $(VENV) $(NOTF_VENV) build dist *.egg-info .pytest_cache .hypothesis
