# Makefile: builds build/walcast, its unit tests and fuzzers; `make test`, `make demo`, `make bench`.
# Plain make: SANITIZE=address|undefined, WERROR=1 (CI), OPT=-O0 for debugging.

CC       ?= cc
OPT      ?= -O2
SANITIZE ?=
WERROR   ?= 1
BUILD    := build
NPROC    := $(shell nproc 2>/dev/null || echo 2)

PKGS     := libpq rdkafka jansson libzstd libcrypto libcurl libmariadb libmongoc-1.0 libmicrohttpd
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN     += -Werror
endif
CFLAGS   := -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

CORE_SRC  := $(wildcard schemas/*.c) $(wildcard decoder/*.c)
AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c)) $(wildcard sinks/*.c)
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/%.o)
AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all deps test unit integration demo bench fuzz fuzz-replay clean
all: $(BUILD)/walcast

# Rebuild everything when the flags change (redis does the same with .make-settings).
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $@
FORCE:

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# the dashboard's page is embedded into its object (.incbin)
$(BUILD)/agent/dashboard.o: agent/dashboard.html

$(BUILD)/walcast: $(BUILD)/agent/main.o $(AGENT_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Each unit test links only against its own folder and the folders below it (tests/unit/layer.sh reads
# its includes), so the build holds the layers: a module that calls up a layer fails to link in its tests.
schemas_LAYER := $(filter $(BUILD)/schemas/%,$(CORE_OBJ))
decoder_LAYER := $(filter $(BUILD)/decoder/%,$(CORE_OBJ)) $(schemas_LAYER)
sinks_LAYER   := $(filter $(BUILD)/sinks/%,$(AGENT_OBJ)) $(BUILD)/agent/log.o $(schemas_LAYER)
agent_LAYER   := $(AGENT_OBJ) $(CORE_OBJ)
UNIT_LAYERS   := $(shell sh tests/unit/layer.sh $(UNIT_SRC))
$(foreach p,$(UNIT_LAYERS),$(eval $(BUILD)/tests/$(firstword $(subst =, ,$(p))): UNIT_OBJ = $$($(lastword $(subst =, ,$(p)))_LAYER)))

$(BUILD)/tests/%: tests/unit/%.c $(AGENT_OBJ) $(CORE_OBJ) $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(UNIT_OBJ) $(LDLIBS) -lcmocka

# avro-c decodes walcast's Avro in the unit test only (an independent implementation)
$(BUILD)/tests/test_avro $(BUILD)/tests/test_avro_oracle: LDLIBS += $(shell pkg-config --libs avro-c 2>/dev/null)

# The sink's Avro decoder next to avro-c on the same events (run by scripts/bench.sh)
$(BUILD)/bench/bench_avro: tests/bench/bench_avro.c $(AGENT_OBJ) $(CORE_OBJ) $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(AGENT_OBJ) $(CORE_OBJ) $(LDLIBS) $(shell pkg-config --libs avro-c 2>/dev/null)

# The sink's two JSON readers on the same events, with and without schemas (run by scripts/bench.sh)
$(BUILD)/bench/bench_json_dec: tests/bench/bench_json_dec.c $(AGENT_OBJ) $(CORE_OBJ) $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(AGENT_OBJ) $(CORE_OBJ) $(LDLIBS)

# walcast's own CPU per row: pgoutput parse + event + converter, no Kafka (run by scripts/bench.sh)
$(BUILD)/bench/bench_decoder: tests/bench/bench_decoder.c $(CORE_OBJ) $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CORE_OBJ) $(LDLIBS)

# The transform chain's own cost per record (run by scripts/bench.sh)
$(BUILD)/bench/bench_transform: tests/bench/bench_transform.c $(CORE_OBJ) $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(CORE_OBJ) $(LDLIBS)

# The floor of Kafka's transaction protocol under commit -> visible latency (run by scripts/bench.sh)
$(BUILD)/bench/bench_txn_floor: tests/bench/bench_txn_floor.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(LDLIBS)

# The produce path alone (pub_send -> librdkafka -> a broker): CPU per row by thread (run by scripts/bench.sh)
$(BUILD)/bench/bench_produce: tests/bench/bench_produce.c $(AGENT_OBJ) $(CORE_OBJ) $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(AGENT_OBJ) $(CORE_OBJ) $(LDLIBS)

deps:
	@bash scripts/install-deps.sh

unit: $(UNIT_BIN)
	@bash tests/srccheck.sh
	@bash tests/run-unit.sh $(UNIT_BIN)

integration: $(BUILD)/walcast
	@bash tests/integration/run.sh

# The README's test command: installs what it needs, builds with -Werror, runs every suite.
# The unit tests run twice: as built, and built again under AddressSanitizer/LeakSanitizer in
# $(BUILD)/asan (a leak or an overflow fails its test; about a minute more).
ASAN_UNIT_BIN := $(UNIT_BIN:$(BUILD)/%=$(BUILD)/asan/%)
test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all $(UNIT_BIN) $(FUZZ_REPLAY)
	@$(MAKE) --no-print-directory -j$(NPROC) SANITIZE=address BUILD=$(BUILD)/asan $(ASAN_UNIT_BIN)
	@$(MAKE) --no-print-directory fuzz-replay
	@bash tests/srccheck.sh
	@ASAN_UNIT_BIN="$(ASAN_UNIT_BIN)" bash tests/run-all.sh $(UNIT_BIN)

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench/bench_avro $(BUILD)/bench/bench_transform $(BUILD)/bench/bench_json_dec $(BUILD)/bench/bench_decoder $(BUILD)/bench/bench_txn_floor $(BUILD)/bench/bench_produce
	@bash scripts/bench.sh
	@bash scripts/bench_codecs.sh
	@bash scripts/bench_snapshot.sh
	@bash scripts/bench_start.sh
	@bash scripts/bench_rest.sh
	@bash scripts/bench_cluster.sh

FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_DEPS   := $(CORE_SRC) agent/config.c agent/cfgprov.c agent/log.c agent/rest.c agent/worker.c sinks/envelope.c
FUZZ_LIBS   := -ljansson -lcrypto -lcurl -lpthread -lm
# libFuzzer (clang), FUZZ_SECONDS per target; new crashes land in build/fuzz/ (add them to the corpus).
fuzz: deps
	@mkdir -p $(BUILD)/fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang $(FUZZ_CFLAGS) -o $(BUILD)/fuzz/$$n $$f $(FUZZ_DEPS) $(FUZZ_LIBS) || exit 1; \
	  mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  (cd $(BUILD)/fuzz && ./$$n -max_total_time=$${FUZZ_SECONDS:-60} -print_final_stats=1 corpus-$$n ../../tests/fuzz/corpus/$$n) || exit 1; \
	done

# The fuzz corpus replayed with gcc and ASan/UBSan: every crash ever found stays a regression test.
# The shared sources are compiled once for all targets (not once per target).
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)
REPLAY_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. -DWALCAST_FUZZ_REPLAY -fsanitize=address,undefined -fno-sanitize-recover=all
REPLAY_OBJ := $(FUZZ_DEPS:%.c=$(BUILD)/fuzz-replay/obj/%.o)
.SECONDARY: $(REPLAY_OBJ)
$(BUILD)/fuzz-replay/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REPLAY_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/fuzz-replay/%: tests/fuzz/%.c $(REPLAY_OBJ) tests/fuzz/replay.h
	@mkdir -p $(dir $@)
	$(CC) $(REPLAY_CFLAGS) -o $@ $< $(REPLAY_OBJ) $(FUZZ_LIBS)
fuzz-replay: $(FUZZ_REPLAY)
	@for b in $(FUZZ_REPLAY); do n=$$(basename $$b); $$b tests/fuzz/corpus/$$n/* >/dev/null || { echo "fuzz replay $$n: FAILED"; exit 1; }; \
	  echo "fuzz replay $$n: $$(ls tests/fuzz/corpus/$$n | wc -l) inputs ok"; done

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
