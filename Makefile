# DR Autopilot — every command a newcomer needs. Read top to bottom.
#
#   make drill              the local failover drill (two-tier scenario), set-up included
#   make drill SCENARIO=lagging   a failure path (also: job-fails, stuck-job, unhealthy-landing, ...)
#   make drill PROVIDER=drs       the same drill against the local AWS Elastic Disaster Recovery
#   make drill SCENARIO=three-tier   a recovery plan in three waves (three-tier-app-down: a wave fails)
#   make drill MODE=drill         a drill: test machines, drill record, then held and cleaned up
#   make readiness [SCENARIO=lagging]  the run the readiness schedule starts: verdict, metrics, message
#   make test               lint, types and every test, set-up included (CI runs exactly this)
#   make bench              benchmark scripts that print figures
#   make bench-scale        the drill for 10 to 3,000 machines on each provider: a table of overheads
#   make reliability        fault matrix, alarm storm, hostile inputs, leak scan, cdk-nag: the figures table
#   make synth              synthesize the CloudFormation template offline into cdk.out/
#   make schema             regenerate schemas/failover-input.schema.json from the input model

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SCENARIO ?= two-tier
PROVIDER ?= cloudendure
MODE ?= recovery
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION = 20
export CDK_DISABLE_CLI_TELEMETRY = true

.PHONY: setup drill readiness test lint bench bench-scale reliability synth schema clean

# Set-up: a virtual environment with the pinned Python packages, the project itself (editable)
# and the Node tools. Re-runs only when a dependency file changes.
$(VENV)/.installed: requirements.txt lambdas/requirements.txt pyproject.toml package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed

drill: setup
	$(BIN)/python -m local.drill --provider $(PROVIDER) --scenario $(SCENARIO) --mode $(MODE)

readiness: setup
	$(BIN)/python -m local.drill --readiness --provider $(PROVIDER) --scenario $(SCENARIO) --html ''

TYPED := lambdas local infrastructure dr_autopilot_cli benchmarks app.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(TYPED)

# Ruff first (seconds), then mypy beside the tests: a cold mypy is ~20 s of one core that would
# otherwise come before the first test. The workflow tests on DRS run as a second pytest session
# beside the first (they need a local AWS of their own). Prints its wall time (set-up not counted).
test: setup
	@start=$$(date +%s); status=0; \
	$(BIN)/ruff check . && $(BIN)/ruff format --check . || status=1; \
	types_out=$$(mktemp); $(BIN)/mypy $(TYPED) > $$types_out 2>&1 & types=$$!; \
	drs_out=$$(mktemp); $(BIN)/pytest -m drs_environment -n 0 -q > $$drs_out 2>&1 & drs=$$!; \
	$(BIN)/pytest -n 3 || status=$$?; \
	wait $$drs || status=1; echo "workflow tests on DRS (pytest -m drs_environment, a session of its own):"; \
	cat $$drs_out; rm -f $$drs_out; \
	wait $$types || status=1; echo "mypy $(TYPED):"; cat $$types_out; rm -f $$types_out; \
	echo "make test: $$(( $$(date +%s) - start )) s wall for lint, types and tests (set-up excluded)"; \
	exit $$status

bench: setup
	$(BIN)/python benchmarks/list_machines.py

bench-scale: setup
	$(BIN)/python benchmarks/scale.py

reliability: setup
	$(BIN)/python benchmarks/reliability.py

schema: setup
	$(BIN)/python -m local.schema

synth: setup
	npx cdk synth --quiet --no-notices

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
