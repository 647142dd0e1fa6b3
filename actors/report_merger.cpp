#include "actors/report_merger.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/errc.hpp"

namespace vigil {

namespace {

struct merger_state {
  aggregate_ptr merged;
  uint64_t count = 0;
  static inline const char* name = "report_merger";
};

report_merger_actor::behavior_type
report_merger(report_merger_actor::stateful_pointer<merger_state> self, report_merger_config cfg) {
  return {
    [=](merge_atom, aggregate_ptr& partial) -> caf::result<uint64_t> {
      auto& st = self->state;
      try {
        if (!st.merged)
          st.merged = std::move(partial);
        else if (partial)
          st.merged->merge(std::move(*partial));
      } catch (const std::exception& ex) {
        return caf::make_error(errc::input_failed, std::string("merge: ") + ex.what());
      }
      return ++st.count;
    },
    [=](result_atom) -> aggregate_ptr {
      if (!self->state.merged) return std::make_shared<batch_aggregate>(cfg.aggregate);
      return self->state.merged;
    },
  };
}

} // namespace

report_merger_actor spawn_report_merger(caf::actor_system& sys, const report_merger_config& cfg) {
  return sys.spawn(report_merger, cfg);
}

} // namespace vigil
