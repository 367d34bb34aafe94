# The operations guide's commands, on this repository's testops.toml (Toron's own suites). Each runs the
# installed `toron` command line with the repository's .venv first on PATH, so the manifest's commands
# (python -m pytest, ruff, cargo) resolve to the tools `make setup` installed.
.PHONY: testops-regression reports chaos-smoke snapshot-refresh

TORON := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/toron
SUITE ?= full
MODE ?= mock
CHAOS_MODES := mock

# Arguments are checked when make reads this file, before any prerequisite (the build) runs.
ifneq ($(filter chaos-smoke,$(MAKECMDGOALS)),)
ifeq ($(filter $(MODE),$(CHAOS_MODES)),)
$(error make chaos-smoke: MODE=$(MODE) is not a mode (expected one of: $(CHAOS_MODES)))
endif
endif

## testops-regression: run the profile SUITE (default full) of testops.toml, write reports/, exit by the verdict
testops-regression: python-build
	$(TORON) run --manifest testops.toml --profile $(SUITE) --no-progress

## reports: render every archived run's report and reports/index.html from the archive alone
reports: python-build
	$(TORON) report --all --archive .toron --reports reports
	@echo "reports/index.html"

## chaos-smoke: the chaos suite against the built-in mock models (MODE=mock, the only mode)
chaos-smoke: python-build
	$(TORON) run --manifest testops.toml --profile chaos-smoke --no-progress

## snapshot-refresh: regenerate missing and changed goldens under snapshots/ (unchanged ones are not rewritten)
snapshot-refresh: python-build
	$(TORON) snapshot refresh --manifest testops.toml
