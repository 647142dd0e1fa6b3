#pragma once

#include <string>

namespace vigil {

/// Makes the default logger write one JSON object a line, for machines:
/// `{"time":"2026-12-02T05:20:01.123456Z","level":"info","node":"web-1",
/// "component":"source access","msg":"..."}`. `component` is what the
/// message names before its first ": " (vigil's messages start with the
/// part that speaks: "source access", "sink alerts", "checkpoint 12"),
/// else "vigil"; every string is JSON-escaped.
void use_json_logs(const std::string& node);

/// `text` with JSON's escapes (quote, backslash, control characters), no quotes around it.
std::string json_escaped(const std::string& text);

} // namespace vigil
