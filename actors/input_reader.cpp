#include "actors/input_reader.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "messages/errc.hpp"
#include "messages/type_ids.hpp"

namespace vigil {

namespace {

struct reader_state {
  input_reader_config cfg;
  caf::typed_response_promise<aggregate_ptr> promise;
  size_t in_flight = 0;
  bool exhausted = false;  // no more chunks will be read
  bool collecting = false; // partials were asked for
  bool finished = false;   // the promise was delivered
  static inline const char* name = "input_reader";
};

using reader_ptr = input_reader_actor::stateful_pointer<reader_state>;

void fail(reader_ptr self, caf::error err) {
  auto& st = self->state;
  st.exhausted = true;
  if (st.finished) return;
  st.finished = true;
  st.promise.deliver(std::move(err));
}

void collect(reader_ptr self) {
  auto& st = self->state;
  const size_t expected = st.cfg.workers.size();
  for (auto& w : st.cfg.workers) {
    self->request(w, caf::infinite, collect_atom_v)
      .then(
        [=](aggregate_ptr& partial) {
          self->request(self->state.cfg.merger, caf::infinite, merge_atom_v, std::move(partial))
            .then(
              [=](uint64_t merged) {
                if (merged < expected) return;
                self->request(self->state.cfg.merger, caf::infinite, result_atom_v)
                  .then(
                    [=](aggregate_ptr& result) {
                      if (self->state.finished) return;
                      self->state.finished = true;
                      self->state.promise.deliver(std::move(result));
                    },
                    [=](caf::error& err) { fail(self, std::move(err)); });
              },
              [=](caf::error& err) { fail(self, std::move(err)); });
        },
        [=](caf::error& err) { fail(self, std::move(err)); });
  }
}

/// Sends `worker` the next chunk, if any; when the input is exhausted and
/// nothing is in flight, starts collecting.
void feed(reader_ptr self, analyze_worker_actor worker) {
  auto& st = self->state;
  if (!st.exhausted) {
    auto chunk = st.cfg.reader->next();
    if (st.cfg.on_progress) st.cfg.on_progress(*st.cfg.reader);
    if (chunk) {
      ++st.in_flight;
      self->request(worker, caf::infinite, parse_atom_v, std::move(*chunk))
        .then(
          [=](uint64_t) {
            --self->state.in_flight;
            feed(self, worker);
          },
          [=](caf::error& err) {
            --self->state.in_flight;
            fail(self, std::move(err));
          });
      return;
    }
    st.exhausted = true;
    if (!st.cfg.reader->error().empty()) {
      fail(self, caf::make_error(errc::input_failed, st.cfg.reader->error()));
      return;
    }
  }
  if (st.in_flight == 0 && !st.collecting && !st.finished) {
    st.collecting = true;
    collect(self);
  }
}

input_reader_actor::behavior_type input_reader(reader_ptr self, input_reader_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [=](run_atom) -> caf::result<aggregate_ptr> {
      auto& st = self->state;
      st.promise = self->make_response_promise<aggregate_ptr>();
      for (size_t round = 0; round < st.cfg.credit_per_worker; ++round)
        for (auto& w : st.cfg.workers) feed(self, w);
      return st.promise;
    },
  };
}

} // namespace

input_reader_actor spawn_input_reader(caf::actor_system& sys, input_reader_config cfg) {
  return sys.spawn<caf::detached>(input_reader, std::move(cfg));
}

} // namespace vigil
