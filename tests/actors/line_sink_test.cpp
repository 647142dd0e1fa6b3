// The line sink in a real actor system, writing to a real device that
// always fails (/dev/full: ENOSPC) and to a real file.

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

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
  auto sink = spawn_line_sink(sys, line_sink_config{"full", "/dev/full"});
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
  auto sink = spawn_line_sink(sys, line_sink_config{"f", dir / "out.jsonl"});
  caf::scoped_actor self{sys};
  for (int i = 0; i < 3; ++i)
    self->request(sink, caf::infinite, write_atom_v, std::vector<std::string>{std::to_string(i), "x"})
      .receive([](uint64_t n) { CHECK(n == 2); }, [](caf::error&) { FAIL("write failed"); });
  self->request(sink, caf::infinite, flush_atom_v).receive([](bool ok) { CHECK(ok); }, [](caf::error&) {});
  CHECK(test::read_file(dir / "out.jsonl") == "0\nx\n1\nx\n2\nx\n");
  CHECK(failing_sinks() == 0);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}

namespace {

/// Every file in `dir`, name -> content.
std::map<std::string, std::string> files_in(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    out[e.path().filename().string()] = test::read_file(e.path().string());
  return out;
}

void write_lines(caf::scoped_actor& self, const line_sink_actor& sink, std::vector<std::string> lines) {
  self->request(sink, caf::infinite, write_atom_v, std::move(lines))
    .receive([](uint64_t) {}, [](caf::error&) { FAIL("write failed"); });
}

} // namespace

TEST_CASE("a sink rotating by size starts a segment before a line would pass the limit, CSV header in each") {
  test::temp_dir dir;
  system_config cfg;
  caf::actor_system sys{cfg};
  line_sink_config lc{"rot", dir / "out.csv"};
  lc.header = "id,n";
  lc.rotate_bytes = 20;
  auto sink = spawn_line_sink(sys, lc);
  caf::scoped_actor self{sys};
  write_lines(self, sink, {"a,1", "b,2", "c,3", "d,4"});  // header 5 + 4 each: 3 lines fit in 20 bytes
  write_lines(self, sink, {"e,5"});
  write_lines(self, sink, {std::string(30, 'x')});  // longer than the limit alone: a segment of its own
  write_lines(self, sink, {"f,6"});
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  self->wait_for(sink);
  CHECK(segment_path(dir / "out.csv", 1) == dir / "out.000001.csv");
  CHECK(last_segment_on_disk(dir / "out.csv") == 3);
  CHECK(test::read_file(dir / "out.000001.csv") == "id,n\na,1\nb,2\nc,3\n");
  CHECK(test::read_file(dir / "out.000002.csv") == "id,n\nd,4\ne,5\n");
  CHECK(test::read_file(dir / "out.000003.csv") == "id,n\n" + std::string(30, 'x') + "\n");
  CHECK(test::read_file(dir / "out.csv") == "id,n\nf,6\n");
}

TEST_CASE("a rotating sink resumed from a checkpoint puts back the segments rotated after it, and the replay writes the same files") {
  test::temp_dir dir;
  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::vector<std::vector<std::string>> batches;
  for (int b = 0; b < 12; ++b) {
    batches.emplace_back();
    for (int i = 0; i < 3; ++i) batches.back().push_back("line-" + std::to_string(b * 3 + i) + "-xxxxxxxx");
  }
  line_sink_config lc{"rot", dir / "out.jsonl"};
  lc.rotate_bytes = 60;
  // The run that crashed: where it stood at its last checkpoint (after
  // batch 5), then on, rotating several times more, before the crash.
  sink_position checkpoint;
  {
    auto sink = spawn_line_sink(sys, lc);
    for (int b = 0; b < 12; ++b) {
      write_lines(self, sink, batches[b]);
      if (b == 4) checkpoint = {static_cast<int64_t>(std::filesystem::file_size(dir / "out.jsonl")),
                                last_segment_on_disk(dir / "out.jsonl")};
    }
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
    self->wait_for(sink);
  }
  const auto uninterrupted = files_in(dir.path.string());
  REQUIRE(checkpoint.segments >= 2);
  REQUIRE(last_segment_on_disk(dir / "out.jsonl") >= checkpoint.segments + 3);
  // The restart resumes from that checkpoint and replays batches 5 on.
  lc.resume = checkpoint;
  auto sink = spawn_line_sink(sys, lc);
  self->request(sink, caf::infinite, flush_atom_v).receive([](bool) {}, [](caf::error&) {});
  CHECK(last_segment_on_disk(dir / "out.jsonl") == checkpoint.segments);
  CHECK(static_cast<int64_t>(std::filesystem::file_size(dir / "out.jsonl")) == checkpoint.length);
  for (int b = 5; b < 12; ++b) write_lines(self, sink, batches[b]);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  self->wait_for(sink);
  CHECK(files_in(dir.path.string()) == uninterrupted);
  CHECK(encode_sink_position(checkpoint) == std::to_string(checkpoint.length) + " " + std::to_string(checkpoint.segments));
  CHECK(decode_sink_position(encode_sink_position(checkpoint)).segments == checkpoint.segments);
  CHECK(decode_sink_position("1234").length == 1234);
  CHECK(decode_sink_position("1234").segments == 0);
}

