#include "logging/json_log.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string_view>

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

namespace vigil {

namespace {

void append_escaped(std::string_view text, spdlog::memory_buf_t& dest) {
  for (char c : text) {
    switch (c) {
      case '"': dest.append(std::string_view("\\\"")); break;
      case '\\': dest.append(std::string_view("\\\\")); break;
      case '\n': dest.append(std::string_view("\\n")); break;
      case '\r': dest.append(std::string_view("\\r")); break;
      case '\t': dest.append(std::string_view("\\t")); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char u[8];
          std::snprintf(u, sizeof u, "\\u%04x", static_cast<unsigned char>(c));
          dest.append(std::string_view(u));
        } else {
          dest.push_back(c);
        }
    }
  }
}

/// The part of a message before its first ": ", when that reads as a
/// component (short, one or two words); "vigil" otherwise.
std::string_view component_of(std::string_view msg) {
  const auto colon = msg.find(": ");
  if (colon == std::string_view::npos || colon == 0 || colon > 48) return "vigil";
  const std::string_view head = msg.substr(0, colon);
  if (head.find_first_of("\"{}[]") != std::string_view::npos || std::count(head.begin(), head.end(), ' ') > 2)
    return "vigil";
  return head;
}

class message_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    append_escaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<message_flag>(); }
};

class component_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    append_escaped(component_of(std::string_view(msg.payload.data(), msg.payload.size())), dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<component_flag>(); }
};

} // namespace

std::string json_escaped(const std::string& text) {
  spdlog::memory_buf_t buf;
  append_escaped(text, buf);
  return std::string(buf.data(), buf.size());
}

void use_json_logs(const std::string& node) {
  std::string node_text = json_escaped(node);
  std::string percent_safe;
  for (char c : node_text) percent_safe += c == '%' ? std::string("%%") : std::string(1, c);
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<component_flag>('*');
  formatter->add_flag<message_flag>('&');
  formatter->set_pattern("{\"time\":\"%Y-%m-%dT%H:%M:%S.%fZ\",\"level\":\"%l\",\"node\":\"" + percent_safe
                         + "\",\"component\":\"%*\",\"msg\":\"%&\"}");
  spdlog::set_formatter(std::move(formatter));
}

} // namespace vigil
