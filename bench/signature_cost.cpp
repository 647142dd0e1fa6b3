// What each built-in signature costs to scan, alone: the signatures that
// make the Hyperscan databases slow, so they can be rewritten.
//
//   signature_cost LOG [TOP]
//
// Reads a combined-format LOG, takes each line's path, query and user agent
// (decoded as vigil decodes them), compiles every signature on its own and
// scans the texts of its fields with it. Prints the TOP (default 25) by
// nanoseconds per scanned text, and the whole set's figure for comparison.

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "clean/path_decoder.hpp"
#include "signature/signature_matcher.hpp"

using namespace vigil;

namespace {

/// The fields of a combined line, crudely: enough for a cost estimate.
void split(const std::string& line, std::vector<std::string>& path, std::vector<std::string>& query,
           std::vector<std::string>& agent) {
  const size_t q1 = line.find('"');
  if (q1 == std::string::npos) return;
  const size_t sp = line.find(' ', q1);
  const size_t end = line.find(" HTTP/", sp == std::string::npos ? q1 : sp);
  if (sp == std::string::npos || end == std::string::npos) return;
  const std::string target = line.substr(sp + 1, end - sp - 1);
  const size_t qm = target.find('?');
  std::string decoded;
  path.push_back(decode_path(target.substr(0, qm), decoded) == path_decoding::plain ? target.substr(0, qm) : decoded);
  if (qm != std::string::npos) {
    const std::string raw = target.substr(qm + 1);
    query.push_back(decode_query(raw, decoded) == path_decoding::plain ? raw : decoded);
  }
  const size_t ua_end = line.rfind('"');
  const size_t ua_begin = ua_end == std::string::npos ? ua_end : line.rfind('"', ua_end - 1);
  if (ua_begin != std::string::npos && ua_begin < ua_end) agent.push_back(line.substr(ua_begin + 1, ua_end - ua_begin - 1));
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " LOG [TOP]\n";
    return 2;
  }
  const size_t top = argc > 2 ? std::stoul(argv[2]) : 25;
  std::vector<std::string> path, query, agent;
  std::ifstream in(argv[1]);
  for (std::string line; std::getline(in, line) && path.size() < 200000;) split(line, path, query, agent);
  const std::vector<std::string>* texts_of[] = {&path, &query, &query, &agent};  // referer: as a query

  auto cost = [&](const signature_set& set) {
    std::string error;
    auto m = signature_matcher::compile(set, error);
    if (!m) {
      std::cerr << error << "\n";
      std::exit(1);
    }
    signature_matcher::scanner s{m};
    size_t scanned = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t f = 0; f < signature_field_count; ++f)
      for (const auto& t : *texts_of[f]) {
        s.scan(static_cast<signature_field>(f), t);
        ++scanned;
      }
    const auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    return ns / static_cast<double>(std::max<size_t>(scanned, 1));
  };

  const signature_set all = signature_set::defaults();
  std::vector<std::pair<double, std::string>> costs;
  for (const auto& sig : all.signatures()) {
    signature_set one;
    std::string error;
    one.add_text(sig.id + " " + [&] {
      std::string f;
      for (size_t i = 0; i < signature_field_count; ++i)
        if (sig.fields & field_bit(static_cast<signature_field>(i)))
          f += (f.empty() ? "" : ",") + std::string(to_string(static_cast<signature_field>(i)));
      return f;
    }() + " " + sig.pattern, "one", error);
    costs.emplace_back(cost(one), sig.id);
  }
  std::sort(costs.rbegin(), costs.rend());
  std::cout << path.size() << " paths, " << query.size() << " queries, " << agent.size() << " agents from "
            << argv[1] << "\nall signatures together: " << cost(all) << " ns per text\n";
  for (size_t i = 0; i < costs.size() && i < top; ++i)
    std::cout << "  " << costs[i].second << "  " << costs[i].first << " ns per text\n";
  return 0;
}
