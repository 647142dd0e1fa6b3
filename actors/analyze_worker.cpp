#include "actors/analyze_worker.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/errc.hpp"

namespace vigil {

namespace {

struct worker_state {
  std::unique_ptr<line_parser> parser;
  aggregate_ptr aggregate;
  event_batch batch;                  // reused: its buffers keep their capacity
  std::vector<line_failure> failures; // reused
  static inline const char* name = "analyze_worker";
};

analyze_worker_actor::behavior_type
analyze_worker(analyze_worker_actor::stateful_pointer<worker_state> self,
               analyze_worker_config cfg) {
  self->state.parser = std::make_unique<line_parser>(cfg.parser);
  self->state.aggregate = std::make_shared<batch_aggregate>(cfg.aggregate);
  return {
    [=](parse_atom, text_chunk& chunk) -> caf::result<uint64_t> {
      auto& st = self->state;
      try {
        st.batch.events.clear();
        st.failures.clear();
        st.batch.text.swap(chunk.text);  // the chunk's bytes become the batch's, no copy
        const size_t size = st.batch.text.size();
        line_counts counts = st.parser->parse(chunk.format, size, st.batch, st.failures);
        st.aggregate->add(st.batch, chunk.input, chunk.sequence);
        st.aggregate->add_failures(chunk.input, chunk.sequence, st.batch, st.failures);
        st.aggregate->add_chunk(chunk.input, chunk.sequence, counts);
        return counts.lines + counts.empty_lines;
      } catch (const std::exception& ex) {
        // An escaping exception would kill the actor and lose its partial.
        return caf::make_error(errc::input_failed, std::string("parse worker: ") + ex.what());
      }
    },
    [=](collect_atom) -> caf::result<aggregate_ptr> {
      auto result = std::move(self->state.aggregate);
      result->seal();  // sort and dedup here, in parallel, not in the merger
      self->state.aggregate = std::make_shared<batch_aggregate>(cfg.aggregate);
      return result;
    },
  };
}

} // namespace

analyze_worker_actor spawn_analyze_worker(caf::actor_system& sys, const analyze_worker_config& cfg) {
  return sys.spawn(analyze_worker, cfg);
}

} // namespace vigil
