// Parser micro-benchmarks: lines/s and bytes/s on one core, per format, on
// real log lines (the bundled real Apache log, tests/fixtures).
//
//   build/bench/parser_bench [--benchmark_filter=...]

#include <fstream>
#include <sstream>

#include <benchmark/benchmark.h>

#include "parse/line_parser.hpp"
#include "report/batch_aggregate.hpp"
#include "signature/signature_matcher.hpp"

using namespace vigil;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// About 1 MiB of real combined lines: one parse chunk.
const std::string& combined_chunk() {
  static const std::string text = [] {
    std::string src = read(std::string(VIGIL_FIXTURES) + "/apache_combined_elastic_examples.log");
    src.resize(std::min(src.size(), size_t{1} << 20));
    src.resize(src.rfind('\n') + 1);
    return src;
  }();
  return text;
}

/// The same lines rewritten in another format, line by line.
template <class F>
std::string rewrite(F f) {
  std::string out;
  std::istringstream in(combined_chunk());
  std::string line;
  while (std::getline(in, line)) out += f(line) + "\n";
  return out;
}

const std::string& common_chunk() {
  static const std::string text = rewrite([](const std::string& l) {
    // Keep everything up to the size field: drop the referer and agent.
    auto req_end = l.find("\" ", l.find("] \"") + 3);
    auto size_end = l.find(' ', l.find(' ', req_end + 2) + 1);
    return size_end == std::string::npos ? l : l.substr(0, size_end);
  });
  return text;
}

const std::string& combined_rt_chunk() {
  static const std::string text = rewrite([](const std::string& l) { return l + " 0.042"; });
  return text;
}

const std::string& json_chunk() {
  static const std::string text = [] {
    line_parser p{parser_options{}};
    event_batch b;
    b.text = combined_chunk();
    std::vector<line_failure> f;
    p.parse(log_format::combined, b.text.size(), b, f);
    std::string out;
    auto esc = [](std::string_view s) {
      std::string o;
      for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        o += c;
      }
      return o;
    };
    for (const auto& e : b.events) {
      out += "{\"ip\":\"" + esc(b.view(e.client)) + "\",\"time\":" + std::to_string(e.time_ms / 1000)
             + ",\"method\":\"" + esc(b.view(e.method)) + "\",\"path\":\"" + esc(b.view(e.target))
             + "\",\"status\":" + std::to_string(e.status) + ",\"bytes\":" + std::to_string(e.bytes)
             + ",\"referer\":\"" + esc(b.view(e.referer)) + "\",\"user_agent\":\""
             + esc(b.view(e.user_agent)) + "\"}\n";
    }
    return out;
  }();
  return text;
}

void run_parse(benchmark::State& state, const std::string& text, log_format format) {
  line_parser parser{parser_options{}};
  event_batch batch;
  std::vector<line_failure> failures;
  uint64_t lines = 0;
  for (auto _ : state) {
    batch.text = text;  // a worker receives each chunk as a fresh buffer too
    batch.events.clear();
    failures.clear();
    auto counts = parser.parse(format, text.size(), batch, failures);
    lines += counts.lines;
    benchmark::DoNotOptimize(batch.events.data());
  }
  if (!failures.empty()) state.SkipWithError("fixture lines failed to parse");
  state.SetItemsProcessed(static_cast<int64_t>(lines));
  state.SetBytesProcessed(static_cast<int64_t>(text.size() * state.iterations()));
}

void BM_parse_combined(benchmark::State& s) { run_parse(s, combined_chunk(), log_format::combined); }
void BM_parse_common(benchmark::State& s) { run_parse(s, common_chunk(), log_format::common); }
void BM_parse_combined_rt(benchmark::State& s) { run_parse(s, combined_rt_chunk(), log_format::combined_rt); }
void BM_parse_json(benchmark::State& s) { run_parse(s, json_chunk(), log_format::json); }

/// Parse plus exact aggregation: what one analyze worker does per chunk.
void BM_parse_and_aggregate_combined(benchmark::State& state) {
  std::string error;
  auto sigs = signature_matcher::compile(signature_set::defaults(), error);
  aggregate_options opts;
  opts.signatures = sigs;
  line_parser parser{parser_options{}};
  event_batch batch;
  std::vector<line_failure> failures;
  batch_aggregate agg{opts};
  uint64_t lines = 0;
  const std::string& text = combined_chunk();
  for (auto _ : state) {
    batch.text = text;
    batch.events.clear();
    failures.clear();
    lines += parser.parse(log_format::combined, text.size(), batch, failures).lines;
    agg.add(batch);
  }
  state.SetItemsProcessed(static_cast<int64_t>(lines));
  state.SetBytesProcessed(static_cast<int64_t>(text.size() * state.iterations()));
}

} // namespace

BENCHMARK(BM_parse_combined);
BENCHMARK(BM_parse_common);
BENCHMARK(BM_parse_combined_rt);
BENCHMARK(BM_parse_json);
BENCHMARK(BM_parse_and_aggregate_combined);
BENCHMARK_MAIN();
