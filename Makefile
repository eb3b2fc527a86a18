# ram-gym: two commands on a fresh machine.
#   make demo   - create .venv, install, run the main demo
#   make test   - create .venv, install, run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ram-gym-installed

.PHONY: install demo test lint typecheck check bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU build of torch first: an unpinned torch pulls a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[all,dev]"
	touch $(STAMP)

install: $(STAMP)

# trains RAM on RAM-MNIST-v0 for about 3 minutes on 2 CPU cores, then scores the 10,000 test images
DEMO_STEPS ?= 7000000
demo: install
	$(VENV)/bin/ram train --env RAM-MNIST-v0 --steps $(DEMO_STEPS) --out runs/demo-$$(date +%Y%m%d-%H%M%S)

test: install
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check ram_env agents tests examples benchmarks
	$(VENV)/bin/ruff format --check ram_env agents tests examples benchmarks

# mypy in its default (basic) mode on the two packages (configured in pyproject.toml)
typecheck: install
	$(VENV)/bin/mypy

# what CI runs: the tests, the linter and the type checker
check: test lint typecheck

bench: install
	$(PY) benchmarks/bench_envs.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
