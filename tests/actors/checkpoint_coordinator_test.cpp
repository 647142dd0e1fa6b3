// The checkpoint coordinator in a real actor system with a real store.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

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

namespace {

/// A store in a fresh dir, and an actor system.
struct rig {
  test::temp_dir dir;
  std::string error;
  std::shared_ptr<state_store> store{state_store::open(dir / "state", error)};
  system_config cfg;
  caf::actor_system sys{cfg};
  rig() { REQUIRE(store); }
};

/// A coordinator's config: participants "source:a" and "windows", a
/// checkpoint into `store` every 50 ms, abandoned after `abandon_after`.
checkpoint_coordinator_config every_50ms(std::shared_ptr<state_store> store, std::chrono::milliseconds abandon_after) {
  checkpoint_coordinator_config c;
  c.store = std::move(store);
  c.interval = 50ms;
  c.abandon_after = abandon_after;
  c.participants = {"source:a", "windows"};
  return c;
}

} // namespace

TEST_CASE("a checkpoint that never completes is abandoned, also after a stop, which then gets its answer") {
  rig r;
  auto& store = r.store;
  auto& sys = r.sys;
  checkpoint_coordinator_config ccfg = every_50ms(store, 200ms);  // the window stage's part never comes
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

TEST_CASE("a part sent in pieces is streamed to its table file and stored whole and an abandoned one leaves no file") {
  rig r;
  auto& store = r.store;
  auto& sys = r.sys;
  checkpoint_coordinator_config ccfg = every_50ms(store, 300ms);
  auto coordinator = spawn_checkpoint_coordinator(sys, ccfg);
  const std::string big(1536 * 1024, 'w');  // over a chunk: cut in two
  // The source answers each barrier, and plays the window stage: pieces of
  // the windows' part for the same checkpoint, the last one only from
  // checkpoint 2 on (checkpoint 1 is abandoned with a piece streamed).
  auto source = sys.spawn([coordinator, big]() -> source_actor::behavior_type {
    return {
      [](tick_atom) {},
      [](run_atom) -> uint64_t { return 0; },
      [](stop_atom) -> uint64_t { return 0; },
      [coordinator, big](checkpoint_atom, uint64_t id) -> state_part {
        auto piece = [&](std::string bytes, std::vector<std::string> tail, bool more) {
          state_part p{id, state_kind::window, "windows", std::move(bytes)};
          p.tail = std::move(tail);
          p.more = more;
          caf::anon_send(coordinator, checkpoint_atom_v, std::move(p));
        };
        piece("head" + std::to_string(id), {big}, true);
        if (id >= 2) {
          piece("", {"middle"}, true);
          piece("end", {"", "tail"}, false);
        }
        return {id, state_kind::source, "source:a", "positions"};
      },
    };
  });
  caf::scoped_actor self{sys};
  self->send(coordinator, run_atom_v, std::vector<source_actor>{source});
  // Waits on the writer; the bound is a ceiling on a hang, not a timing check.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (store->checkpoints().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  const auto listed = store->checkpoints();
  REQUIRE_FALSE(listed.empty());
  CHECK(listed.front().id == 2);  // 1 was abandoned
  std::vector<state_part> parts;
  REQUIRE(store->read_checkpoint(listed.front().id, parts, r.error));
  REQUIRE(parts.size() == 2);
  const auto windows = std::find_if(parts.begin(), parts.end(), [](const state_part& p) { return p.participant == "windows"; });
  REQUIRE(windows != parts.end());
  CHECK(windows->bytes == "head2" + big + "middle" + "endtail");
  CHECK(listed.front().bytes == windows->bytes.size() + std::string("positions").size());
  caf::anon_send_exit(coordinator, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(source, caf::exit_reason::user_shutdown);
  self->wait_for(coordinator);
  // What was streamed for the abandoned checkpoint went with it.
  size_t staged = 0;
  for (const auto& f : std::filesystem::directory_iterator(std::filesystem::path(r.dir / "state") / "ingest")) staged += f.is_regular_file();
  CHECK(staged == 0);
}
