# accpar: the README's two commands. `make run` and `make test` install what is missing
# (Debian packages), configure, build, then run the main job or every test.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
DEBIAN_PACKAGES := cmake make g++ pkg-config ccache python3 verilator libsystemc-dev libopenblas-dev \
                   libgtest-dev googletest protobuf-c-compiler libprotobuf-c-dev python3-onnx \
                   yosys iverilog nextpnr-ice40 openmpi-bin libopenmpi-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps configure build run test test-sanitize fuzz synth bench clean

all: build

deps:
	@missing=""; \
	for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j$(JOBS)

run: build
	./$(BUILD)/accpar run

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)

# The same tests built with AddressSanitizer and UndefinedBehaviorSanitizer (but the gate-level
# and synthesis tests, which run Yosys and Icarus only, and the labs' walk, which builds its own
# release copy: no host code of this build to sanitize; and the multi-rank identity tests, whose
# code paths the sanitized fault tests run too: minutes saved).
test-sanitize:
	$(MAKE) test BUILD=build-sanitize CMAKE_FLAGS="-DACCPAR_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo" \
	  CTEST_ARGS="-E '^(GateLevel|Synth|Labs)\.|^Ranks\.(SameReportAsOneProcess|PlacementSplitsGroups|CalibrateOnRanks)'"

# libFuzzer on every parser (clang; scripts/fuzz --help). FUZZ_SECONDS per parser.
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz --seconds $(FUZZ_SECONDS)

# FPGA resources of a preset (docs/fpga.md): make synth PRESET=tpu-v2
# (full-size presets: make synth PRESET=tpu-v3-full SYNTH_FLAGS=--modules)
PRESET ?= tiny
synth: deps
	scripts/synth $(PRESET) $(SYNTH_FLAGS) --json synth-$(PRESET).json

bench: build
	scripts/bench-rtl
	scripts/synth tpu-v2
	scripts/synth tpu-v3
	scripts/synth tpu-v2-full --modules
	scripts/synth tpu-v3-full --modules
	scripts/bench-models
	scripts/bench-planner
	scripts/bench-run
	scripts/bench-mpi

clean:
	rm -rf $(BUILD) build-sanitize build-fuzz
