# ram-gym: two commands on a fresh machine.
#   make demo   - create .venv, install, run the main demo
#   make test   - create .venv, install, run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.ram-gym-installed

.PHONY: install demo test lint bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU build of torch first: an unpinned torch pulls a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[all,dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	SDL_VIDEODRIVER=$${SDL_VIDEODRIVER:-dummy} $(PY) examples/make_env.py

test: install
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check ram_env agents tests examples benchmarks

bench: install
	$(PY) benchmarks/bench_envs.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
