# ecsched - build, test, demo, bench.
#
# A plain Makefile: the tree is small, every dependency is a Debian package
# found at a fixed place, and make's incremental rebuilds (with -MMD header
# tracking) are all we need; CMake would add a configure step and nothing
# else. SAN=1 builds into build-san/ with AddressSanitizer and
# UndefinedBehaviorSanitizer.

CC ?= cc
SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT = -O1
else
BUILD ?= build
SANFLAGS =
OPT = -O2
endif

CPPFLAGS += -Isrc -D_GNU_SOURCE
CFLAGS += -std=c11 $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wformat=2 -Wvla $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)
LDLIBS += -lmicrohttpd -ljansson -lsqlite3 -lcurl -lyaml -lpthread -lm

LIB_SRC := $(wildcard src/core/*.c src/store/*.c src/api/*.c src/aws/*.c src/launch/*.c src/trigger/*.c src/daemon/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard bench/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
# Everything of the CLI but main(), so unit tests can link its modules.
CLI_LIB_OBJ := $(filter-out $(BUILD)/obj/src/cli/main.o,$(CLI_OBJ))
HARNESS_OBJ := $(BUILD)/obj/tests/unit/harness.o
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
# Fuzz targets link the library and the CLI's objects except main() (the
# CLI library), so a target may call any of them (fuzz_yaml: src/cli/yamlio.c).
REPLAY_OBJ := $(BUILD)/obj/tests/fuzz/replay.o $(BUILD)/obj/tests/fuzz/fuzz.o
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/replay_%)

GEN_OBJ := $(BUILD)/obj/gen/openapi.o

LIB := $(BUILD)/libecsched.a
CLI_LIB := $(BUILD)/libecscli.a
BIN := $(BUILD)/ecsched

.PHONY: all deps demo test test-fast unit bench soak clean format lint fuzz fuzz-build replay

all: $(BIN) $(UNIT_BIN) $(BENCH_BIN) $(REPLAY_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# docs/openapi.json becomes a C string, so GET /spec serves the document
# kept in the tree.
$(BUILD)/gen/openapi.c: docs/openapi.json
	@mkdir -p $(dir $@)
	{ echo '/* generated from docs/openapi.json by the Makefile; do not edit */'; \
	  echo '#include "api/spec.h"'; echo 'const char api_openapi_json[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@

$(GEN_OBJ): $(BUILD)/gen/openapi.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ) $(GEN_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(CLI_LIB): $(CLI_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/obj/src/cli/main.o $(CLI_LIB) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $< $(CLI_LIB) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(HARNESS_OBJ) $(CLI_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(HARNESS_OBJ) $(CLI_LIB) $(LIB) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# Each fuzz target also as a replay binary (tests/fuzz/replay.c feeds it the
# files named on its command line), built like everything else, so make test
# replays the corpora where libFuzzer is absent.
$(BUILD)/fuzz/replay_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(REPLAY_OBJ) $(CLI_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(REPLAY_OBJ) $(CLI_LIB) $(LIB) $(LDLIBS)

# Every corpus file through its target (seconds): the replay step of make test.
replay: $(REPLAY_BIN)
	@sh scripts/fuzz.sh replay $(BUILD)

# libFuzzer builds with Debian's clang into build-fuzz/: the library and the
# CLI objects instrumented (fuzzer-no-link), each target linked with
# -fsanitize=fuzzer. make fuzz runs each for FUZZ_SECONDS, one at a time.
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 600
# empty: every target; else the names to run, e.g. FUZZ_TARGETS="job yaml"
FUZZ_TARGETS ?=
FUZZ_BUILD := build-fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := $(filter-out $(SANFLAGS) -O2 -O1,$(CFLAGS)) -O2 $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(LIB_SRC) $(filter-out src/cli/main.c,$(CLI_SRC))) \
                $(FUZZ_BUILD)/obj/gen/openapi.o $(FUZZ_BUILD)/obj/tests/fuzz/fuzz.o
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(FUZZ_BUILD)/fuzz_%)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/gen/openapi.c: $(BUILD)/gen/openapi.c
	@mkdir -p $(dir $@)
	cp $< $@

$(FUZZ_BUILD)/obj/gen/openapi.o: $(FUZZ_BUILD)/gen/openapi.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS)

# Pattern-rule objects are intermediate to make: keep them between runs.
.SECONDARY: $(FUZZ_LIB_OBJ) $(FUZZ_SRC:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_SRC:%.c=$(BUILD)/obj/%.o) $(REPLAY_OBJ)

fuzz-build: $(FUZZ_BIN)

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@sh scripts/fuzz.sh run $(FUZZ_BUILD) $(FUZZ_SECONDS) "$(FUZZ_TARGETS)"

# Install the Debian packages the project needs (apt-get update only when
# something is missing; a quick no-op otherwise).
deps:
	@sh scripts/deps.sh

demo: deps $(BIN)
	@sh scripts/demo.sh $(BIN)

# The whole suite, twice: a normal build and a sanitizer build.
test: deps
	@sh scripts/test.sh

# One pass over the normal build only, for quick iteration.
test-fast: all
	@sh scripts/test.sh --fast

bench: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/bench.sh $(BUILD)

# The kill -9 chaos test (tests/integration/test_chaos.py, 30 kills in
# make test) at length: SOAK_KILLS kills, SOAK_SEED for the moments.
SOAK_KILLS ?= 300
soak: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/soak.sh $(BUILD) $(SOAK_KILLS)

clean:
	rm -rf build build-san build-fuzz

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) $(wildcard src/*/*.h) $(UNIT_SRC) tests/unit/harness.[ch] $(BENCH_SRC) \
	    tests/fuzz/*.[ch]

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr -Isrc src

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
