#include "apps/command_suggestions.hpp"

#include <CLI/CLI.hpp>

#include "settings/did_you_mean.hpp"

namespace vigil {

std::string unknown_command_message(const CLI::App& app, const std::string& word) {
  if (word.empty() || word[0] == '-') return "";
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == word) return "";
    names.push_back(sub->get_name());
  }
  std::string msg = "unknown command '" + word + "'";
  if (word == "version" || word == "help") return msg + " (did you mean 'vigil --" + word + "'?)";
  if (auto best = closest_match(word, names); !best.empty()) return msg + " (did you mean '" + best + "'?)";
  msg += " (commands:";
  for (const auto& n : names) msg += " " + n;
  return msg + ")";
}

std::string unknown_option_message(const CLI::App& app) {
  std::string out;
  auto explain = [&out](const CLI::App& cmd, const std::string& where) {
    std::vector<std::string> names;
    for (const auto* opt : cmd.get_options()) {
      for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
      for (const auto& s : opt->get_snames()) names.push_back("-" + s);
    }
    for (const auto& arg : cmd.remaining()) {
      if (arg.size() < 2 || arg[0] != '-') continue;
      const std::string flag = arg.substr(0, arg.find('='));
      out += "vigil: unknown option '" + flag + "'" + where;
      if (auto best = closest_match(flag, names); !best.empty()) out += " (did you mean '" + best + "'?)";
      out += "\n";
    }
  };
  for (const auto* sub : app.get_subcommands()) explain(*sub, " for 'vigil " + sub->get_name() + "'");
  if (out.empty()) explain(app, "");
  return out;
}

} // namespace vigil
