// The line sink in a real actor system, writing to a real device that
// always fails (/dev/full: ENOSPC) and to a real file.

#include <chrono>

#include <catch2/catch.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/line_sink.hpp"
#include "messages/type_ids.hpp"
#include "pipeline/system_config.hpp"
#include "support/test_support.hpp"

using namespace vigil;
using namespace std::chrono_literals;

TEST_CASE("a sink whose writes fail holds its reply and counts as failing until it stops retrying") {
  system_config cfg;
  caf::actor_system sys{cfg};
  give_up_failing_writes(false);
  auto sink = spawn_line_sink(sys, line_sink_config{"full", "/dev/full", {}, -1});
  caf::scoped_actor self{sys};
  // An asynchronous send: the sink's answer comes back as a message.
  self->send(sink, write_atom_v, std::vector<std::string>{"a", "b"});
  REQUIRE(test::wait_until([] { return failing_sinks() == 1; }));
  // Held: the reply (the sender's credit) does not come while it fails.
  bool early = false;
  self->receive([&](uint64_t) { early = true; }, caf::after(std::chrono::milliseconds(500)) >> [] {});
  CHECK_FALSE(early);
  CHECK(failing_sinks() == 1);
  // A node stopping without a checkpoint lets it go (the next start
  // writes those lines again): the reply comes, nothing counts as failing.
  give_up_failing_writes();
  bool answered = false;
  self->receive([&](uint64_t n) { answered = n == 2; }, caf::after(std::chrono::seconds(10)) >> [] {});
  CHECK(answered);
  CHECK(failing_sinks() == 0);
  give_up_failing_writes(false);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}

TEST_CASE("a sink writes every line, in order, and its flush reaches the disk") {
  test::temp_dir dir;
  system_config cfg;
  caf::actor_system sys{cfg};
  auto sink = spawn_line_sink(sys, line_sink_config{"f", dir / "out.jsonl", {}, -1});
  caf::scoped_actor self{sys};
  for (int i = 0; i < 3; ++i)
    self->request(sink, caf::infinite, write_atom_v, std::vector<std::string>{std::to_string(i), "x"})
      .receive([](uint64_t n) { CHECK(n == 2); }, [](caf::error&) { FAIL("write failed"); });
  self->request(sink, caf::infinite, flush_atom_v).receive([](bool ok) { CHECK(ok); }, [](caf::error&) {});
  CHECK(test::read_file(dir / "out.jsonl") == "0\nx\n1\nx\n2\nx\n");
  CHECK(failing_sinks() == 0);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}
