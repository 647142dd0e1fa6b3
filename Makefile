# Entry points a person types. The build itself is CMake + Ninja.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build test demo bench clean

all: build

deps:
	deploy/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The main job on bundled data: a batch report of a real Apache log slice
# plus a hand-made one with attacks and malformed lines.
demo: build
	@mkdir -p var
	$(BUILD)/vigil analyze tests/fixtures/apache_combined_2000.log tests/fixtures/combined_mixed.log \
	  --html var/demo-report.html --json var/demo-report.json --quarantine var/demo-quarantine.jsonl
	@echo
	@echo "HTML report: var/demo-report.html   JSON: var/demo-report.json   quarantine: var/demo-quarantine.jsonl"

bench: build
	$(BUILD)/bench/parser_bench
	bench/analyze_vs_goaccess.sh $(BUILD)/vigil

clean:
	rm -rf $(BUILD) var
