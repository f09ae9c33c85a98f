# labsync — build, test and demo. Every target that needs system packages
# calls `deps` first, so a fresh Debian/Ubuntu machine needs only `make test`.
SHELL := /bin/bash
SWIFT ?= swift
TOOLS := .tools/venv
PY := $(TOOLS)/bin/python
# libcurl4-openssl-dev: the static Swift Foundation (FoundationNetworking) links libcurl.
APT_PACKAGES := libgit2-dev libssh2-1-dev libyaml-dev libsqlite3-dev pkg-config openssh-server python3-venv python3-pip sudo git util-linux chromium openssl shellcheck debootstrap dpkg-dev binutils libcurl4-openssl-dev
PY_TOOLS := packaging==26.2 jsonschema==4.26.0 PyYAML==6.0.3 ruff==0.17.5
# The local identity provider of the OAuth end-to-end tests
# (Tests/Fixtures/identity-provider/idp.py): authlib (with its JOSE library
# joserfc) and trustme for the run's test CA.
IDP_PY_TOOLS := authlib==1.9.6 trustme==1.2.1
# JupyterHub end-to-end test (Tests/labsyncTests/HubEndToEndTests.swift): the
# proxy from Debian (works with NodeSource's nodejs too, given NODE_PATH — see
# Sources/Drivers/JupyterHub/HubLayout.swift), and a wheelhouse the test host
# installs from with --no-index, downloaded once for /usr/bin/python3.
HUB_APT := node-configurable-http-proxy openssl curl passwd
HUB_WHEELHOUSE := .cache/wheelhouse/hub
HUB_WHEELS := 'jupyterhub>=5,<6' jupyterlab 'oauthenticator>=16' jupyterhub-idle-culler ipykernel
# uv for `installer: uv` scenarios (Tests/labsyncTests/PipUVTLSTests.swift):
# the test host's ensure-uv installs it from here with --no-index. The same
# range as PipDriver.uvRequirement.
UV_WHEELHOUSE := .cache/wheelhouse/uv
UV_WHEELS := 'uv>=0.11'
# R environments: the R version cross-check (scripts/gen-rversion-cases.R), the
# CRAN-like test repository (scripts/make-cran-fixture.sh: R CMD build needs
# r-base-dev) and the R driver's integration tests (IRkernel, remotes).
R_APT := r-base-core r-base-dev r-cran-irkernel r-cran-remotes

# Kubernetes hubs (scripts/check-k8s.py): Kubernetes' schemas for the Namespace
# (shipped inside kubernetes-validate, used offline) in the tools venv, and the
# real JupyterHub, oauthenticator and KubeSpawner in a venv of their own, for
# trait introspection and a `jupyterhub --show-config` of the assembled config.
K8S_PY_TOOLS := kubernetes-validate==1.37.0
HUBCHECK := .tools/hubcheck
HUBCHECK_PACKAGES := jupyterhub==5.5.4 oauthenticator==17.4.0 jupyterhub-kubespawner==7.1.0
# The pure-Python proxy a hub runs where the release packages no Node one
# (Debian 11; Tests/DriversTests/HubProxyTests.swift), in the same venv: its
# own stamp, so an existing venv gets it too.
HUBCHECK_PROXY := configurable-http-proxy==0.4.0

.PHONY: bench-ab deps release build debug dist dist-trixie install test-dist test-distros build-tests test test-unit test-unit-isolated test-integration test-e2e test-python test-r test-k8s lint demo bench clean

# Installs the Debian packages of $(1) that are missing, with apt-get options $(2).
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(2) $$missing; \
	fi
endef

# Idempotent: installs only what is missing. R without its Recommends: they
# would add hundreds of r-cran-* packages that no test uses.
deps: $(TOOLS)/.done $(TOOLS)/.k8s-done $(TOOLS)/.idp-done $(HUBCHECK)/.done $(HUBCHECK)/.proxy-done $(HUB_WHEELHOUSE)/.done $(UV_WHEELHOUSE)/.done
	$(call apt_install,$(APT_PACKAGES) $(HUB_APT),)
	$(call apt_install,$(R_APT),--no-install-recommends)

