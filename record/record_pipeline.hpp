#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "clean/duplicate_filter.hpp"
#include "dimension/watched_tables.hpp"
#include "expr/expression.hpp"
#include "lookup/lookup_table.hpp"
#include "messages/event.hpp"
#include "record/record_format.hpp"
#include "record/record_layout.hpp"
#include "record/schema_validator.hpp"
#include "settings/config.hpp"

namespace vigil {

/// A node's `[[lookup]]` tables, shared by every parse stage.
using lookup_tables = watched_tables<lookup_table>;
std::shared_ptr<lookup_tables> load_lookup_tables(const std::vector<lookup_config>& lookups);

/// What the ETL path of one source counts, added over its parse stages.
struct record_tally {
  std::atomic<uint64_t> records{0};      ///< records handed on
  std::atomic<uint64_t> filtered{0};     ///< dropped by the source's filter
  std::atomic<uint64_t> duplicates{0};   ///< dropped by the schema's dedup_key
  std::atomic<uint64_t> missing_keys{0}; ///< lookups without a row (any on_missing)
  std::array<std::atomic<uint64_t>, record_error_count> invalid{};  ///< quarantined, by reason

  /// Per schema field (`field_quality`, added up over the parse stages).
  struct field_counts {
    std::atomic<uint64_t> nulls{0}, invalid{0}, coerced{0}, defaulted{0};
  };
  /// The schema's field names and their counts; set once, before anything
  /// runs (empty: not counted per field).
  void count_fields(std::vector<std::string> names) {
    field_names = std::move(names);
    fields = std::make_unique<field_counts[]>(field_names.size());
  }
  std::vector<std::string> field_names;
  std::unique_ptr<field_counts[]> fields;
};

/// The compiled ETL steps of one source: its schema, the transforms that
/// apply to it, the lookups, its filter and the node's routes. Built once
/// at start (and by check-config, which reports what does not compile);
/// immutable, shared by the source's parse stages.
struct record_plan {
  record_layout layout;
  /// What the parse stages format each batch's record lines for: the
  /// node's record sinks, set by whoever spawns the stages (`make` leaves
  /// it empty; the window stage formats for sinks the stages did not).
  std::vector<record_line_format> outputs;
  schema_config schema;
  struct transform {
    std::string name;
    size_t slot;
    expr::program program;
  };
  std::vector<transform> transforms;
  struct lookup {
    lookup_config cfg;
    size_t table;                  ///< index in the node's lookup tables
    std::vector<size_t> on_slots;  ///< record fields matched to the key columns
    std::vector<size_t> field_slots;
  };
  std::vector<lookup> lookups;
  std::optional<expr::program> filter;
  std::vector<expr::program> routes;  ///< bit i of record_info::routes
  int dedup_slot = -1;

  /// Compiles the plan of source `s`. On failure returns nullopt and sets
  /// `error` to "KEY: what" (e.g. "transform[total].expr: unknown field
  /// 'qty' at position 7 (fields: ...)").
  static std::optional<record_plan> make(const vigil_config& cfg, const source_config& s, std::string& error);
};

/// An event that did not become a record.
struct record_failure {
  text_ref text;       ///< its line in the batch
  record_problem problem;
};

/// Turns the JSON lines of a chunk into records: validate and clean,
/// dedup, transform, look up, filter, route. One instance per parse stage.
class record_pipeline {
public:
  record_pipeline(std::shared_ptr<const record_plan> plan, std::shared_ptr<lookup_tables> tables,
                  size_t max_line_bytes);

  /// Parses `batch.text[0, size)` into `batch.records`; events that fail go
  /// to `failures`. `dedup` may be null (or disabled). `now_ms`: the
  /// arrival time for a schema without a time field; an event time later
  /// than `latest_ms` is quarantined as `future_timestamp`.
  void run(size_t size, event_batch& batch, std::vector<record_failure>& failures, duplicate_filter* dedup,
           record_tally& tally, int64_t now_ms, int64_t latest_ms = INT64_MAX);

  const schema_validator& validator() const noexcept { return validator_; }

private:
  bool finish(event_batch& batch, field_value* row, record_info& info, record_problem& why, duplicate_filter* dedup,
              record_tally& tally, bool& dropped);
  void store(event_batch& batch, field_value& slot, const expr::value& v);

  std::shared_ptr<const record_plan> plan_;
  std::shared_ptr<lookup_tables> tables_;
  std::vector<std::shared_ptr<const lookup_table>> snapshot_;  // per batch
  size_t max_line_bytes_;
  schema_validator validator_;
  std::vector<field_quality> reported_;  // of validator_.quality(), added to the tally
  expr::arena arena_;
  std::string key_, scratch_;
};

} // namespace vigil
