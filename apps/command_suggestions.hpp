#pragma once

#include <string>

namespace CLI {
class App;
}

namespace vigil {

/// When `word` (the first argument) is not a subcommand of `app`: the
/// message "unknown command 'analyse' (did you mean 'analyze'?)"; "" when
/// it is one, or an option.
std::string unknown_command_message(const CLI::App& app, const std::string& word);

/// After CLI11 refused arguments it did not expect: one line per unknown
/// option of the subcommand that was given, with the nearest real one
/// ("unknown option '--htm' for 'analyze' (did you mean '--html'?)").
/// "" when the extras were not options.
std::string unknown_option_message(const CLI::App& app);

} // namespace vigil
