# eva-bench: `make demo` and `make test` are the two commands the README documents.
# The virtualenv location follows EVA_BENCH_VENV (default .venv), like scripts/install.sh.
EVA_BENCH_VENV ?= .venv
export EVA_BENCH_VENV
VENV := $(EVA_BENCH_VENV)

.DEFAULT_GOAL := help
.PHONY: help install demo test lint bench clean

help:
	@echo "eva-bench make targets:"
	@echo "  help     List these targets (default)"
	@echo "  install  Install system prerequisites (Vulkan/Mesa) and the package into $(VENV) (scripts/install.sh)"
	@echo "  demo     Install, run the expert policy on all tasks (20 episodes, 2 workers, run id 'demo'), show results"
	@echo "  test     Install, then run the test suite (fast tests plus the CI subset of slow tests)"
	@echo "  lint     Run ruff on the repository"
	@echo "  bench    Run the simulator benchmark (eva-bench bench sim)"
	@echo "  clean    Remove $(VENV) and eva_bench_results/"

install:
	bash scripts/install.sh

demo: install
	$(VENV)/bin/eva-bench run --policy expert --tasks all --episodes 20 --workers 2 --run-id demo
	$(VENV)/bin/eva-bench results show --run-id demo

test: install
	$(VENV)/bin/python -m pytest -q -m "not slow or ci"

lint:
	$(VENV)/bin/ruff check .

bench:
	$(VENV)/bin/eva-bench bench sim

clean:
	@for p in "$(VENV)" eva_bench_results; do \
		if [ -e "$$p" ]; then echo "Removing $$p/"; rm -rf -- "$$p"; else echo "Nothing to remove: $$p/ does not exist"; fi; \
	done
