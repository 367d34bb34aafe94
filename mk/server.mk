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
#   make image     deploy/Dockerfile built by buildah without a daemon (vfs storage, chroot isolation, under
#                  IMAGE_STORE), tagged IMAGE, then `toron-server --help` run in it. Needs the base images
#                  from docker.io: on a machine without a registry it stops at their pull.
.PHONY: serve runner browser image

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

IMAGE ?= toron:2.5.0
IMAGE_STORE ?= .toron-image
BUILDAH := buildah --storage-driver vfs --root $(abspath $(IMAGE_STORE))/root --runroot $(abspath $(IMAGE_STORE))/run

image:
	@command -v buildah >/dev/null || { echo "make image needs buildah (apt-get install -y buildah)"; exit 1; }
	$(BUILDAH) bud --isolation chroot --layers -f deploy/Dockerfile -t $(IMAGE) .
	c=$$($(BUILDAH) from $(IMAGE)); rc=0; $(BUILDAH) run --isolation chroot $$c -- toron-server --help || rc=$$?; \
	  $(BUILDAH) rm $$c >/dev/null; exit $$rc