# Python tools for the cross-checks (packaging, jsonschema), in a private venv
# so the system and the developer's Python stay untouched.
$(TOOLS)/.done:
	@command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
	@[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || { \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv python3-pip; }
	/usr/bin/python3 -m venv $(TOOLS)
	$(PY) -m pip install -q $(PY_TOOLS)
	touch $@

$(TOOLS)/.k8s-done: $(TOOLS)/.done
	$(PY) -m pip install -q $(K8S_PY_TOOLS)
	touch $@

$(TOOLS)/.idp-done: $(TOOLS)/.done
	$(PY) -m pip install -q $(IDP_PY_TOOLS)
	touch $@

$(HUBCHECK)/.done: $(TOOLS)/.done
	/usr/bin/python3 -m venv $(HUBCHECK)
	$(HUBCHECK)/bin/python -m pip install -q $(HUBCHECK_PACKAGES)
	touch $@

$(HUBCHECK)/.proxy-done: $(HUBCHECK)/.done
	$(HUBCHECK)/bin/python -m pip install -q $(HUBCHECK_PROXY)
	touch $@

$(HUB_WHEELHOUSE)/.done: $(TOOLS)/.done
	mkdir -p $(HUB_WHEELHOUSE)
	$(PY) -m pip download -q --disable-pip-version-check --only-binary :all: -d $(HUB_WHEELHOUSE) $(HUB_WHEELS)
	touch $@

$(UV_WHEELHOUSE)/.done: $(TOOLS)/.done
	mkdir -p $(UV_WHEELHOUSE)
	$(PY) -m pip download -q --disable-pip-version-check --only-binary :all: --no-deps -d $(UV_WHEELHOUSE) $(UV_WHEELS)
	touch $@

# Release builds need no Swift runtime on the target (--static-swift-stdlib)
# and carry VERSION and the git revision (scripts/stamp-version.sh writes the
# ignored Sources/labsync/BuildInfo.generated.swift; -DLABSYNC_STAMPED uses it).
# `make build`, `make dist` and `make install` share these flags, hence one
# release build directory.
VERSION := $(shell tr -d '[:space:]' < VERSION)
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -DLABSYNC_STAMPED
# swift-argument-parser's generate-manual tool, built from the checkout SwiftPM
# resolved (its GenerateManual plugin would rebuild every product without the
# flags above).
GENERATE_MANUAL := .build-manual/release/generate-manual
PREFIX ?= /usr/local
DEB := dist/labsync_$(VERSION)_amd64.deb

release: deps
	scripts/stamp-version.sh
	$(SWIFT) build $(RELEASE_FLAGS) --product labsync

# The test host (make demo, make bench) imports Testing, which has no static
# library: it keeps the shared Swift runtime.
build: release
	$(SWIFT) build -c release --product labsync-testhost

$(GENERATE_MANUAL):
	$(SWIFT) package resolve
	$(SWIFT) build --package-path .build/checkouts/swift-argument-parser --scratch-path .build-manual \
	  -c release --product generate-manual

# dist/labsync_<version>_amd64.deb and dist/labsync-<version>-linux-x86_64.tar.gz.
dist: release $(GENERATE_MANUAL)
	scripts/make-dist.sh .build/release/labsync $(GENERATE_MANUAL)

# For people who build from source: make install PREFIX=$$HOME/.local (DESTDIR too).
install: release $(GENERATE_MANUAL)
	scripts/install-tree.sh .build/release/labsync $(GENERATE_MANUAL) "$(DESTDIR)" $(PREFIX)

# The same for Debian 13: dist/trixie/. The binary must link (and be compiled
# against) the libgit2 of the release it is for; scripts/dist-in-root.sh builds
# it here against a trixie root's libgit2 (own scratch directory .build-trixie)
# and packages it inside that root.
dist-trixie: deps $(GENERATE_MANUAL)
	scripts/dist-in-root.sh trixie

# Each .deb installed into a fresh root of its release (debootstrap, cached
# under .cache/distros). Not part of `make test`: the first run downloads the
# base systems and builds labsync once more inside trixie (see README for the
# timings).
test-dist: dist
	scripts/test-deb.sh $(DEB) bookworm

# Then the multi-distribution tier: pip and uv lifecycles and a hub login
# against an sshd in Debian 11, 12 and 13 roots, and Debian 11 as Raspbian 11
# (scripts/test-distros.sh).
test-distros: test-dist dist-trixie
	scripts/test-deb.sh dist/trixie/labsync_$(VERSION)_amd64.deb trixie
	scripts/test-distros.sh bullseye bookworm trixie raspbian-bullseye

debug: deps
	$(SWIFT) build

# Test tiers (DESIGN.md "Test tiers"): LABSYNC_TEST_TIERS selects them; every
# suite or test names its tier (.unit, .integration, .endToEnd), which
# scripts/check-test-tiers.sh checks. CI runs the unit tier isolated (no
# sshd, python3 or git on PATH), which proves it needs none of them.
test: deps lint test-python test-r test-unit-isolated test-integration test-e2e

# shellcheck and ruff on every script labsync ships, and the plug-in rule
# (scripts/check-architecture.sh). The venv is refreshed when PY_TOOLS grows.
lint: deps
	@$(PY) -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("ruff") is None)' 2>/dev/null || $(PY) -m pip install -q $(PY_TOOLS)
	scripts/lint.sh

