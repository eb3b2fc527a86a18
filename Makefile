# ram-gym: two commands on a fresh machine.
#   make demo   - create .venv, install, run the main demo
#   make test   - create .venv, install, run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
EXTRAS ?= all,dev
comma  := ,
STAMP  := $(VENV)/.ram-gym-installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: install demo test lint typecheck docs check bench clean

# pip's and setuptools' own chatter goes to $(VENV)/install.log, shown only when the install fails.
# torch first, pinned: an unpinned torch pulls the newest, multi-GB CUDA build. On the project's
# machines pip finds a CPU-only 2.13.0 wheel on disk; elsewhere install the CPU build into .venv
# first (README, "Install": "On another machine") and this step keeps it.
$(STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing ram-gym[$(EXTRAS)] into $(VENV) (log: $(VENV)/install.log) ..."
	@( $(PY) -m pip install --quiet --upgrade pip \
	  && $(PY) -m pip install --quiet torch==2.13.0 \
	  && $(PY) -m pip install --quiet -e ".[$(EXTRAS)]" ) > $(VENV)/install.log 2>&1 \
	  || { cat $(VENV)/install.log; echo "install failed (log above: $(VENV)/install.log)"; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

# trains RAM on RAM-MNIST-v0 for 2.5 minutes on any machine (at most DEMO_STEPS env steps; the learning-rate
# schedule is fitted to the steps this machine manages), then scores the 10,000 test images
DEMO_STEPS ?= 7000000
DEMO_MINUTES ?= 2.5
demo: install
	$(VENV)/bin/ram train --env RAM-MNIST-v0 --steps $(DEMO_STEPS) --time-budget $(DEMO_MINUTES) \
		--out runs/demo-$$(date +%Y%m%d-%H%M%S)

test: install
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check ram_env agents tests examples benchmarks docs/gen_pages.py
	$(VENV)/bin/ruff format --check ram_env agents tests examples benchmarks docs/gen_pages.py

# mypy in its default (basic) mode on the two packages (configured in pyproject.toml)
typecheck: install
	$(VENV)/bin/mypy

# the documentation site (MkDocs Material) into site/, its code-made pages generated on the way
# (docs/gen_pages.py); fails on any warning (a broken link, a missing picture)
docs: install
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(VENV)/bin/mkdocs build --strict --quiet

# what CI runs: the tests, the linter, the type checker and the docs
check: test lint typecheck docs

bench: install
	$(PY) benchmarks/bench_envs.py

clean:
	rm -rf $(VENV) build site *.egg-info .pytest_cache .hypothesis