TEST_CASE("a sink rotating by time closes its file once the clock passes the period's next multiple") {
  test::temp_dir dir;
  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  line_sink_config lc{"rot", dir / "out.jsonl"};
  lc.rotate_every = std::chrono::milliseconds(1000);
  auto sink = spawn_line_sink(sys, lc);
  write_lines(self, sink, {"a"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the next whole second
  write_lines(self, sink, {"b"});
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  self->wait_for(sink);
  CHECK(test::read_file(dir / "out.000001.jsonl") == "a\n");
  CHECK(test::read_file(dir / "out.jsonl") == "b\n");
}

TEST_CASE("a sink with two barrier inputs takes its position when both barriers are in and holds what came after the first") {
  // The quarantine: the window stage (a) and a database sink (b) write to
  // it; b's copy of a row refused before its barrier belongs to the
  // checkpoint even when it comes after a's barrier.
  test::temp_dir dir;
  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor a{sys}, b{sys}, coordinator{sys};
  line_sink_config lc{"quarantine", dir / "q.jsonl"};
  lc.coordinator = caf::actor_cast<checkpoint_coordinator_actor>(coordinator);
  lc.barrier_inputs = 2;
  auto sink = spawn_line_sink(sys, lc);
  a->send(sink, write_atom_v, std::vector<std::string>{"a1"});
  a->send(sink, checkpoint_atom_v, uint64_t{1});
  a->send(sink, write_atom_v, std::vector<std::string>{"a2"});  // after a's barrier: held
  b->send(sink, write_atom_v, std::vector<std::string>{"copy"});
  // a's first write is answered; its second not while b's barrier is missing.
  bool first = false, second = false;
  a->receive([&](uint64_t) { first = true; }, caf::after(std::chrono::seconds(10)) >> [] {});
  CHECK(first);
  a->receive([&](uint64_t) { second = true; }, caf::after(std::chrono::milliseconds(300)) >> [] {});
  CHECK_FALSE(second);
  bool early = false;
  coordinator->receive([&](checkpoint_atom, state_part&) { early = true; },
                       caf::after(std::chrono::milliseconds(100)) >> [] {});
  CHECK_FALSE(early);
  b->send(sink, checkpoint_atom_v, uint64_t{1});
  state_part part;
  coordinator->receive([&](checkpoint_atom, state_part& p) { part = p; },
                       caf::after(std::chrono::seconds(10)) >> [] { FAIL("no position for checkpoint 1"); });
  CHECK(part.checkpoint == 1);
  CHECK(part.participant == "sink:quarantine");
  CHECK(decode_sink_position(part.bytes).length == static_cast<int64_t>(std::string("a1\ncopy\n").size()));
  a->receive([](uint64_t n) { CHECK(n == 1); }, caf::after(std::chrono::seconds(10)) >> [] { FAIL("a2 not answered"); });
  a->request(sink, caf::infinite, flush_atom_v).receive([](bool) {}, [](caf::error&) {});
  CHECK(test::read_file(dir / "q.jsonl") == "a1\ncopy\na2\n");
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}
