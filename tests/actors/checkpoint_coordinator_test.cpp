// The checkpoint coordinator in a real actor system with a real store.

#include <chrono>

#include <catch2/catch.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/checkpoint_coordinator.hpp"
#include "messages/type_ids.hpp"
#include "pipeline/system_config.hpp"
#include "state/state_store.hpp"
#include "support/test_support.hpp"

using namespace vigil;
using namespace std::chrono_literals;

TEST_CASE("a checkpoint that never completes is abandoned, also after a stop, which then gets its answer") {
  test::temp_dir dir;
  std::string error;
  auto store = std::shared_ptr<state_store>(state_store::open(dir / "state", error));
  REQUIRE(store);
  system_config cfg;
  caf::actor_system sys{cfg};
  checkpoint_coordinator_config ccfg;
  ccfg.store = store;
  ccfg.interval = 50ms;
  ccfg.abandon_after = 200ms;
  ccfg.participants = {"source:a", "windows"};  // the window stage's part never comes
  auto coordinator = spawn_checkpoint_coordinator(sys, ccfg);
  // A source that answers every barrier with its part at once.
  auto source = sys.spawn([]() -> source_actor::behavior_type {
    return {
      [](tick_atom) {},
      [](run_atom) -> uint64_t { return 0; },
      [](stop_atom) -> uint64_t { return 0; },
      [](checkpoint_atom, uint64_t id) -> state_part { return {id, state_kind::source, "source:a", "positions"}; },
    };
  });
  caf::scoped_actor self{sys};
  self->send(coordinator, run_atom_v, std::vector<source_actor>{source});
  // A graceful stop's final checkpoint, which cannot complete: the stop
  // must still be answered (the request's limit is a ceiling on a hang,
  // far above the abandonment, not a timing check).
  // Its answer is an error: no clean stop without the final checkpoint.
  std::string answer;
  self->request(coordinator, std::chrono::seconds(60), stop_atom_v, true)
    .receive([&](uint64_t id) { answer = "checkpoint " + std::to_string(id); },
             [&](caf::error& err) { answer = sys.render(err); });
  CHECK(answer.find("the final checkpoint 1 could not be written") != std::string::npos);
  CHECK(answer.find("the last complete one is 0") != std::string::npos);
  CHECK(store->checkpoints().empty());
  caf::anon_send_exit(coordinator, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(source, caf::exit_reason::user_shutdown);
}
