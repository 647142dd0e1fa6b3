#include "db/row_text.hpp"

#include <nlohmann/json.hpp>

#include "record/record_format.hpp"

namespace vigil {

void append_row_field(std::string& out, std::string_view text) {
  size_t plain = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const char* esc = nullptr;
    switch (c) {
      case '\\': esc = "\\\\"; break;
      case '\t': esc = "\\t"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      default: continue;
    }
    out.append(text.data() + plain, i - plain);
    out += esc;
    plain = i + 1;
  }
  out.append(text.data() + plain, text.size() - plain);
}

std::string record_row_text(const std::vector<size_t>& columns, const event_batch& b, size_t row) {
  const field_value* values = b.records.row(row);
  std::string out, scratch;
  out.reserve(192);
  for (size_t k = 0; k < columns.size(); ++k) {
    if (k > 0) out += '\t';
    if (columns[k] >= b.records.width || values[columns[k]].is_null()) {
      out += "\\N";
      continue;
    }
    append_row_field(out, value_text(values[columns[k]], b.text, scratch));
  }
  return out;
}

namespace {

/// Strings as they are; numbers, booleans and lists (top()) as their JSON
/// text, which is also what SQL reads.
void append_json_field(std::string& out, const nlohmann::json* v) {
  if (!v || v->is_null()) out += "\\N";
  else if (v->is_string()) append_row_field(out, v->get_ref<const std::string&>());
  else append_row_field(out, v->dump());
}

} // namespace

bool window_row_text(const table_spec& t, std::string_view json_line, std::string& out, std::string& error) {
  auto doc = nlohmann::json::parse(json_line, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("window") || !doc["window"].is_object()) {
    error = "not a window result";
    return false;
  }
  const auto& w = doc["window"];
  const nlohmann::json null;
  auto at = [&](const nlohmann::json& obj, const std::string& key) -> const nlohmann::json* {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  };
  out.clear();
  append_json_field(out, at(w, "start"));
  out += '\t';
  append_json_field(out, at(w, "end"));
  const auto& group = doc.contains("group") ? doc["group"] : null;
  const auto& metrics = doc.contains("metrics") ? doc["metrics"] : null;
  for (const auto& g : t.group_fields) {
    out += '\t';
    append_json_field(out, at(group, g));
  }
  for (const auto& m : t.metric_names) {
    out += '\t';
    append_json_field(out, at(metrics, m));
  }
  return true;
}

void split_row_text(std::string_view line, row_fields& out) {
  out.values.clear();
  out.null.clear();
  out.scratch.clear();
  // Unescaped text is never longer than the line: views into scratch
  // stay valid while it fills.
  out.scratch.reserve(line.size());
  size_t start = 0;
  while (true) {
    size_t end = line.find('\t', start);
    if (end == std::string_view::npos) end = line.size();
    std::string_view field = line.substr(start, end - start);
    if (field == "\\N") {
      out.values.emplace_back();
      out.null.push_back(true);
    } else if (field.find('\\') == std::string_view::npos) {
      out.values.push_back(field);
      out.null.push_back(false);
    } else {
      const size_t from = out.scratch.size();
      for (size_t i = 0; i < field.size(); ++i) {
        char c = field[i];
        if (c == '\\' && i + 1 < field.size()) {
          const char n = field[++i];
          c = n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n;
        }
        out.scratch += c;
      }
      out.values.emplace_back(out.scratch.data() + from, out.scratch.size() - from);
      out.null.push_back(false);
    }
    if (end == line.size()) break;
    start = end + 1;
  }
}

} // namespace vigil
