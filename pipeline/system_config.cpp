#include "pipeline/system_config.hpp"

#include "messages/errc.hpp"
#include "messages/type_ids.hpp"

namespace vigil {

system_config::system_config(size_t threads) {
  add_message_types<caf::id_block::vigil>();
  add_error_category(caf::atom("vigil"), render_error);
  if (threads > 0) set("scheduler.max-threads", threads);
  // An idle worker polls 500 times with 50 us sleeps by default before it
  // waits: on a node of three processes on two cores that was a quarter of
  // the aggregator's CPU, in clock_nanosleep (bench/cluster_bench.sh).
  set("work-stealing.moderate-poll-attempts", size_t{10});
  set("logger.file-verbosity", caf::atom("quiet"));
  set("logger.console-verbosity", caf::atom("quiet"));
}

} // namespace vigil
