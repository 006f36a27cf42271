# hybrid-bench: build, test, benchmark and reproduce (reproduce.mk).
# `make` builds everything with warnings as errors; `make test` installs what is
# missing (scripts/install-deps.sh), builds, and runs every test, including the
# unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.

CC      ?= gcc
PKGS    := gsl
# Debian's libdnnl-dev 2.6 ships no pkg-config file (only CMake config), so
# oneDNN is linked by name; everything else comes from pkg-config.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation
OPT     ?= -O3 -march=native
CFLAGS  ?= -std=c11 $(OPT) -g -fopenmp $(WARN)
CPPFLAGS = -Iinclude -D_POSIX_C_SOURCE=200809L $(PKG_CFLAGS)
LDLIBS   = -ldnnl $(PKG_LIBS) -lm -fopenmp

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
PYTHON    := /usr/bin/python3

LIB_SRC  := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
TEST_SRC := $(wildcard tests/test_*.c)
# slow_*: end-to-end learning tests, too slow to repeat under the sanitizers.
SLOW_SRC := $(wildcard tests/slow_*.c)

BUILD    := build
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
SLOW     := $(SLOW_SRC:tests/%.c=$(BUILD)/tests/%)
SAN_OBJ  := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
SAN_TESTS:= $(TEST_SRC:tests/%.c=$(BUILD)/san/tests/%)

HYBENCH  := bin/hybench

.PHONY: all deps test unit-tests san-tests parity-tests cli-tests clean bench-step
.DELETE_ON_ERROR:

all: $(HYBENCH) $(TESTS) $(SLOW)

deps:
	@scripts/install-deps.sh

$(BUILD)/%.o: %.c $(wildcard include/hybench/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# The build flags go into `hybench version` (and so into every .meta sidecar).
$(BUILD)/src/cli/cmd_version.o: CPPFLAGS += -DHB_BUILD_FLAGS='"$(CFLAGS)"'

$(BUILD)/libhybench.a: $(LIB_OBJ)
	ar rcs $@ $^

$(HYBENCH): $(BUILD)/src/cli/main.o $(BUILD)/libhybench.a
	@mkdir -p bin
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/testutil.h tests/gradcheck.h $(BUILD)/libhybench.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests $< $(BUILD)/libhybench.a -o $@ $(LDLIBS)

# Sanitizer build: same sources, separate objects, -O1 so reports stay readable.
$(BUILD)/san/%.o: %.c $(wildcard include/hybench/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=c11 -O1 -g -fopenmp $(WARN) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/san/libhybench.a: $(SAN_OBJ)
	ar rcs $@ $^

$(BUILD)/san/tests/%: tests/%.c tests/testutil.h tests/gradcheck.h $(BUILD)/san/libhybench.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=c11 -O1 -g -fopenmp $(WARN) $(SAN_FLAGS) -Itests $< $(BUILD)/san/libhybench.a -o $@ $(LDLIBS) $(SAN_FLAGS)

# `make test` is the one command CI runs: it installs what is missing first,
# then re-enters make so pkg-config sees the freshly installed packages. Its
# last test is the quick reproduction with check-results (~11 min on 2 cores).
test:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory all $(SAN_TESTS)
	@scripts/run-tests.sh $(TESTS) -- $(SAN_TESTS) -- $(SLOW) -- tests/cli/*.sh -- tests/parity/run.sh -- tests/repro/quick.sh tests/repro/mutation.sh

unit-tests: $(TESTS)
	@scripts/run-tests.sh $(TESTS)

san-tests: $(SAN_TESTS)
	@scripts/run-tests.sh $(SAN_TESTS)

bench-step: $(HYBENCH)
	@bench/bench-step.sh


clean:
	rm -rf $(BUILD) bin

include reproduce.mk
