// A second opinion on access-log lines: each request of a combined log is
// run through libmodsecurity with the OWASP Core Rule Set (the Debian
// packages libmodsecurity3 and modsecurity-crs), as a WAF in front of the
// server would have seen it: request line, Host, Referer and User-Agent.
// Prints one line per request, "LINE SCORE RULE,RULE,...": the inbound
// anomaly score CRS gave it (a WAF at CRS's defaults blocks at 5) and the
// attack rules that matched (9xxxxx ids outside the bookkeeping ranges).
// On stderr: requests per second, the cost bench/attack_recall.py compares
// with vigil's.
//
//   crs_judge LOG [PARANOIA_LEVEL] [CRS_SETUP] [CRS_RULES_GLOB]
//
// bench/attack_recall.py --judge uses it to tell the lines of CRS's own
// "must not fire" tests that CRS at paranoia level 1 lets through (the
// false-positive set) from those another of its rules blocks.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include <modsecurity/modsecurity.h>
#include <modsecurity/rule_message.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>

#include "clean/path_decoder.hpp"
#include "parse/clf_parser.hpp"

namespace {

struct request {
  std::string method, target, version, referer, agent;
};

/// The field as the client sent it: the `\xHH` escapes of the log undone.
std::string unlogged(std::string_view field) {
  std::string out;
  return vigil::decode_log_escapes(field, out) ? out : std::string(field);
}

/// The request line, Referer and User-Agent of a combined line, read by
/// vigil's own parser (so both judges see the same fields).
bool parse_combined(const std::string& line, vigil::clf_time_cache& times, request& r) {
  vigil::log_event ev;
  if (vigil::parse_clf_line(line, 0, vigil::clf_options{}, times, ev) != vigil::parse_error::none) return false;
  auto field = [&](vigil::text_ref ref) { return std::string_view(line).substr(ref.offset, ref.length); };
  if (ev.flags & vigil::event_flags::request_missing) return false;
  const bool malformed = ev.flags & vigil::event_flags::request_malformed;
  r.method = malformed ? "" : unlogged(field(ev.method));
  r.target = unlogged(field(ev.target));
  const std::string_view protocol = field(ev.protocol);
  r.version = protocol.rfind("HTTP/", 0) == 0 ? std::string(protocol.substr(5)) : "1.1";
  r.referer = ev.flags & vigil::event_flags::referer_missing ? "" : unlogged(field(ev.referer));
  r.agent = ev.flags & vigil::event_flags::agent_missing ? "" : unlogged(field(ev.user_agent));
  return true;
}

/// Rules that score or count, not detect: initialization (901), method and
/// exclusion bookkeeping (905), the blocking evaluations (949, 959) and
/// correlation (980).
bool is_attack_rule(int id) {
  const int family = id / 1000;
  return family >= 910 && family < 949 && family != 912;
}

struct judged {
  std::set<int> rules;
};

void on_log(void* data, const void* message) {
  if (data == nullptr || message == nullptr) return;
  auto* out = static_cast<judged*>(data);
  const auto* m = static_cast<const modsecurity::RuleMessage*>(message);
  if (is_attack_rule(static_cast<int>(m->m_ruleId))) out->rules.insert(static_cast<int>(m->m_ruleId));
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: crs_judge LOG [PARANOIA_LEVEL] [CRS_SETUP] [CRS_RULES_GLOB]\n");
    return 2;
  }
  const std::string log_path = argv[1];
  const int paranoia = argc > 2 ? std::stoi(argv[2]) : 1;
  const std::string setup = argc > 3 ? argv[3] : "/etc/modsecurity/crs/crs-setup.conf";
  const std::string rules_glob = argc > 4 ? argv[4] : "/usr/share/modsecurity-crs/rules/*.conf";

  modsecurity::ModSecurity engine;
  engine.setServerLogCb(on_log, modsecurity::RuleMessageLogProperty);
  auto rules = std::make_unique<modsecurity::RulesSet>();
  // DetectionOnly: every rule runs and is logged; nothing is cut short.
  const std::string config =
    "SecRuleEngine DetectionOnly\n"
    "Include " + setup + "\n"
    "SecAction \"id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=" + std::to_string(paranoia) + "\"\n"
    "Include " + rules_glob + "\n";
  if (rules->load(config.c_str()) < 0) {
    std::fprintf(stderr, "crs_judge: the rules do not load: %s\n", rules->getParserError().c_str());
    return 1;
  }

  std::ifstream in(log_path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "crs_judge: cannot read %s\n", log_path.c_str());
    return 1;
  }
  std::string line;
  vigil::clf_time_cache times;
  size_t n = 0, requests = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::getline(in, line)) {
    ++n;
    request r;
    if (!parse_combined(line, times, r)) {
      std::printf("%zu -1 -\n", n);
      continue;
    }
    judged verdict;
    modsecurity::Transaction t(&engine, rules.get(), &verdict);
    t.processConnection("192.0.2.1", 40000, "127.0.0.1", 80);
    t.processURI(r.target.c_str(), r.method.c_str(), r.version.c_str());
    t.addRequestHeader("Host", "localhost");
    t.addRequestHeader("Accept", "*/*");
    if (!r.agent.empty()) t.addRequestHeader("User-Agent", r.agent);
    if (!r.referer.empty()) t.addRequestHeader("Referer", r.referer);
    t.processRequestHeaders();
    t.processRequestBody();
    const auto score_var = t.m_collections.m_tx_collection->resolveFirst("anomaly_score");
    const std::string score = score_var ? *score_var : "0";
    ++requests;
    std::string ids;
    for (int id : verdict.rules) ids += (ids.empty() ? "" : ",") + std::to_string(id);
    std::printf("%zu %s %s\n", n, score.c_str(), ids.empty() ? "-" : ids.c_str());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "crs_judge: %zu requests in %.3f s: %.0f requests/s, %.1f us each (CRS paranoia %d)\n",
               requests, seconds, requests / seconds, 1e6 * seconds / std::max<size_t>(requests, 1), paranoia);
  return 0;
}
