#include "pipeline/analyze_pipeline.hpp"

#include <chrono>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/analyze_worker.hpp"
#include "actors/input_reader.hpp"
#include "actors/report_merger.hpp"
#include "messages/errc.hpp"
#include "messages/type_ids.hpp"
#include "pipeline/system_config.hpp"

namespace vigil {

bool run_analyze(const analyze_job& job, analyze_outcome& out, std::string& error) {
  const auto start = std::chrono::steady_clock::now();
  auto reader = std::make_shared<chunk_reader>(job.inputs, job.reader);
  if (!reader->open_all(error)) return false;

  const size_t workers =
    job.workers > 0 ? job.workers : std::max<size_t>(1, std::thread::hardware_concurrency());
  system_config cfg{workers};
  caf::actor_system sys{cfg};

  analyze_worker_config worker_cfg{job.parser, job.aggregate};
  input_reader_config reader_cfg;
  reader_cfg.reader = reader;
  reader_cfg.on_progress = job.on_progress;
  for (size_t i = 0; i < workers; ++i) reader_cfg.workers.push_back(spawn_analyze_worker(sys, worker_cfg));
  reader_cfg.merger = spawn_report_merger(sys, report_merger_config{job.aggregate});
  auto workers_copy = reader_cfg.workers;
  auto merger = reader_cfg.merger;
  auto input = spawn_input_reader(sys, std::move(reader_cfg));

  bool ok = false;
  {
    caf::scoped_actor self{sys};
    self->request(input, caf::infinite, run_atom_v)
      .receive(
        [&](aggregate_ptr& result) {
          out.aggregate = std::move(result);
          ok = true;
        },
        [&](caf::error& err) { error = sys.render(err); });
  }
  for (auto& w : workers_copy) caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(merger, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(input, caf::exit_reason::user_shutdown);

  out.formats = reader->formats();
  out.input_bytes = reader->total_bytes() > 0 ? reader->total_bytes() : reader->consumed_bytes();
  out.text_bytes = reader->text_bytes();
  out.elapsed_s =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return ok;
}

} // namespace vigil
