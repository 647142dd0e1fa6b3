#include "csv/csv.hpp"

namespace vigil {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

} // namespace

std::vector<std::string> split_csv(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  auto finish = [&] {
    out.emplace_back(was_quoted ? std::string_view(cur) : trim(cur));
    cur.clear();
    was_quoted = false;
  };
  for (size_t i = 0; i < line.size(); ++i) {
    char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') cur += '"', ++i;
      else if (ch == '"') quoted = false;
      else cur += ch;
    } else if (ch == '"') {
      quoted = was_quoted = true;
      cur.clear();  // spaces before the opening quote are not the field's
    } else if (ch == ',') {
      finish();
    } else if (!(was_quoted && (ch == ' ' || ch == '\t' || ch == '\r'))) {
      cur += ch;
    }
  }
  finish();
  return out;
}

void append_csv_field(std::string& out, std::string_view field) {
  bool quote = !field.empty() && (field.front() == ' ' || field.back() == ' ');
  for (char c : field)
    if (c == ',' || c == '"' || c == '\n' || c == '\r') quote = true;
  if (!quote) {
    out.append(field);
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

} // namespace vigil