build-tests: deps
	$(SWIFT) build --build-tests

test-python: deps
	$(PY) scripts/gen-pep440-cases.py Tests/SpecsTests/Fixtures/pep440-cases.json
	$(PY) scripts/check-schemas.py
	$(PY) scripts/check-k8s.py

# A live check against a real cluster, only where KUBECONFIG names one; the
# tests above use no cluster and fake none.
test-k8s:
	scripts/test-k8s.sh

# The R version comparator is checked against the R installed, not a frozen file.
test-r: deps
	Rscript scripts/gen-rversion-cases.R Tests/SpecsTests/Fixtures/rversion-cases.json

# Pure: no sshd, no network, no python3, no process started (Spawn refuses).
test-unit: build-tests
	scripts/check-test-tiers.sh
	LABSYNC_TEST_TIERS=unit $(SWIFT) test --skip-build

# The unit tier with a PATH holding only the Swift toolchain (no sshd, ssh,
# python3, git): proves the tier needs none of them (its time is reported;
# the goal is under 60 s).
test-unit-isolated: build-tests
	scripts/check-test-tiers.sh
	scripts/test-unit-isolated.sh

# Real sshd on loopback, git, venvs, python3, the labsync binary.
# HostLockLifetimeTests bounds process lifetimes in seconds on this machine:
# it runs on its own, after the rest of the tier. Why: swift-testing runs
# suites in parallel as tasks on Swift's cooperative pool, which has one
# thread per core (2 here). Synchronous tests that wait seconds for pip,
# git or R block those threads, so this async test's own task (and its
# 50 ms polls) may not run for many seconds: its bounds would measure the
# pool, not labsync. (labsync itself never blocks the pool: each SSH
# session has its own thread, Remote/ThreadExecutor.swift.)
test-integration: build-tests
	LABSYNC_TEST_TIERS=integration $(SWIFT) test --skip-build --skip HostLockLifetimeTests
	LABSYNC_TEST_TIERS=integration $(SWIFT) test --skip-build --filter HostLockLifetimeTests

# The real JupyterHub on this machine (HubEndToEndTests).
test-e2e: build-tests
	LABSYNC_TEST_TIERS=e2e $(SWIFT) test --skip-build

demo: build
	scripts/demo.sh

bench: build
	scripts/bench.sh
	scripts/bench-packages.sh

# Two builds' no-op plans, interleaved (see the script): make bench-ab OLD=dir-with-old-labsync
bench-ab: build
	scripts/bench-ab.sh $(OLD) $(NEW)

clean:
	rm -rf .build .tools
