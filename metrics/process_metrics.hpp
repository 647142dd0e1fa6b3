#pragma once

namespace vigil {

class metrics_registry;

/// Declares Prometheus's standard process metrics on `r` and reads them
/// from /proc/self at every scrape: process_cpu_seconds_total,
/// process_resident_memory_bytes, process_virtual_memory_bytes,
/// process_open_fds, process_max_fds, process_start_time_seconds.
void add_process_metrics(metrics_registry& r);

} // namespace vigil
