#include "actors/enrich_stage.hpp"

#include <chrono>

#include <absl/container/flat_hash_map.h>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "dimension/dimension_tables.hpp"
#include "enrich/agent_classifier.hpp"
#include "enrich/attack_record.hpp"
#include "enrich/path_classifier.hpp"
#include "parse/timestamp.hpp"
#include "enrich/route_template.hpp"
#include "hash/string_map.hpp"

namespace vigil {

namespace {

struct enrich_state {
  std::unique_ptr<signature_matcher::scanner> scanner;
  // Paths, agents and routes repeat: work each distinct one out once (bounded).
  string_map<path_verdict> path_verdicts;
  string_map<signature_mask> agent_classes;
  string_map<signature_mask> referer_classes;
  string_map<signature_mask> query_classes;
  std::string decode_buffer;
  std::string query_buffer;
  uint64_t paths_beyond_limits = 0;  // events, not distinct paths
  std::string source;
  ~enrich_state() {
    if (paths_beyond_limits > 0)
      spdlog::info("source {}: {} requests had paths beyond the decoding limits", source, paths_beyond_limits);
  }
  string_map<std::string> routes;  // path -> template, only for paths with ids
  std::vector<std::shared_ptr<const cidr_table>> tables;  // this batch's snapshot
  std::vector<std::string> label_names;
  static inline const char* name = "enrich_stage";
};

template <class V>
void bound(string_map<V>& cache) {
  if (cache.size() > 100000) cache.clear();
}

signature_mask cached(string_map<signature_mask>& cache, std::string_view key,
                      const signature_matcher::scanner& s, signature_field field, std::string& scratch) {
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  bound(cache);
  signature_mask m = classify_header(s, field, key, scratch);
  cache.emplace(key, m);
  return m;
}

const path_verdict& verdict_of(enrich_state& st, std::string_view path) {
  auto it = st.path_verdicts.find(path);
  if (it == st.path_verdicts.end()) {
    bound(st.path_verdicts);
    it = st.path_verdicts.emplace(path, classify_path(*st.scanner, path, st.decode_buffer)).first;
    if (breaks_limits(it->second.decoding) && st.paths_beyond_limits == 0)
      spdlog::warn("path decoding: '{}' is {}; such paths are counted (escapes, NUL bytes, more than "
                   "{} rounds or {} bytes are limits no browser crosses)",
                   path.substr(0, 200), to_string(it->second.decoding), path_decode_limits{}.max_rounds,
                   path_decode_limits{}.max_bytes);
  }
  st.paths_beyond_limits += breaks_limits(it->second.decoding);
  return it->second;
}

/// An attack request as the JSON line an attacks sink writes: the shape of
/// `vigil analyze --attacks`, with the source in place of input and line.
std::string attack_line(const std::string& source, const event_batch& b, const log_event& e,
                        const signature_matcher::scanner& scanner, const request_view& request, std::string& scratch) {
  nlohmann::ordered_json j = {{"source", source}, {"time", format_rfc3339_utc(e.time_ms)},
                              {"client", b.view(e.client)}, {"method", request.method},
                              {"target", request.target}, {"status", e.status},
                              {"user_agent", request.user_agent}};
  return with_attacks(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                      explain_attacks(scanner, request, scratch));
}

} // namespace

std::vector<std::string> dimension_fields(const std::vector<dimension_config>& dims) {
  std::vector<std::string> out;
  for (const auto& d : dims) out.insert(out.end(), d.fields.begin(), d.fields.end());
  return out;
}

enrich_stage_actor spawn_enrich_stage(caf::actor_system& sys, const enrich_stage_config& cfg) {
  auto behavior = [cfg](enrich_stage_actor::stateful_pointer<enrich_state> self)
    -> enrich_stage_actor::behavior_type {
    auto& st = self->state;
    st.source = cfg.source;
    st.scanner = std::make_unique<signature_matcher::scanner>(cfg.signatures);
    const auto& dimensions = cfg.dimensions->configs();
    st.label_names = dimension_fields(dimensions);
    if (!dimensions.empty()) self->delayed_send(self, std::chrono::seconds(1), tick_atom_v);
    return {
      [=](ingest_atom, event_batch& batch) -> caf::result<uint64_t> {
        auto& st = self->state;
        stage_timer timer(cfg.stage.get(), self);
        if (cfg.stage) cfg.stage->items_in += batch.events.size() + batch.records.records();
        try {
          // Each distinct label value is appended to the text once per batch.
          absl::flat_hash_map<uint64_t, text_ref> interned;
          st.tables = cfg.dimensions->snapshot();
          batch.label_names = st.label_names;
          batch.labels.assign(batch.events.size() * st.label_names.size(), text_ref{});
          for (size_t k = 0; k < batch.events.size(); ++k) {
            log_event& e = batch.events[k];
            const std::string_view path = batch.path(e);
            const request_view request{batch.view(e.method), batch.view(e.target), e.path_length,
                                       batch.view(e.referer), batch.view(e.user_agent), e.status,
                                       e.has(event_flags::request_malformed)};
            signature_mask m = verdict_of(st, path).classes
                               | cached(st.agent_classes, request.user_agent, *st.scanner, signature_field::ua,
                                        st.query_buffer)
                               | classify_request_line(request.method, request.target, e.status, request.malformed);
            if (!request.query().empty()) {
              auto qit = st.query_classes.find(request.query());
              if (qit == st.query_classes.end()) {
                bound(st.query_classes);
                qit = st.query_classes
                        .emplace(request.query(), classify_query(*st.scanner, request.query(), st.query_buffer))
                        .first;
              }
              m |= qit->second;
            }
            if (!e.referer.empty())
              m |= cached(st.referer_classes, request.referer, *st.scanner, signature_field::referer, st.query_buffer);
            e.classes = m;
            if (cfg.attack_lines && (m & attack_mask))
              batch.attack_lines.push_back(attack_line(cfg.source, batch, e, *st.scanner, request, st.query_buffer));
            e.agent = static_cast<uint8_t>(classify_agent(m, batch.view(e.user_agent)));
            if (has_route_ids(path)) {
              auto it = st.routes.find(path);
              if (it == st.routes.end()) {
                bound(st.routes);
                it = st.routes.emplace(path, route_of(path)).first;
              }
              e.route = batch.append(it->second);  // may move the text: views above are done
            }
            size_t field = 0;
            for (size_t t = 0; t < st.tables.size(); ++t) {
              const auto& table = st.tables[t];
              const size_t width = cfg.dimensions->configs()[t].fields.size();
              const int64_t row = table ? table->find(batch.view(e.client)) : -1;
              for (size_t f = 0; f < width; ++f, ++field) {
                if (row < 0) continue;
                const uint64_t key = (uint64_t{t} << 56) ^ (static_cast<uint64_t>(row) << 8) ^ f;
                auto [it, fresh] = interned.try_emplace(key);
                if (fresh) it->second = batch.append(table->label(row, f));
                batch.labels[k * st.label_names.size() + field] = it->second;
              }
            }
          }
        } catch (const std::exception& ex) {
          // On, empty: the window stage waits for every sequence number.
          spdlog::error("source {}: enrich stage: batch {} dropped: {}", cfg.source, batch.sequence, ex.what());
          batch.events.clear();
          batch.labels.clear();
        }
        auto rp = self->make_response_promise<uint64_t>();
        self->request(cfg.next, caf::infinite, ingest_atom_v, std::move(batch))
          .then([rp](uint64_t n) mutable { rp.deliver(n); },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
      [=](tick_atom) {
        cfg.dimensions->refresh();
        self->delayed_send(self, std::chrono::seconds(1), tick_atom_v);
      },
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
