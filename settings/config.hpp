#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "anomaly/detector_params.hpp"
#include "parse/clf_parser.hpp"
#include "parse/log_format.hpp"
#include "settings/duration.hpp"
#include "transport/curve_keys.hpp"

namespace vigil {

// The configuration of a node, as read from TOML (PRODUCT.md, "Config").
// Every option says its default; config/vigil.example.toml says the same.

struct node_config {
  std::string name;               ///< required
  std::string state_dir;          ///< required: RocksDB state, checkpoints
  /// /metrics, /healthz, /readyz and the dashboard; "" turns it off.
  /// Default: "127.0.0.1:9464" (loopback unless configured otherwise).
  std::string http = "127.0.0.1:9464";
  duration_ms checkpoint_interval{1000};  ///< Default: 1s; 0s: only at a graceful stop.
};

enum class source_type : uint8_t { file, stdin_stream, zmq, http };
enum class start_position : uint8_t { beginning, end };

/// How a zmq source or sink reaches its peers.
struct zmq_socket_config {
  /// Bind the endpoint (peers connect) or connect to it. Default: a PULL
  /// source binds; a SUB source and a PUSH sink connect.
  bool bind = true;
  /// CurveZMQ: this socket's key pair (`vigil keygen`; the public key is
  /// derived from the secret at load), with the public keys of the peers
  /// allowed in (bound) or of the server (connected). No key file: plain TCP.
  std::string secret_key_file;
  curve_peers keys;  ///< the key pair read from it at load, and the peers' keys
};

struct source_config {
  std::string name;
  source_type type = source_type::file;
  std::string path;        ///< file: a glob; new and rotated files are followed
  std::string endpoint;    ///< zmq, http: where to listen
  log_format format = log_format::auto_detect;  ///< Default: auto.
  time_unit request_time_unit = time_unit::auto_detect;
  /// Used only when no checkpoint exists. Default: beginning.
  start_position start_at = start_position::beginning;
  /// Longer lines are cut to this and counted. Default: 64 KiB.
  uint64_t max_line_bytes = 64 * 1024;
  /// Identical lines within this span of event time are dropped as
  /// duplicates (a shipper that resent a block). Default: 0s, off: real
  /// logs hold identical requests in one second.
  duration_ms dedup_horizon{0};
  /// Events stamped later than the arrival clock plus this are quarantined
  /// as `future_timestamp` and never move a watermark: one line stamped
  /// 2099 would otherwise close every window and make every later line
  /// late. 0s: no bound. Default: 5m.
  duration_ms max_future{300000};
  /// Parse-and-enrich chains the source's chunks are spread over; the
  /// window stage puts their batches back in read order. 1 when
  /// `dedup_horizon` is set (duplicates must meet in one filter). Default: 2.
  uint64_t parse_workers = 2;
  /// The ETL job: a `[[schema]]` name. Lines are then JSON events,
  /// validated and cleaned into records (format must be json or unset).
  std::string schema;
  /// Records for which this expression is false are dropped (counted).
  std::string filter;
  /// http: where to take `POST /ingest/NAME`. Default: 127.0.0.1:9480 (loopback).
  std::string listen = "127.0.0.1:9480";
  /// http: larger request bodies get 413. Default: 16 MiB.
  uint64_t max_body_bytes = 16u << 20;
  /// http: requests without `Authorization: Bearer TOKEN` get 401; "" lets
  /// any client in (on loopback only, unless set). Default: "".
  std::string bearer_token;
  /// http: answer 200 once the events are in a stored checkpoint (a client
  /// that resends what got no 200 loses nothing) instead of once they are
  /// in the pipeline. Default: false ("pipeline").
  bool ack_checkpoint = false;
  /// zmq: a SUB socket instead of PULL. Default: "pull".
  bool subscriber = false;
  /// zmq, sub: the topic prefixes subscribed to. Default: [""], everything.
  std::vector<std::string> topics{""};
  /// zmq: "json" (NDJSON text) or "msgpack" (a map, or an array of maps, a
  /// message). Default: json.
  bool msgpack = false;
  /// zmq: larger messages are quarantined (twice this closes the peer's
  /// connection). Default: 16 MiB.
  uint64_t max_frame_bytes = 16u << 20;
  zmq_socket_config zmq;  ///< zmq: bind or connect, CurveZMQ
};

/// The type of a schema field.
enum class field_type : uint8_t { string, integer, number, boolean, timestamp, enumeration };

enum class text_case : uint8_t { keep, lower, upper };

/// One field of a `[[schema]]` (`[[schema.field]]`).
struct schema_field {
  std::string name;
  field_type type = field_type::string;
  bool required = false;
  bool has_default = false;
  std::string default_text;      ///< the default, as text (coerced like input)
  bool has_min = false, has_max = false;
  double min = 0, max = 0;       ///< integer, number: the allowed range
  std::vector<std::string> values;  ///< enum: the allowed values
  uint64_t max_length = 0;       ///< string, enum: 0 = no limit
  bool trim = false;             ///< string, enum: surrounding spaces removed
  text_case letter_case = text_case::keep;
  /// Take "12.50" for a number, "true" for a boolean, numbers for strings,
  /// epoch seconds or milliseconds in a string for a timestamp.
  bool coerce = false;
};

/// What a schema does with a field it does not declare.
enum class extra_fields : uint8_t { keep, drop, quarantine };

/// The shape of a source's JSON events (`[[schema]]`).
struct schema_config {
  std::string name;
  std::vector<schema_field> fields;
  /// The event time (a timestamp field); "": the time the event was read.
  std::string time_field;
  extra_fields extra = extra_fields::keep;  ///< Default: keep (drift never stops the stream).
  /// Events whose value of this field was seen within `dedup_horizon` of
  /// event time are dropped (counted). "": no dedup.
  std::string dedup_key;
  duration_ms dedup_horizon{600000};  ///< Default: 10m.
};

/// A derived record field (`[[transform]]`): `name = expr`, in order, so
/// a transform may read the ones before it.
struct transform_config {
  std::string name;
  std::string expr;
  std::vector<std::string> sources;  ///< [] = every schema source
  std::string time_zone = "UTC";     ///< for hour(), day(), ...: "UTC", "+02:00" or "Europe/Berlin"
  /// The column type a database sink creates for it (`type = "float"`);
  /// unset: text. The value itself is what the expression yields.
  std::optional<field_type> type;
};

enum class missing_key : uint8_t { keep, drop, quarantine };

/// A keyed reference table joined on record fields (`[[lookup]]`).
struct lookup_config {
  std::string name;
  std::string path;                  ///< CSV with a header
  std::vector<std::string> key;      ///< key columns
  std::vector<std::string> on;       ///< record fields matched to `key` (default: the same names)
  std::vector<std::string> fields;   ///< columns added to the record
  missing_key on_missing = missing_key::keep;  ///< Default: keep (the fields stay null).
};

/// Records for which `when` holds also go to sinks with input `records:NAME`.
struct route_config {
  std::string name;
  std::string when;
};

/// A dimension table: rows of labels looked up by the client IP's longest
/// matching CIDR prefix (`[[dimension]]`). Its fields become event fields
/// that windows can group by.
struct dimension_config {
  std::string name;
  std::string path;                 ///< CSV: a header "cidr,FIELD...", then rows
  std::vector<std::string> fields;  ///< required: the columns after cidr, in order
};

enum class window_type : uint8_t { tumbling, sliding, session };

struct window_config {
  std::string name;
  window_type type = window_type::tumbling;
  duration_ms size{0};        ///< tumbling, sliding: required
  duration_ms slide{0};       ///< sliding: required, divides size
  duration_ms gap{0};         ///< session: required
  std::vector<std::string> group_by;   ///< event fields; [] = the whole stream
  duration_ms allowed_lateness{0};     ///< Default: 0s.
  /// Open groups per window instance; keys beyond go to overflow groups
  /// (their network's, then "(overflow)"). Default: 100000.
  uint64_t max_groups = 100000;
  /// The same bound in bytes: groups per instance at most this over a
  /// group's worst case (1 KiB of metrics plus 512 bytes a group field: a
  /// value is cut at 256 bytes and held twice). Default: 1 GiB.
  uint64_t max_state_bytes = 1ull << 30;
  /// Business metrics over records (`metrics = { revenue = "sum(total)" }`),
  /// by name; empty: the web-log metrics.
  std::vector<std::pair<std::string, std::string>> metrics;
};

enum class severity : uint8_t { info, warning, critical };

struct rule_config {
  std::string name;
  std::string window;      ///< a window's name
  std::string when;        ///< expression over the window's metrics
  severity level = severity::warning;  ///< Default: warning.
  /// Checked when its window closes, not as events arrive: for conditions
  /// a window's partial counts would meet early ("revenue < 1000"). Rules
  /// reading a `_prev` metric always are. Default: false (as events arrive).
  bool at_close = false;
  /// The metrics it may read (set by the loader): its window's, and each
  /// one's `_prev` (the window before's value); empty: the web-log metrics.
  std::vector<std::string> metric_names;
};

/// A detector (`[[detector]]`): learns one metric of a window per series
/// (the whole window, or each group) and alerts like a rule at the close
/// of a window whose value it finds anomalous.
struct detector_config {
  std::string name;
  std::string window;
  std::string metric;
  /// The fields a series is kept by: a subset of the window's group_by,
  /// the groups that share them summed. Default: the window's (a series
  /// per group).
  std::vector<std::string> group_by;
  bool group_by_set = false;
  /// Series at most; values of further ones are not judged (counted).
  /// Default: 10000.
  uint64_t max_series = 10000;
  detector_params params;  ///< method, learn, threshold, suppress
  severity level = severity::warning;  ///< Default: warning.
};

enum class sink_type : uint8_t { console, jsonl, webhook, alertmanager, csv, sqlite, postgres, zmq };
enum class sink_input : uint8_t { alerts, window, records, quarantine, attacks };

struct sink_config {
  std::string name;
  sink_type type = sink_type::console;
  sink_input input = sink_input::alerts;
  std::string window;      ///< for input = "window:NAME"
  std::string route;       ///< for input = "records:NAME"; "" = every record
  /// csv, sqlite, postgres: the record fields written, in order. Default:
  /// every field.
  std::vector<std::string> columns;
  std::string path;        ///< jsonl, csv, sqlite
  std::string url;         ///< webhook, alertmanager, zmq
  /// postgres: the libpq connection string ("host=... dbname=..." or a
  /// postgresql:// URI); VIGIL_SINK_<NAME>_DSN sets it from outside the
  /// file. Never logged: it may hold the password.
  std::string dsn;
  /// sqlite, postgres: the table written. Default: the sink's name.
  std::string table;
  /// sqlite, postgres records: the columns that identify a row; a row
  /// whose key is there already is updated (upsert). Default: none, rows
  /// are inserted. Window results always upsert on (window_start, group).
  std::vector<std::string> key;
  /// sqlite, postgres: create the table (and add columns the config has
  /// and the table lacks) at start. Default: true.
  bool create_table = true;
  /// sqlite, postgres: rows per transaction at most. Default: 10000.
  uint64_t batch_rows = 10000;
  /// sqlite, postgres: a partial batch is written after waiting this
  /// long (and at every checkpoint). Default: 1s.
  duration_ms flush_interval{1000};
  zmq_socket_config zmq;   ///< zmq (PUSH to `url`)
  /// jsonl, csv: rotate before the file passes this many bytes (0: never).
  uint64_t rotate_bytes = 0;
  /// jsonl, csv: rotate when the clock passes a multiple of this (UTC;
  /// "1h" on the hour; 0: never). `rotate` in the config sets one of the two.
  duration_ms rotate_every{0};
  /// jsonl, csv: lines that would take the file past this many bytes are
  /// counted and not written (0: no bound). Default: 1 GiB for a quarantine
  /// sink (hostile input must not fill the disk through it), else 0.
  uint64_t max_bytes = 0;
  /// Alert sinks: a still-firing alert is sent again this often. Default:
  /// 4h (as Alertmanager); 0s: never.
  duration_ms repeat_interval{4 * 3600 * 1000};
  /// Alert sinks: alerts of one rule that fire or resolve within this are
  /// sent together (one webhook POST). Default: 0s, at once.
  duration_ms group_wait{0};
  /// alertmanager: a firing alert is posted again this often, saying it
  /// ends 4 intervals later (as Prometheus does). Default: 1m.
  duration_ms resend_interval{60000};
  /// webhook, alertmanager: per-request timeout. Default: 5s.
  duration_ms timeout{5000};
  /// webhook: attempts per notification before it is dropped (counted).
  /// Default: 8, backing off from 100 ms, doubling, to at most 30 s.
  uint64_t max_attempts = 8;
  /// webhook: notifications waiting at most; the oldest are dropped
  /// (counted) beyond it, so a dead endpoint never holds up the node.
  /// Default: 10000.
  uint64_t queue_limit = 10000;
};

enum class node_role : uint8_t { agent, aggregator };

/// One node of a cluster config (`[[cluster.node]]`).
struct cluster_node {
  std::string name;
  node_role role = node_role::agent;
  std::string endpoint;    ///< "tcp://HOST:PORT": where the node listens for its peers
  std::string public_key;  ///< CurveZMQ, Z85; "" when the cluster runs without keys
  std::string secret_key_file;  ///< read by this node only; set with `public_key`
};

/// The node set a cluster config describes; empty for a single-node config.
struct cluster_config {
  std::vector<cluster_node> nodes;
  /// Without keys, endpoints must be on loopback unless this is set.
  bool allow_plaintext = false;
  /// Agents send each batch's tumbling and sliding windows as mergeable
  /// partial groups (counts, sketches) instead of its events; session
  /// windows always get the events. Default: true.
  bool pre_aggregate = true;
};

/// The aggregators of `c`, in config order. The first leads the fleet: it
/// runs the sessions and completes the checkpoints. Each one keeps the
/// partition of keyed windows at its place here (window/partition.hpp).
std::vector<std::string> aggregator_names(const cluster_config& c);

struct vigil_config {
  std::string file;         ///< where it was read from
  std::string environment;  ///< the overlay applied, "" for none
  node_config node;
  cluster_config cluster;   ///< the node set, when the file describes one
  std::vector<source_config> sources;
  std::vector<dimension_config> dimensions;
  std::vector<schema_config> schemas;
  std::vector<transform_config> transforms;
  std::vector<lookup_config> lookups;
  std::vector<route_config> routes;
  std::vector<window_config> windows;
  std::vector<rule_config> rules;
  std::vector<detector_config> detectors;
  std::vector<sink_config> sinks;
};

/// Names used in the config file for each enum.
const char* to_string(source_type t);
const char* to_string(window_type t);
const char* to_string(severity s);
const char* to_string(sink_type t);

/// A source or sink type as the config names it, and whether this build
/// runs it. The contract names more types than are built yet; the loader
/// (so `check-config`) and `run` both read this one table, so a config
/// that passes `check-config` is one that `run` can run.
template <class E>
struct config_kind {
  const char* name;
  E type;
  bool built;
};
const std::vector<config_kind<source_type>>& source_kinds();
const std::vector<config_kind<sink_type>>& sink_kinds();
/// The names of the built kinds, e.g. "console, jsonl and webhook".
std::string built_kind_names(const std::vector<config_kind<source_type>>& kinds);
std::string built_kind_names(const std::vector<config_kind<sink_type>>& kinds);

/// Event fields a window may group by (dimension fields come on top).
const std::vector<std::string>& groupable_fields();

} // namespace vigil
