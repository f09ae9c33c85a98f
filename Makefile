# labsync — build, test and demo. Every target that needs system packages
# calls `deps` first, so a fresh Debian/Ubuntu machine needs only `make test`.
SHELL := /bin/bash
SWIFT ?= swift
TOOLS := .tools/venv
PY := $(TOOLS)/bin/python
APT_PACKAGES := libgit2-dev libssh2-1-dev libyaml-dev libsqlite3-dev pkg-config openssh-server python3-venv python3-pip sudo git util-linux chromium openssl
PY_TOOLS := packaging==26.2 jsonschema==4.26.0 PyYAML==6.0.3
# JupyterHub end-to-end test (Tests/labsyncTests/HubEndToEndTests.swift): the
# proxy from Debian (works with NodeSource's nodejs too, given NODE_PATH — see
# Sources/Drivers/JupyterHub/HubLayout.swift), and a wheelhouse the test host
# installs from with --no-index, downloaded once for /usr/bin/python3.
HUB_APT := node-configurable-http-proxy openssl curl passwd
HUB_WHEELHOUSE := .cache/wheelhouse/hub
HUB_WHEELS := 'jupyterhub>=5,<6' jupyterlab 'oauthenticator>=16' jupyterhub-idle-culler ipykernel
# Kubernetes hubs (scripts/check-k8s.py): Kubernetes' schemas for the Namespace
# (shipped inside kubernetes-validate, used offline) in the tools venv, and the
# real JupyterHub, oauthenticator and KubeSpawner in a venv of their own, for
# trait introspection and a `jupyterhub --show-config` of the assembled config.
K8S_PY_TOOLS := kubernetes-validate==1.37.0
HUBCHECK := .tools/hubcheck
HUBCHECK_PACKAGES := jupyterhub==5.5.4 oauthenticator==17.4.0 jupyterhub-kubespawner==7.1.0

.PHONY: deps build debug test test-unit test-python test-k8s demo bench clean

# Idempotent: installs only what is missing.
deps: $(TOOLS)/.done $(TOOLS)/.k8s-done $(HUBCHECK)/.done $(HUB_WHEELHOUSE)/.done
	@missing=""; for p in $(APT_PACKAGES) $(HUB_APT); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

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

$(HUBCHECK)/.done: $(TOOLS)/.done
	/usr/bin/python3 -m venv $(HUBCHECK)
	$(HUBCHECK)/bin/python -m pip install -q $(HUBCHECK_PACKAGES)
	touch $@

$(HUB_WHEELHOUSE)/.done: $(TOOLS)/.done
	mkdir -p $(HUB_WHEELHOUSE)
	$(PY) -m pip download -q --disable-pip-version-check --only-binary :all: -d $(HUB_WHEELHOUSE) $(HUB_WHEELS)
	touch $@

build: deps
	$(SWIFT) build -c release --product labsync
	$(SWIFT) build -c release --product labsync-testhost

debug: deps
	$(SWIFT) build

test: deps test-python test-unit

test-python: deps
	$(PY) scripts/gen-pep440-cases.py Tests/SpecsTests/Fixtures/pep440-cases.json
	$(PY) scripts/check-schemas.py
	$(PY) scripts/check-k8s.py

# A live check against a real cluster, only where KUBECONFIG names one; the
# tests above use no cluster and fake none.
test-k8s:
	scripts/test-k8s.sh

test-unit: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: build
	scripts/demo.sh

bench: build
	scripts/bench.sh
	scripts/bench-packages.sh

clean:
	rm -rf .build .tools
