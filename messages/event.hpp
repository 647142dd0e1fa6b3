#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/record.hpp"
#include "messages/text_ref.hpp"

namespace vigil {

/// Bits of `log_event::flags`.
namespace event_flags {
constexpr uint16_t bytes_missing = 1 << 0;     ///< the size field was "-"
constexpr uint16_t referer_missing = 1 << 1;   ///< no referer, or "-"
constexpr uint16_t agent_missing = 1 << 2;     ///< no user agent, or "-"
constexpr uint16_t agent_truncated = 1 << 3;   ///< the line ended inside the user agent
constexpr uint16_t request_missing = 1 << 4;   ///< the request line was "-" or empty
constexpr uint16_t has_request_time = 1 << 5;  ///< `request_time_us` is set
constexpr uint16_t request_malformed = 1 << 6; ///< the request line is not "METHOD target": `target` holds it whole
} // namespace event_flags

/// Who sent a request, by its user agent (the enrich stage decides).
enum class agent_class : uint8_t { unknown, browser, bot, scanner, tool };

/// The name of an agent class ("browser", ...; "other" for unknown).
const char* to_string(agent_class c) noexcept;

/// One parsed access-log request. Strings are `text_ref`s into the batch.
struct log_event {
  int64_t time_ms = 0;         ///< UTC, milliseconds since the Unix epoch
  int32_t utc_offset_s = 0;    ///< the zone offset the line was written in
  uint16_t status = 0;
  uint16_t flags = 0;          ///< `event_flags` bits
  uint32_t classes = 0;        ///< signature classes found by enrichment (`signature_mask`)
  uint8_t agent = 0;           ///< `agent_class`, set by enrichment
  uint64_t bytes = 0;
  int64_t request_time_us = 0; ///< valid when `flags & has_request_time`
  uint32_t line = 0;           ///< line index within the batch's input span
  uint32_t path_length = 0;    ///< prefix of `target` before '?'
  text_ref raw;                ///< the whole line
  text_ref client;             ///< client IP or host name
  text_ref user;
  text_ref method;
  text_ref target;             ///< request target, with its query string
  text_ref protocol;
  text_ref referer;
  text_ref user_agent;
  text_ref vhost;              ///< server host, when the format has one
  text_ref route;              ///< the path's route template; empty: the path is its own

  bool has(uint16_t flag) const noexcept { return (flags & flag) != 0; }
};

/// The unit every stage exchanges: many events plus the bytes they point to.
struct event_batch {
  std::string source;      ///< the input (file name, stream name)
  uint64_t sequence = 0;   ///< position of this batch in its source's stream
  std::string text;        ///< raw lines, then any unescaped strings
  std::vector<log_event> events;
  /// Dimension-table fields the enrich stage added (e.g. country, asn), and
  /// their values: `labels[event * label_names.size() + field]`.
  std::vector<std::string> label_names;
  std::vector<text_ref> labels;
  /// Non-zero: the barrier of this checkpoint follows the batch's events.
  uint64_t barrier = 0;
  /// The batch's malformed lines as quarantine records (JSON lines). They
  /// travel with the batch to the window stage, which writes them in read
  /// order, so the quarantine sink is checkpointed like the other sinks.
  /// Local to the node that parsed them: not in the msgpack codec.
  std::vector<std::string> quarantined;
  /// The batch's attack requests as JSON lines, for the node's attacks
  /// sinks (the enrich stage writes them when there are any), in read order
  /// like the quarantine. Local to the node: not in the msgpack codec.
  std::vector<std::string> attack_lines;
  /// An agent's pre-aggregated windows for this batch (window/window_partials),
  /// serialized; the window stage merges them instead of adding the events
  /// to those windows. Empty: none.
  std::string partials;
  /// The events an agent aggregated into `partials` and did not send:
  /// what the batch stands for on an aggregator's window stage. Local to
  /// the node: not in the msgpack codec (the events frame carries it).
  uint64_t summarized = 0;
  /// The ETL job's events: records of a source with a `[[schema]]`
  /// (validated, transformed, enriched), instead of `events`.
  record_set records;
  /// The records' lines for each record sink (`record_line_formats`), when
  /// the parse stage formatted them; empty: the window stage formats them.
  /// Local to the node: not in the msgpack codec.
  std::vector<std::vector<std::string>> record_lines;

  std::string_view view(text_ref r) const noexcept {
    return std::string_view(text.data() + r.offset, r.length);
  }
  std::string_view path(const log_event& e) const noexcept {
    return std::string_view(text.data() + e.target.offset, e.path_length);
  }

  /// Appends bytes that are not part of the raw lines (unescaped JSON
  /// strings) and returns a reference to them.
  text_ref append(std::string_view bytes);

  void clear() {
    source.clear();
    sequence = 0;
    text.clear();
    events.clear();
    label_names.clear();
    labels.clear();
    barrier = 0;
    quarantined.clear();
    attack_lines.clear();
    partials.clear();
    summarized = 0;
    records.clear();
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_event& x) {
  return f(caf::meta::type_name("vigil.log_event"), x.time_ms, x.utc_offset_s, x.status, x.flags,
           x.classes, x.agent, x.bytes, x.request_time_us, x.line, x.path_length, x.raw, x.client, x.user, x.method, x.target,
           x.protocol, x.referer, x.user_agent, x.vhost, x.route);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_batch& x) {
  return f(caf::meta::type_name("vigil.event_batch"), x.source, x.sequence, x.text, x.events,
           x.label_names, x.labels, x.barrier, x.quarantined, x.attack_lines, x.partials, x.summarized, x.records);
}

bool operator==(const log_event& a, const log_event& b) noexcept;
bool operator==(const event_batch& a, const event_batch& b) noexcept;

} // namespace vigil
