#include "actors/parse_stage.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/spdlog.h>

#include "hash/string_map.hpp"

namespace vigil {

namespace {

struct parse_state {
  std::unique_ptr<line_parser> parser;
  std::unique_ptr<signature_matcher::scanner> scanner;
  // Paths and agents repeat: classify each distinct one once (bounded).
  string_map<signature_mask> path_classes, agent_classes;
  std::vector<line_failure> failures;
  uint64_t malformed = 0;
  static inline const char* name = "parse_stage";
};

signature_mask cached(string_map<signature_mask>& cache, std::string_view key,
                      const signature_matcher::scanner& s, signature_field field, signature_mask keep) {
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() > 100000) cache.clear();
  signature_mask m = s.scan(field, key) & keep;
  cache.emplace(key, m);
  return m;
}

} // namespace

parse_stage_actor spawn_parse_stage(caf::actor_system& sys, const parse_stage_config& cfg) {
  auto behavior = [cfg](parse_stage_actor::stateful_pointer<parse_state> self)
    -> parse_stage_actor::behavior_type {
    self->state.parser = std::make_unique<line_parser>(cfg.parser);
    self->state.scanner = std::make_unique<signature_matcher::scanner>(cfg.signatures);
    return {
      [=](parse_atom, text_chunk& chunk) -> caf::result<uint64_t> {
        auto& st = self->state;
        event_batch batch;
        try {
          batch.sequence = chunk.sequence;
          batch.text.swap(chunk.text);
          st.failures.clear();
          st.parser->parse(chunk.format, batch.text.size(), batch, st.failures);
          for (log_event& e : batch.events) {
            signature_mask m = cached(st.path_classes, batch.path(e), *st.scanner,
                                      signature_field::path, path_mask);
            m |= cached(st.agent_classes, batch.view(e.user_agent), *st.scanner, signature_field::ua,
                        agent_mask);
            if (e.target.length > e.path_length + 1)
              m |= st.scanner->scan(signature_field::query, batch.view(e.target).substr(e.path_length + 1))
                   & path_mask;
            e.classes = m;
          }
          // Malformed lines are counted; the quarantine sink comes with the
          // record sinks.
          if (!st.failures.empty() && st.malformed == 0)
            spdlog::warn("parse: malformed line ({}), counting and skipping such lines",
                         to_string(st.failures.front().reason));
          st.malformed += st.failures.size();
        } catch (const std::exception& ex) {
          return caf::make_error(caf::sec::runtime_error, std::string("parse stage: ") + ex.what());
        }
        // Reply to the source only when the window stage took the batch.
        auto rp = self->make_response_promise<uint64_t>();
        self->request(cfg.next, caf::infinite, ingest_atom_v, std::move(batch))
          .then([rp](uint64_t n) mutable { rp.deliver(n); },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
    };
  };
  return sys.spawn(behavior);
}

} // namespace vigil
