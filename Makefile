# Two commands do all the set-up: `make demo` and `make test`.
# Each creates the virtual environment when it is missing.  torch is pinned
# here (the CPU wheel) so that pip does not pull a multi-GB CUDA build; the
# package itself keeps a loose range for users.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.limekit-installed
TORCH_PIN ?= torch==2.13.0

.PHONY: demo test bench conformance venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_PIN)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/limekit demo

test: $(STAMP)
	$(PY) -m pytest -q

conformance: $(STAMP)
	$(PY) scripts/lime_conformance.py

bench: $(STAMP)
	$(PY) benchmarks/bench_tabular.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
