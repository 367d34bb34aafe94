# The TestOps server: `make serve`, and the browser its dashboard tests drive.
#
#   make serve     build the Python package (which carries toron-server) and serve this repository's
#                  testops.toml on 127.0.0.1:8700, data in .toron-server/. SERVE_FLAGS picks the callers:
#                  default --insecure-localhost (loopback only, no tokens); for tokens:
#                  make serve SERVE_FLAGS="--tokens tokens.toml" (or TORON_TOKENS=name:role:token,...).
#   make runner    a remote runner (`toron runner`) of a `make serve SERVE_FLAGS="--runners 0 --tokens tokens.toml"`,
#                  with the token of a `runner` entry in RUNNER_TOKEN_FILE (default runner.token).
#   make browser   Debian's chromium, for the Playwright tests of the dashboard (Playwright's own browser
#                  download cannot work here); installed when missing (as root, through apt).
.PHONY: serve runner browser

SERVE_ADDR ?= 127.0.0.1:8700
SERVE_FLAGS ?= --insecure-localhost
CHROMIUM ?= /usr/bin/chromium

serve: python-build
	$(VENV)/bin/toron serve --addr $(SERVE_ADDR) --data .toron-server --manifest testops.toml $(SERVE_FLAGS)

RUNNER_TOKEN_FILE ?= runner.token
runner: python-build
	$(VENV)/bin/toron runner --server http://$(SERVE_ADDR) --token-file $(RUNNER_TOKEN_FILE) --project .

browser:
	@test -x $(CHROMIUM) || { echo "installing chromium (Debian) for the dashboard's browser tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
