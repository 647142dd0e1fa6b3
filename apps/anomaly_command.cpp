#include "apps/anomaly_command.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <system_error>

#include <CLI/CLI.hpp>

#include "anomaly/series_file.hpp"
#include "settings/config_loader.hpp"

namespace vigil {

namespace {

struct score_flags {
  std::string detector;
  std::string config;
  std::string environment;
  std::string out_dir;
  std::vector<std::string> inputs;
};

/// The detector NAME stands for: a `[[detector]]` of the config, or
/// without one a method with its defaults. Nullopt after saying why not.
std::optional<detector_params> chosen_detector(const score_flags& f) {
  if (f.config.empty()) {
    const std::string name = f.detector.empty() ? to_string(detector_params{}.method) : f.detector;
    auto method = parse_detector_method(name);
    if (!method) {
      std::cerr << "vigil anomaly score: no method '" << name << "' (methods: " << detector_method_names()
                << "); a [[detector]] of a config needs -c FILE\n";
      return std::nullopt;
    }
    detector_params p;
    p.method = *method;
    return p;
  }
  auto loaded = load_config(f.config, options_from_process(f.environment));
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::cerr << to_string(e) << "\n";
    return std::nullopt;
  }
  const auto& detectors = loaded.config->detectors;
  if (f.detector.empty() && detectors.size() == 1) return detectors.front().params;
  for (const auto& d : detectors)
    if (d.name == f.detector) return d.params;
  std::string names;
  for (const auto& d : detectors) names += (names.empty() ? "" : ", ") + d.name;
  std::cerr << "vigil anomaly score: " << f.config << " has no [[detector]] named '" << f.detector << "'"
            << (names.empty() ? std::string(" (it has none)") : " (it has " + names + ")") << "\n";
  return std::nullopt;
}

} // namespace

void add_anomaly_command(CLI::App& app, int& exit_code) {
  auto* anomaly = app.add_subcommand("anomaly", "Anomaly detectors offline: score series files with a live detector's code.");
  anomaly->require_subcommand(1);
  auto f = std::make_shared<score_flags>();
  auto* score = anomaly->add_subcommand(
    "score",
    "Run a detector over series files (CSV `timestamp,value`, one series a file, in time order) and write\n"
    "DIR/<category>/<NAME>_<file>.csv with `timestamp,value,anomaly_score`, one row per input row, <category>\n"
    "being the input's folder: the Numenta Anomaly Benchmark's results layout (bench/nab_score.py scores it).\n"
    "The detector is the one `vigil run` runs: the same code and parameters, each file a fresh series.");
  score->add_option("--detector", f->detector,
                    "a [[detector]] of the -c config, or without -c a method (" + detector_method_names()
                      + "; default: baseline, with its default parameters)");
  score->add_option("-c,--config", f->config, "the config whose [[detector]] to run");
  score->add_option("--env", f->environment, "environment overlay of the config (default: $VIGIL_ENV)");
  score->add_option("--out-dir", f->out_dir, "where the results go")->required();
  score->add_option("inputs", f->inputs, "series files (CSV)")->required();
  score->callback([f, &exit_code] {
    auto params = chosen_detector(*f);
    if (!params) {
      exit_code = 2;
      return;
    }
    const std::string name = f->detector.empty() ? to_string(params->method) : f->detector;
    const auto started = std::chrono::steady_clock::now();
    uint64_t points = 0, alerts = 0, skipped = 0;
    for (const auto& input : f->inputs) {
      const std::filesystem::path in(input);
      const std::string category = in.parent_path().filename().string();
      const std::filesystem::path dir = std::filesystem::path(f->out_dir) / category;
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) {
        std::cerr << "vigil anomaly score: " << dir.string() << ": " << ec.message() << "\n";
        exit_code = 1;
        return;
      }
      series_file_stats stats;
      const std::string out = (dir / (name + "_" + in.filename().string())).string();
      const std::string error = score_series_file(*params, input, out, stats);
      if (!error.empty()) {
        std::cerr << "vigil anomaly score: " << error << "\n";
        exit_code = 1;
        return;
      }
      if (stats.skipped > 0)
        std::cerr << "vigil anomaly score: " << stats.skipped << " row" << (stats.skipped == 1 ? "" : "s")
                  << " not read (scored 0), the first " << stats.first_problem << "\n";
      points += stats.points;
      alerts += stats.alerts;
      skipped += stats.skipped;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "vigil anomaly score: %s over %zu file%s: %llu points, %llu alerts, %.0f points/s\n",
                 name.c_str(), f->inputs.size(), f->inputs.size() == 1 ? "" : "s",
                 static_cast<unsigned long long>(points), static_cast<unsigned long long>(alerts),
                 seconds > 0 ? points / seconds : 0.0);
    exit_code = skipped > 0 && points == 0 ? 1 : 0;
  });
}

} // namespace vigil
