# swift-kube-proxy: `make demo` shows it working, `make test` proves it.
SWIFT ?= swift
BIN := .build/debug/swift-kube-proxy

.PHONY: all deps build test soak demo bench image image-test clean

all: build

deps:
	@bash scripts/install-deps.sh

build:
	$(SWIFT) build

# Unit, fixture and kernel tests. Kernel tests create their own network namespaces
# (never touching this machine's own) and need root; without it they are skipped with a reason.
# --no-parallel: kernel suites share the xtables lock and the CPU; run them one at a time.
test: deps build
	$(SWIFT) test --no-parallel

# The soak: churn and faults for SKP_SOAK_SECONDS per mode
# (default 600), each mode's report in soak-<mode>.txt.
soak: deps build
	SKP_SOAK_SECONDS=$${SKP_SOAK_SECONDS:-600} $(SWIFT) test --no-parallel --filter SoakKernelTests

demo: deps build
	@bash demo/demo.sh $(BIN)

bench: deps
	@bash bench/bench.sh

# The container image: skp.oci.tar (OCI archive, swift-kube-proxy:0.1) from Debian packages and
# this checkout, no container registry needed (image/build.sh). image-test runs it with podman
# in the lab's node namespace and sends real traffic through it (image/test.sh).
image:
	@SWIFT=$(SWIFT) bash image/build.sh

image-test: image
	@bash image/test.sh

clean:
	rm -rf .build
