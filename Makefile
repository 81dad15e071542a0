# Two commands do all the set-up: `make demo` and `make test`.
# Each creates the virtual environment when it is missing.  torch is pinned
# here (the CPU wheel) so that pip does not pull a multi-GB CUDA build; the
# package itself keeps a loose range for users.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.limekit-installed
TORCH_PIN ?= torch==2.13.0

.PHONY: demo test test-fast lint format test-vision vision-venv bench conformance venv clean docs docs-clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_PIN)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/limekit demo

# every test, the slow ones included (CI runs this, through .ci/run)
test: $(STAMP)
	$(PY) -m pytest -q

# the inner loop: the tests not marked slow (Dask, Ray and Spark clusters, the emulator, the other
# tests of several seconds; pyproject.toml registers the marker)
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

# ruff, configured in pyproject.toml: `make lint` checks (as CI does), `make format` rewrites.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# mypy, configured in pyproject.toml (the core and the public explainers)
typecheck: $(STAMP)
	$(PY) -m mypy

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# torchvision's binary imports only with torch's own PyPI build (CUDA, ~4.8 GB),
# not the +cpu wheel above: a separate environment, kept out of `make test` and CI.
VISION_VENV ?= .venv-vision
VISION_PY := $(VISION_VENV)/bin/python
VISION_STAMP := $(VISION_VENV)/.limekit-installed
VISION_PINS ?= "torch===2.13.0" torchvision==0.28.0

vision-venv: $(VISION_STAMP)

$(VISION_STAMP): pyproject.toml
	test -x $(VISION_PY) || $(PYTHON) -m venv $(VISION_VENV)
	$(VISION_PY) -m pip install --quiet --upgrade pip
	$(VISION_PY) -m pip install --quiet $(VISION_PINS)
	$(VISION_PY) -m pip install --quiet -e ".[vision]" pytest
	touch $(VISION_STAMP)

test-vision: $(VISION_STAMP)
	$(VISION_PY) -m pytest -q tests_vision

# The documentation site (docs/, Sphinx): installs the `docs` extra into .venv when missing, runs the
# gallery (examples/plot_*.py) and builds docs/_build/html.  Warnings are errors.
DOCS_STAMP := $(VENV)/.limekit-docs-installed
SPHINXOPTS ?= -W --keep-going -q

$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(PY) -c "import sphinx, numpydoc, sphinx_gallery, pydata_sphinx_theme, myst_parser" 2>/dev/null \
		|| $(PY) -m pip install --quiet -e ".[docs]"
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} MPLBACKEND=Agg $(PY) -m sphinx -b html $(SPHINXOPTS) docs docs/_build/html

docs-clean:
	rm -rf docs/_build docs/api/generated docs/auto_examples docs/sg_execution_times.rst

conformance: $(STAMP)
	$(PY) scripts/lime_conformance.py

bench: $(STAMP)
	$(PY) benchmarks/bench_tabular.py

clean:
	rm -rf $(VENV) $(VISION_VENV) build *.egg-info .pytest_cache docs/_build docs/api/generated docs/auto_examples
