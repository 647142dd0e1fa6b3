# Entry points a person types. The build itself is CMake + Ninja.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

PREFIX ?= /usr/local

.PHONY: all deps configure build vigil test demo demo-etl analyze-demo bench install package clean

all: build

deps:
	deploy/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

# Everything: vigil, the tests, the benchmarks.
build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Only the binary (what the demos need). The first build on two cores takes
# several minutes (CAF, RocksDB and Hyperscan headers are heavy).
vigil: configure
	cmake --build $(BUILD) -j $(JOBS) --target vigil

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The binary, example configs, signature file, systemd unit, man page and
# bash completion under PREFIX (DESTDIR works as usual).
install: vigil
	cmake --install $(BUILD) --prefix $(PREFIX)

# A .deb with its Debian dependencies: build/vigil_VERSION_ARCH.deb.
package: vigil
	cd $(BUILD) && cpack -G DEB

# The main job, live: 20 minutes of ordinary traffic are written at once (the
# history the route_traffic detector learns from), then `vigil gen` appends
# a log with injected incidents (a scanner, a brute-forcer, a 5xx spike,
# slow API calls, a surge of search traffic) in real time while `vigil run`
# follows it and prints alerts as they fire (about 90 s); the node's
# dashboard is on http://127.0.0.1:9464/ meanwhile.
demo: vigil
	@rm -rf var/demo && mkdir -p var/demo
	@$(BUILD)/vigil gen access --rate 500 --duration 20m --start "$$(date -u -d '-20 min' +%Y-%m-%dT%H:%M:%SZ)" \
	  --no-pace --seed 2 --format combined_rt -o var/demo/access.log
	@echo "dashboard: http://127.0.0.1:9464/  (metrics: /metrics, health: /healthz, /readyz)"
	@$(BUILD)/vigil run -c config/demo.toml & pid=$$!; \
	  $(BUILD)/vigil gen access --rate 500 --duration 90s --inject scan,bruteforce,5xx,latency,surge \
	    --format combined_rt -o var/demo/access.log; \
	  sleep 2; kill -TERM $$pid; wait $$pid
	@echo
	@echo "alerts: var/demo/alerts.jsonl   minute windows: var/demo/minute.jsonl   routes (with anomaly scores): var/demo/route_10s.jsonl"

# The second job, live: 20 minutes of ordinary orders are written at once
# (the history the revenue detector learns from), then `vigil gen events`
# writes a shop's order events (six minutes of event time in a minute:
# --speed 6) with a payment failure spike, a revenue drop and broken
# events, while `vigil run` validates them,
# joins the product table, writes clean records (JSONL, and CSV for the
# purchases), counts business metrics per minute and alerts; the dashboard
# is on http://127.0.0.1:9465/ meanwhile.
# make demo-etl PG_DSN="host=127.0.0.1 dbname=shop user=vigil" also writes the
# records and the minutes to that PostgreSQL database (tables orders and
# shop_minute); SQLite (var/orders/orders.db) is always written.
PG_DSN ?=
demo-etl: vigil
	@rm -rf var/orders && mkdir -p var/orders
	@$(BUILD)/vigil gen events --kind orders --no-pace --rate 300 --duration 20m --seed 2 \
	  --start "$$(date -u -d '-20 min' +%Y-%m-%dT%H:%M:%SZ)" --out-dir var/orders
	@cp config/orders.toml var/orders/demo.toml
	@if [ -n "$(PG_DSN)" ]; then \
	  printf '\n[[sink]]\nname = "orders_pg"\ntype = "postgres"\ninput = "records"\ntable = "orders"\n' >> var/orders/demo.toml; \
	  printf '\n[[sink]]\nname = "shop_minute_pg"\ntype = "postgres"\ninput = "window:shop_minute"\ntable = "shop_minute"\n' >> var/orders/demo.toml; \
	  export VIGIL_SINK_ORDERS_PG_DSN="$(PG_DSN)" VIGIL_SINK_SHOP_MINUTE_PG_DSN="$(PG_DSN)"; fi; \
	echo "dashboard: http://127.0.0.1:9465/"; \
	$(BUILD)/vigil run -c var/orders/demo.toml & pid=$$!; \
	  $(BUILD)/vigil gen events --kind orders --rate 300 --speed 6 --duration 6m \
	    --inject payment_failures,revenue_drop,bad --bad-rate 0.05 --out-dir var/orders; \
	  sleep 2; kill -TERM $$pid; wait $$pid
	@echo
	@echo "records: var/orders/records.jsonl   purchases: var/orders/purchases.csv   minutes: var/orders/shop_minute.jsonl"
	@echo "alerts: var/orders/alerts.jsonl   quarantine: var/orders/quarantine.jsonl ($$(wc -l < var/orders/quarantine.jsonl) events)"
	@echo "SQLite: var/orders/orders.db, $$(sqlite3 var/orders/orders.db 'SELECT count(*) FROM orders') orders, $$(sqlite3 var/orders/orders.db 'SELECT count(*) FROM shop_minute') minutes (sqlite3 var/orders/orders.db 'SELECT * FROM vigil_sink_progress')"
	@if [ -n "$(PG_DSN)" ]; then echo "PostgreSQL: $$(psql -X -A -t -d "$(PG_DSN)" -c 'SELECT count(*) FROM orders') orders, $$(psql -X -A -t -d "$(PG_DSN)" -c 'SELECT count(*) FROM shop_minute') minutes"; fi

# A batch report of a real Apache log slice plus a hand-made one with
# attacks and malformed lines.
analyze-demo: vigil
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
