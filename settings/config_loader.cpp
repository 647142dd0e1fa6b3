#include "settings/config_loader.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>

#include <toml++/toml.h>

#include "record/record_pipeline.hpp"
#include "rules/metric_names.hpp"
#include "rules/rule_engine.hpp"
#include "rules/rule_expression.hpp"
#include "window/declared_metrics.hpp"
#include "settings/cluster_loader.hpp"
#include "settings/byte_size.hpp"
#include "settings/did_you_mean.hpp"
#include "transport/curve_keys.hpp"

extern char** environ;

namespace vigil {

std::string to_string(const config_error& e) {
  return e.where + ": " + (e.key.empty() ? "" : e.key + ": ") + e.message;
}

namespace {

/// The open instances of a sliding window an event is added to (size / slide).
constexpr int64_t max_windows_per_event = 10000;


std::string upper_ident(std::string_view s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
  return out;
}

/// Reads typed values out of TOML tables, recording every problem with the
/// place it came from.
class checker {
public:
  checker(std::string file, std::vector<config_error>& errors,
          const std::map<const toml::node*, std::string>& origins)
    : file_(std::move(file)), errors_(errors), origins_(origins) {}

  std::string where(const toml::node* n) const {
    if (n) {
      if (auto it = origins_.find(n); it != origins_.end()) return it->second;
      const auto& src = n->source();
      if (src.begin.line > 0)
        return file_ + ":" + std::to_string(src.begin.line) + ":" + std::to_string(src.begin.column);
    }
    return file_;
  }

  void error(const toml::node* n, const std::string& key, std::string message) {
    errors_.push_back({where(n), key, std::move(message)});
  }

  /// Reports keys of `t` not in `known`, suggesting the closest.
  void unknown_keys(const toml::table& t, const std::string& path,
                    std::initializer_list<std::string_view> known) {
    for (auto&& [k, v] : t) {
      std::string_view key = k.str();
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string msg = "unknown key";
      std::string_view best;
      size_t best_d = 3;
      for (auto candidate : known) {
        size_t d = edit_distance(key, candidate);
        if (d < best_d) {
          best_d = d;
          best = candidate;
        }
      }
      if (!best.empty()) msg += " (did you mean '" + std::string(best) + "'?)";
      else {
        msg += " (expected one of:";
        for (auto c : known) msg += " " + std::string(c);
        msg += ")";
      }
      error(&v, join(path, key), msg);
    }
  }

  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  bool string(const toml::table& t, std::string_view key, const std::string& path,
              std::string& out, bool required) {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) error(&t, join(path, key), "missing (required)");
      return false;
    }
    if (auto v = n->value<std::string>()) {
      out = *v;
      return true;
    }
    error(n, join(path, key), std::string("expected a string, got ") + type_name(*n));
    return false;
  }

  bool duration(const toml::table& t, std::string_view key, const std::string& path,
                duration_ms& out, bool required) {
    std::string text;
    if (const toml::node* n = t.get(key); n && !n->is_string()) {
      std::string hint;
      if (auto number = n->value<int64_t>()) hint = " (e.g. \"" + std::to_string(*number) + "s\")";
      error(n, join(path, key),
            "expected a duration as a string like \"250ms\", \"30s\", \"1m\", \"2h\" or \"1d\", got "
              + std::string(type_name(*n)) + hint);
      return false;
    }
    if (!string(t, key, path, text, required)) return false;
    if (auto d = parse_duration(text)) {
      out = *d;
      return true;
    }
    error(t.get(key), join(path, key),
          "expected a duration like \"250ms\", \"30s\", \"1m\", \"2h\" or \"1d\", got \"" + text + "\"");
    return false;
  }

  bool boolean(const toml::table& t, std::string_view key, const std::string& path, bool& out) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    if (auto v = n->value<bool>()) {
      out = *v;
      return true;
    }
    error(n, join(path, key), std::string("expected true or false, got ") + type_name(*n));
    return false;
  }

  bool unsigned_integer(const toml::table& t, std::string_view key, const std::string& path,
                        uint64_t& out) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    auto v = n->value<int64_t>();
    if (!v || *v < 1) {
      error(n, join(path, key), "expected a positive integer");
      return false;
    }
    out = static_cast<uint64_t>(*v);
    return true;
  }

  bool string_list(const toml::table& t, std::string_view key, const std::string& path,
                   std::vector<std::string>& out) {
    const toml::node* n = t.get(key);
    if (!n) return false;
    const toml::array* a = n->as_array();
    if (!a) {
      error(n, join(path, key), "expected a list of strings, e.g. [\"ip\"]");
      return false;
    }
    out.clear();
    for (const auto& item : *a) {
      if (auto s = item.value<std::string>()) out.push_back(*s);
      else error(&item, join(path, key), "expected a list of strings, e.g. [\"ip\"]");
    }
    return true;
  }

  template <class E>
  bool choice(const toml::table& t, std::string_view key, const std::string& path, E& out,
              std::initializer_list<std::pair<std::string_view, E>> options, bool required = false) {
    std::string text;
    if (!string(t, key, path, text, required)) return false;
    for (const auto& [name, value] : options)
      if (name == text) {
        out = value;
        return true;
      }
    std::string msg = "unknown value \"" + text + "\" (expected";
    for (const auto& [name, value] : options) msg += " " + std::string(name);
    error(t.get(key), join(path, key), msg + ")");
    return false;
  }

  /// `type = "..."` of a source or sink: a name the contract knows, and one
  /// this build runs (the same table `run` reads).
  template <class E>
  bool kind(const toml::table& t, const std::string& path, E& out, const std::vector<config_kind<E>>& kinds,
            const char* what) {
    std::string text;
    if (!string(t, "type", path, text, true)) return false;
    for (const auto& k : kinds) {
      if (text != k.name) continue;
      out = k.type;  // so the keys checked next are those of this type
      if (!k.built) {
        error(t.get("type"), join(path, "type"),
              std::string(what) + " type \"" + text + "\" is not supported by this build yet (it runs "
                + built_kind_names(kinds) + ")");
        return false;
      }
      return true;
    }
    std::string msg = "unknown value \"" + text + "\" (expected";
    for (const auto& k : kinds) msg += " " + std::string(k.name);
    error(t.get("type"), join(path, "type"), msg + ")");
    return false;
  }

  static const char* type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::table: return "a table";
      case toml::node_type::array: return "a list";
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a number";
      case toml::node_type::boolean: return "a boolean";
      default: return "a date/time";
    }
  }

private:
  std::string file_;
  std::vector<config_error>& errors_;
  const std::map<const toml::node*, std::string>& origins_;
};

/// Deep-merges `overlay` into `base`: tables recursively, section lists
/// ([[source]] ...) entry by entry matched on `name`, anything else replaced.
void merge_overlay(toml::table& base, const toml::table& overlay) {
  for (auto&& [k, v] : overlay) {
    toml::node* existing = base.get(k.str());
    if (existing && existing->is_table() && v.is_table()) {
      merge_overlay(*existing->as_table(), *v.as_table());
    } else if (existing && existing->is_array_of_tables() && v.is_array_of_tables()) {
      auto& into = *existing->as_array();
      for (const auto& entry : *v.as_array()) {
        const toml::table& e = *entry.as_table();
        auto name = e["name"].value<std::string>();
        toml::table* match = nullptr;
        for (auto& candidate : into)
          if (name && candidate.as_table() && (*candidate.as_table())["name"].value<std::string>() == name)
            match = candidate.as_table();
        if (match) merge_overlay(*match, e);
        else into.push_back(e);
      }
    } else {
      base.insert_or_assign(k.str(), v);
    }
  }
}

const std::vector<std::string_view> node_keys = {"name", "state_dir", "http", "checkpoint_interval"};

/// Applies VIGIL_<SECTION>_[<NAME>_]<KEY> overrides to the table.
void apply_variables(toml::table& root, const config_load_options& opts,
                     std::map<const toml::node*, std::string>& origins,
                     std::vector<config_error>& errors) {
  static const std::pair<std::string_view, std::string_view> sections[] = {
    {"SOURCE_", "source"}, {"DIMENSION_", "dimension"}, {"WINDOW_", "window"}, {"RULE_", "rule"}, {"DETECTOR_", "detector"}, {"SINK_", "sink"}};
  for (const auto& [var, value] : opts.variables) {
    if (var.rfind("VIGIL_", 0) != 0 || var == "VIGIL_ENV") continue;
    std::string rest = var.substr(6);
    // A TOML value when the text is one (lists, numbers), else a string.
    toml::table parsed;
    try {
      parsed = toml::parse("v = " + value);
    } catch (const toml::parse_error&) {
      parsed.insert_or_assign("v", value);
    }
    const toml::node& v = *parsed.get("v");
    const std::string origin = "environment " + var;
    auto set = [&](toml::table& t, const std::string& key) {
      auto [it, inserted] = t.insert_or_assign(key, v);
      origins[&it->second] = origin;
    };
    if (rest.rfind("NODE_", 0) == 0) {
      std::string key = rest.substr(5);
      std::transform(key.begin(), key.end(), key.begin(), ::tolower);
      if (!root.get("node") || !root.get("node")->is_table()) root.insert_or_assign("node", toml::table{});
      set(*root.get("node")->as_table(), key);
      continue;
    }
    for (const auto& [prefix, section] : sections) {
      if (rest.rfind(prefix, 0) != 0) continue;
      std::string tail = rest.substr(prefix.size());
      toml::array* entries = root.get(section) ? root.get(section)->as_array() : nullptr;
      // The longest name that starts the variable: VIGIL_SINK_SHOP_MINUTE_PG_DSN
      // is sink shop_minute_pg's dsn even when there is a sink shop_minute.
      toml::table* target = nullptr;
      size_t matched = 0;
      for (size_t i = 0; entries && i < entries->size(); ++i) {
        toml::table* entry = (*entries)[i].as_table();
        auto name = entry ? (*entry)["name"].value<std::string>() : std::nullopt;
        if (!name) continue;
        std::string up = upper_ident(*name) + "_";
        if (tail.rfind(up, 0) != 0 || tail.size() == up.size() || up.size() <= matched) continue;
        target = entry;
        matched = up.size();
      }
      if (target) {
        std::string key = tail.substr(matched);
        std::transform(key.begin(), key.end(), key.begin(), ::tolower);
        set(*target, key);
      }
      const bool found = target != nullptr;
      if (!found)
        errors.push_back({origin, std::string(section),
                          "no " + std::string(section) + " whose upper-cased name starts " + tail});
    }
    // Other VIGIL_* variables (VIGIL_ENV, tool settings) are not overrides.
  }
}

/// The entries of a section list, each with its key path.
template <class F>
void for_each_entry(checker& c, const toml::table& root, std::string_view section, F f) {
  const toml::node* n = root.get(section);
  if (!n) return;
  if (!n->is_array_of_tables()) {
    c.error(n, std::string(section), "expected [[" + std::string(section) + "]] tables");
    return;
  }
  size_t i = 0;
  for (const auto& entry : *n->as_array()) {
    const toml::table& t = *entry.as_table();
    auto name = t["name"].value<std::string>();
    std::string path = std::string(section) + "[" + (name ? *name : std::to_string(i)) + "]";
    f(t, path);
    ++i;
  }
}

void check_unique(checker& c, const toml::table& t, const std::string& path, const std::string& name,
                  std::set<std::string>& seen, const char* what) {
  if (name.empty()) {
    if (t.get("name")) c.error(t.get("name"), path + ".name", "must not be empty");
    // (a missing name was reported as missing already)
  }
  else if (!seen.insert(name).second)
    c.error(t.get("name"), path + ".name", std::string("another ") + what + " has this name");
}

/// What a config describes: one node alone, or a cluster node of a role.
/// An aggregator's input is its agents (no sources of its own); an agent
/// follows files.
enum class node_kind : uint8_t { single, agent, aggregator };

node_kind kind_of(const cluster_node& n) {
  return n.role == node_role::aggregator ? node_kind::aggregator : node_kind::agent;
}


/// Whether `metric` of window `w` adds up over groups (a count or a sum),
/// so a detector may sum it over groups that share fewer fields.
bool summable_metric(const window_config& w, const std::string& metric) {
  for (const auto& [name, expr] : w.metrics)
    if (name == metric) return expr.rfind("count(", 0) == 0 || expr.rfind("sum(", 0) == 0;
  static const std::set<std::string> counts = {"requests", "page_views", "bytes", "status_2xx", "status_3xx",
                                               "status_4xx", "status_5xx", "status_401", "status_403",
                                               "status_404", "probes", "bots"};
  return counts.count(metric) > 0;
}

/// A number key (integer or float) of a table.
bool number_key(checker& c, const toml::table& t, std::string_view key, const std::string& path, double& out) {
  const toml::node* n = t.get(key);
  if (!n) return false;
  if (auto i = n->value<int64_t>()) out = static_cast<double>(*i);
  else if (auto d = n->value<double>()) out = *d;
  else {
    c.error(n, path + "." + std::string(key), "expected a number");
    return false;
  }
  return true;
}

bool bool_key(checker& c, const toml::table& t, std::string_view key, const std::string& path, bool& out) {
  const toml::node* n = t.get(key);
  if (!n) return false;
  if (auto b = n->value<bool>()) {
    out = *b;
    return true;
  }
  c.error(n, path + "." + std::string(key), "expected true or false");
  return false;
}

/// `[[schema]]`, `[[transform]]`, `[[lookup]]` and `[[route]]`: the ETL job.
void validate_etl(const toml::table& root, checker& c, vigil_config& cfg) {
  std::set<std::string> names;
  for_each_entry(c, root, "schema", [&](const toml::table& t, const std::string& path) {
    schema_config sc;
    c.unknown_keys(t, path, {"name", "field", "time_field", "extra", "dedup_key", "dedup_horizon"});
    c.string(t, "name", path, sc.name, true);
    check_unique(c, t, path, sc.name, names, "schema");
    std::set<std::string> fields;
    const toml::node* list = t.get("field");
    if (!list) c.error(&t, path + ".field", "missing: a schema needs [[schema.field]] entries (name, type)");
    else if (!list->is_array_of_tables()) c.error(list, path + ".field", "expected [[schema.field]] tables");
    else
      for (const auto& entry : *list->as_array()) {
        const toml::table& ft = *entry.as_table();
        schema_field f;
        auto fname = ft["name"].value<std::string>();
        const std::string fpath = path + ".field[" + (fname ? *fname : "?") + "]";
        c.unknown_keys(ft, fpath, {"name", "type", "required", "default", "min", "max", "values", "max_length", "trim",
                                   "case", "coerce"});
        c.string(ft, "name", fpath, f.name, true);
        if (!f.name.empty() && !fields.insert(f.name).second)
          c.error(ft.get("name"), fpath + ".name", "another field of this schema has this name");
        c.choice(ft, "type", fpath, f.type,
                 {{"string", field_type::string}, {"int", field_type::integer}, {"float", field_type::number},
                  {"bool", field_type::boolean}, {"timestamp", field_type::timestamp},
                  {"enum", field_type::enumeration}},
                 true);
        bool_key(c, ft, "required", fpath, f.required);
        bool_key(c, ft, "trim", fpath, f.trim);
        bool_key(c, ft, "coerce", fpath, f.coerce);
        c.choice(ft, "case", fpath, f.letter_case,
                 {{"keep", text_case::keep}, {"lower", text_case::lower}, {"upper", text_case::upper}});
        f.has_min = number_key(c, ft, "min", fpath, f.min);
        f.has_max = number_key(c, ft, "max", fpath, f.max);
        if ((f.has_min || f.has_max) && f.type != field_type::integer && f.type != field_type::number)
          c.error(ft.get(f.has_min ? "min" : "max"), fpath + (f.has_min ? ".min" : ".max"), "only int and float fields take a range");
        c.unsigned_integer(ft, "max_length", fpath, f.max_length);
        if (c.string_list(ft, "values", fpath, f.values) && f.type != field_type::enumeration)
          c.error(ft.get("values"), fpath + ".values", "only enum fields take values");
        if (f.type == field_type::enumeration && f.values.empty())
          c.error(&ft, fpath + ".values", "an enum field needs its values, e.g. values = [\"view\", \"click\"]");
        if (const toml::node* d = ft.get("default")) {
          f.has_default = true;
          if (auto v = d->value<std::string>()) f.default_text = *v;
          else if (auto i = d->value<int64_t>()) f.default_text = std::to_string(*i);
          else if (auto x = d->value<double>()) {
            std::ostringstream o;
            o.precision(17);
            o << *x;
            f.default_text = o.str();
          } else if (auto b = d->value<bool>()) f.default_text = *b ? "true" : "false";
          else c.error(d, fpath + ".default", "expected a string, number or boolean");
          if (f.required) c.error(d, fpath + ".default", "a required field has no default (drop one of the two)");
        }
        sc.fields.push_back(std::move(f));
      }
    if (c.string(t, "time_field", path, sc.time_field, false)) {
      auto it = std::find_if(sc.fields.begin(), sc.fields.end(), [&](const auto& f) { return f.name == sc.time_field; });
      if (it == sc.fields.end()) c.error(t.get("time_field"), path + ".time_field", "no field \"" + sc.time_field + "\" in this schema");
      else if (it->type != field_type::timestamp)
        c.error(t.get("time_field"), path + ".time_field", "field \"" + sc.time_field + "\" must be of type timestamp");
    }
    c.choice(t, "extra", path, sc.extra,
             {{"keep", extra_fields::keep}, {"drop", extra_fields::drop}, {"quarantine", extra_fields::quarantine}});
    if (c.string(t, "dedup_key", path, sc.dedup_key, false)
        && std::none_of(sc.fields.begin(), sc.fields.end(), [&](const auto& f) { return f.name == sc.dedup_key; }))
      c.error(t.get("dedup_key"), path + ".dedup_key", "no field \"" + sc.dedup_key + "\" in this schema");
    if (c.duration(t, "dedup_horizon", path, sc.dedup_horizon, false) && sc.dedup_horizon.count() == 0)
      c.error(t.get("dedup_horizon"), path + ".dedup_horizon", "must be above 0 (leave dedup_key out for no dedup)");
    cfg.schemas.push_back(std::move(sc));
  });
  names.clear();
  for_each_entry(c, root, "transform", [&](const toml::table& t, const std::string& path) {
    transform_config tc;
    c.unknown_keys(t, path, {"name", "expr", "sources", "time_zone", "type"});
    c.string(t, "name", path, tc.name, true);
    check_unique(c, t, path, tc.name, names, "transform");
    c.string(t, "expr", path, tc.expr, true);
    c.string_list(t, "sources", path, tc.sources);
    c.string(t, "time_zone", path, tc.time_zone, false);
    if (t.get("type")) {
      field_type type = field_type::string;
      c.choice(t, "type", path, type,
               {{"string", field_type::string}, {"int", field_type::integer}, {"float", field_type::number},
                {"bool", field_type::boolean}, {"timestamp", field_type::timestamp}});
      tc.type = type;
    }
    cfg.transforms.push_back(std::move(tc));
  });
  names.clear();
  for_each_entry(c, root, "lookup", [&](const toml::table& t, const std::string& path) {
    lookup_config l;
    c.unknown_keys(t, path, {"name", "path", "key", "on", "fields", "on_missing"});
    c.string(t, "name", path, l.name, true);
    check_unique(c, t, path, l.name, names, "lookup");
    c.string(t, "path", path, l.path, true);
    if (!c.string_list(t, "key", path, l.key) || l.key.empty())
      c.error(t.get("key") ? t.get("key") : &t, path + ".key", "the key column(s), e.g. key = [\"product_id\"]");
    if (c.string_list(t, "on", path, l.on) && l.on.size() != l.key.size())
      c.error(t.get("on"), path + ".on", "must name one record field per key column");
    if (!c.string_list(t, "fields", path, l.fields) || l.fields.empty())
      c.error(t.get("fields") ? t.get("fields") : &t, path + ".fields", "the columns added to the record, e.g. fields = [\"category\"]");
    c.choice(t, "on_missing", path, l.on_missing,
             {{"keep", missing_key::keep}, {"drop", missing_key::drop}, {"quarantine", missing_key::quarantine}});
    cfg.lookups.push_back(std::move(l));
  });
  names.clear();
  for_each_entry(c, root, "route", [&](const toml::table& t, const std::string& path) {
    route_config r;
    c.unknown_keys(t, path, {"name", "when"});
    c.string(t, "name", path, r.name, true);
    check_unique(c, t, path, r.name, names, "route");
    c.string(t, "when", path, r.when, true);
    cfg.routes.push_back(std::move(r));
  });
  if (cfg.routes.size() > 32) c.error(root.get("route"), "route", "at most 32 routes");
}

/// A table name a database sink writes: letters, digits and '_', as SQL
/// takes it unquoted in either database.
bool sql_identifier(const std::string& name) {
  if (name.empty() || name.size() > 63 || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; });
}

/// The keys of a sqlite or postgres sink; other sinks take none of them.
void check_database_sink(checker& c, const toml::table& t, const std::string& path, sink_config& s,
                         const record_layout& layout) {
  const bool database = s.type == sink_type::sqlite || s.type == sink_type::postgres;
  if (!database) {
    for (const char* key : {"dsn", "table", "key", "create_table", "batch_rows", "flush_interval"})
      if (t.get(key)) c.error(t.get(key), path + "." + key, "only sqlite and postgres sinks take it");
    return;
  }
  if (t.get("dsn") && s.type != sink_type::postgres)
    c.error(t.get("dsn"), path + ".dsn", "only postgres sinks take it (a sqlite sink has path)");
  if (s.input != sink_input::records && s.input != sink_input::window)
    c.error(t.get("input") ? t.get("input") : &t, path + ".input",
            "a database sink writes records (input = \"records\" or \"records:ROUTE\") or window results "
            "(input = \"window:NAME\")");
  s.table = s.name;
  c.string(t, "table", path, s.table, false);
  if (!sql_identifier(s.table))
    c.error(t.get("table") ? t.get("table") : t.get("name"), path + ".table",
            "\"" + s.table + "\" is not a table name (letters, digits and _, at most 63; set table = ...)");
  if (c.string_list(t, "key", path, s.key)) {
    if (s.input != sink_input::records)
      c.error(t.get("key"), path + ".key", "window results always upsert on (window_start, group): only record sinks take key");
    for (const auto& k : s.key) {
      const bool written = s.columns.empty() ? layout.index_of(k).has_value()
                                             : std::find(s.columns.begin(), s.columns.end(), k) != s.columns.end();
      if (!written)
        c.error(t.get("key"), path + ".key", "no written column \"" + k + "\" (" + layout.listing() + ")");
    }
  }
  bool_key(c, t, "create_table", path, s.create_table);
  if (c.unsigned_integer(t, "batch_rows", path, s.batch_rows) && (s.batch_rows == 0 || s.batch_rows > 1000000))
    c.error(t.get("batch_rows"), path + ".batch_rows", "expected 1 to 1000000 rows");
  if (c.duration(t, "flush_interval", path, s.flush_interval, false) && s.flush_interval.count() == 0)
    c.error(t.get("flush_interval"), path + ".flush_interval", "must be above 0");
}

/// The CurveZMQ keys (and `bind`) of a zmq source or sink. `bind` is the
/// default for the socket kind, overridden by the key.
void validate_zmq_socket(checker& c, const toml::table& t, const std::string& path, zmq_socket_config& z) {
  c.boolean(t, "bind", path, z.bind);
  const bool keyed = c.string(t, "curve_secret_key_file", path, z.secret_key_file, false);
  curve_peers& k = z.keys;
  c.string_list(t, "curve_allowed_keys", path, k.allowed_keys);
  c.string(t, "curve_server_key", path, k.server_key, false);
  auto check_key = [&](const std::string& key, const char* name) {
    if (!is_z85_key(key))
      c.error(t.get(name), path + "." + name,
              "not a Curve public key (40 Z85 characters, as `vigil keygen` writes): \"" + key + "\"");
  };
  for (const auto& allowed : k.allowed_keys) check_key(allowed, "curve_allowed_keys");
  if (!k.server_key.empty()) check_key(k.server_key, "curve_server_key");
  if (!keyed) {
    for (const char* key : {"curve_allowed_keys", "curve_server_key"})
      if (t.get(key)) c.error(t.get(key), path + "." + key, "needs curve_secret_key_file (this socket's own key)");
    return;
  }
  if (z.bind && t.get("curve_server_key"))
    c.error(t.get("curve_server_key"), path + ".curve_server_key",
            "a bound socket is the server: it takes curve_allowed_keys (its peers' public keys)");
  if (!z.bind && t.get("curve_allowed_keys"))
    c.error(t.get("curve_allowed_keys"), path + ".curve_allowed_keys",
            "a connecting socket is the client: it takes curve_server_key (the server's public key)");
  if (z.bind && k.allowed_keys.empty())
    c.error(t.get("curve_secret_key_file"), path + ".curve_allowed_keys",
            "missing: with a Curve key, a bound socket lets in only the public keys listed here");
  if (!z.bind && k.server_key.empty())
    c.error(t.get("curve_secret_key_file"), path + ".curve_server_key",
            "missing: a connecting socket needs the public key of the server it connects to");
  curve_key_pair own;
  std::string error;
  if (!read_secret_key_file(z.secret_key_file, own, error)) {
    c.error(t.get("curve_secret_key_file"), path + ".curve_secret_key_file", error);
    return;
  }
  k.public_key = own.public_key;
  k.secret_key = own.secret_key;
}

/// The keys of a `type = "zmq"` source.
void validate_zmq_source(checker& c, const toml::table& t, const std::string& path, source_config& s) {
  if (!s.endpoint.empty() && s.endpoint.rfind("tcp://", 0) != 0 && s.endpoint.rfind("ipc://", 0) != 0)
    c.error(t.get("endpoint"), path + ".endpoint",
            "expected tcp://HOST:PORT (or ipc://PATH), got \"" + s.endpoint + "\"");
  c.choice(t, "socket", path, s.subscriber, {{"pull", false}, {"sub", true}});
  if (c.string_list(t, "subscribe", path, s.topics) && !s.subscriber)
    c.error(t.get("subscribe"), path + ".subscribe", "only a SUB socket (socket = \"sub\") subscribes");
  c.choice(t, "encoding", path, s.msgpack, {{"json", false}, {"msgpack", true}});
  if (c.unsigned_integer(t, "max_frame_bytes", path, s.max_frame_bytes) && s.max_frame_bytes > (1ull << 30))
    c.error(t.get("max_frame_bytes"), path + ".max_frame_bytes", "at most 1073741824 (1 GiB)");
  if (!t.get("schema")) c.error(&t, path + ".schema", "a zmq source takes JSON events: it needs a schema");
  s.zmq.bind = !s.subscriber;
  validate_zmq_socket(c, t, path, s.zmq);
}

vigil_config validate(const toml::table& root, checker& c, node_kind kind = node_kind::single) {
  const bool needs_source = kind != node_kind::aggregator;
  vigil_config cfg;
  c.unknown_keys(root, "", {"node", "source", "dimension", "schema", "transform", "lookup", "route", "window", "rule", "detector",
                            "sink", "environment", "cluster"});

  // -- node --
  if (const toml::table* node = root["node"].as_table()) {
    c.unknown_keys(*node, "node", {"name", "state_dir", "http", "checkpoint_interval"});
    c.string(*node, "name", "node", cfg.node.name, true);
    c.string(*node, "state_dir", "node", cfg.node.state_dir, true);
    if (c.string(*node, "http", "node", cfg.node.http, false) && !cfg.node.http.empty()) {
      auto colon = cfg.node.http.rfind(':');
      int port = colon == std::string::npos ? 0 : std::atoi(cfg.node.http.c_str() + colon + 1);
      if (colon == std::string::npos || colon == 0 || port < 1 || port > 65535)
        c.error(node->get("http"), "node.http",
                "expected HOST:PORT (e.g. \"127.0.0.1:9464\"), or \"\" to turn it off");
    }
    // "0s": no periodic checkpoints (a graceful stop still writes one).
    c.duration(*node, "checkpoint_interval", "node", cfg.node.checkpoint_interval, false);
  } else {
    c.error(&root, "node", "missing [node] table (name, state_dir)");
  }

  // -- sources --
  std::set<std::string> names;
  for_each_entry(c, root, "source", [&](const toml::table& t, const std::string& path) {
    source_config s;
    c.unknown_keys(t, path, {"name", "type", "path", "endpoint", "format", "time_unit", "start_at",
                             "max_line_bytes", "dedup_horizon", "max_future", "parse_workers", "schema", "filter", "listen",
                             "max_body_bytes", "bearer_token", "ack", "socket", "bind", "subscribe", "encoding",
                             "max_frame_bytes", "curve_secret_key_file", "curve_allowed_keys", "curve_server_key"});
    c.string(t, "name", path, s.name, true);
    check_unique(c, t, path, s.name, names, "source");
    if (c.kind(t, path, s.type, source_kinds(), "source") && kind == node_kind::agent && s.type != source_type::file)
      c.error(t.get("type"), path + ".type",
              std::string("an agent follows files: type \"") + to_string(s.type) + "\" runs on a single node");
    if (s.type == source_type::file) c.string(t, "path", path, s.path, true);
    if (s.type == source_type::zmq) c.string(t, "endpoint", path, s.endpoint, true);
    for (const char* key : {"listen", "max_body_bytes", "bearer_token", "ack"})
      if (t.get(key) && s.type != source_type::http)
        c.error(t.get(key), path + "." + key, "only http sources take it");
    if (s.type == source_type::zmq) validate_zmq_source(c, t, path, s);
    else
      for (const char* key : {"socket", "bind", "subscribe", "encoding", "max_frame_bytes", "curve_secret_key_file",
                              "curve_allowed_keys", "curve_server_key"})
        if (t.get(key)) c.error(t.get(key), path + "." + key, "only zmq sources take it");
    if (s.type == source_type::http) {
      if (c.string(t, "listen", path, s.listen, false)) {
        const auto colon = s.listen.rfind(':');
        const int port = colon == std::string::npos ? -1 : std::atoi(s.listen.c_str() + colon + 1);
        if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535)
          c.error(t.get("listen"), path + ".listen", "expected HOST:PORT, e.g. \"127.0.0.1:9480\"");
      }
      if (c.unsigned_integer(t, "max_body_bytes", path, s.max_body_bytes) && s.max_body_bytes > (1ull << 30))
        c.error(t.get("max_body_bytes"), path + ".max_body_bytes", "at most 1073741824 (1 GiB)");
      c.string(t, "bearer_token", path, s.bearer_token, false);
      c.choice(t, "ack", path, s.ack_checkpoint, {{"pipeline", false}, {"checkpoint", true}});
      if (!t.get("schema")) c.error(&t, path + ".schema", "an http source takes JSON events: it needs a schema");
    }
    c.choice(t, "format", path, s.format,
             {{"auto", log_format::auto_detect}, {"common", log_format::common},
              {"combined", log_format::combined}, {"combined_rt", log_format::combined_rt},
              {"json", log_format::json}});
    c.choice(t, "time_unit", path, s.request_time_unit,
             {{"auto", time_unit::auto_detect}, {"s", time_unit::seconds},
              {"ms", time_unit::milliseconds}, {"us", time_unit::microseconds}});
    c.choice(t, "start_at", path, s.start_at,
             {{"beginning", start_position::beginning}, {"end", start_position::end}});
    if (c.unsigned_integer(t, "max_line_bytes", path, s.max_line_bytes)
        && (s.max_line_bytes < 256 || s.max_line_bytes > (64u << 20)))
      c.error(t.get("max_line_bytes"), path + ".max_line_bytes", "must be between 256 and 67108864");
    c.duration(t, "dedup_horizon", path, s.dedup_horizon, false);
    c.duration(t, "max_future", path, s.max_future, false);
    if (c.unsigned_integer(t, "parse_workers", path, s.parse_workers) && (s.parse_workers < 1 || s.parse_workers > 64))
      c.error(t.get("parse_workers"), path + ".parse_workers", "must be between 1 and 64");
    if (c.string(t, "schema", path, s.schema, false)) {
      if (t.get("format") && s.format != log_format::json)
        c.error(t.get("format"), path + ".format", "a source with a schema reads JSON events: format = \"json\" or none");
      s.format = log_format::json;
    }
    if (c.string(t, "filter", path, s.filter, false) && s.schema.empty())
      c.error(t.get("filter"), path + ".filter", "only a source with a schema (JSON events) takes a filter");
    cfg.sources.push_back(std::move(s));
  });
  if (cfg.sources.empty() && needs_source) c.error(&root, "source", "no [[source]]: a node needs at least one");

  // -- dimension tables --
  names.clear();
  std::set<std::string> dimension_fields;
  for_each_entry(c, root, "dimension", [&](const toml::table& t, const std::string& path) {
    dimension_config d;
    c.unknown_keys(t, path, {"name", "path", "fields"});
    c.string(t, "name", path, d.name, true);
    check_unique(c, t, path, d.name, names, "dimension");
    c.string(t, "path", path, d.path, true);
    if (!t.get("fields")) c.error(&t, path + ".fields", "missing: the CSV columns after cidr");
    else if (c.string_list(t, "fields", path, d.fields)) {
      if (d.fields.empty()) c.error(t.get("fields"), path + ".fields", "must name at least one column");
      const auto& builtin = groupable_fields();
      for (const auto& f : d.fields)
        if (std::find(builtin.begin(), builtin.end(), f) != builtin.end() || !dimension_fields.insert(f).second)
          c.error(t.get("fields"), path + ".fields", "field \"" + f + "\" is already an event field");
    }
    cfg.dimensions.push_back(std::move(d));
  });

  for (const auto& s : cfg.sources)
    if (s.ack_checkpoint && cfg.node.checkpoint_interval.count() == 0)
      c.error(&root, "source[" + s.name + "].ack",
              "ack = \"checkpoint\" needs checkpoints: set node.checkpoint_interval above 0s");

  // -- the ETL job --
  validate_etl(root, c, cfg);
  for (auto& s : cfg.sources) {
    if (s.schema.empty()) continue;
    auto sc = std::find_if(cfg.schemas.begin(), cfg.schemas.end(), [&](const auto& x) { return x.name == s.schema; });
    if (sc == cfg.schemas.end()) {
      std::string defined;
      for (const auto& x : cfg.schemas) defined += (defined.empty() ? "" : ", ") + x.name;
      c.error(&root, "source[" + s.name + "].schema",
              "no schema named \"" + s.schema + "\" (" + (defined.empty() ? "none defined" : "defined: " + defined) + ")");
    } else if (!sc->dedup_key.empty()) {
      s.dedup_horizon = sc->dedup_horizon;  // one filter per source, keyed on the field
    }
  }
  std::string layout_error;
  const record_layout layout = record_layout::of(cfg, &layout_error);
  if (!layout_error.empty()) c.error(&root, "schema", layout_error);

  // -- windows --
  names.clear();
  for_each_entry(c, root, "window", [&](const toml::table& t, const std::string& path) {
    window_config w;
    c.unknown_keys(t, path, {"name", "type", "size", "slide", "gap", "group_by",
                             "allowed_lateness", "max_groups", "max_state_bytes", "metrics"});
    if (const toml::node* m = t.get("metrics")) {
      if (!m->is_table()) {
        c.error(m, path + ".metrics", "expected a table of NAME = \"expression\", e.g. { orders = \"count()\" }");
      } else {
        for (auto&& [k, v] : *m->as_table()) {
          if (auto text = v.value<std::string>()) w.metrics.emplace_back(std::string(k.str()), *text);
          else c.error(&v, path + ".metrics." + std::string(k.str()), "expected an expression in a string");
        }
        if (cfg.schemas.empty()) c.error(m, path + ".metrics", "declared metrics are over records: define a [[schema]] and a source using it");
        std::string err;
        if (!w.metrics.empty() && !metric_plan::compile(w.metrics, layout, err))
          c.error(m, path + "." + err.substr(0, err.find(':')), err.substr(err.find(':') + 2));
      }
    }
    c.string(t, "name", path, w.name, true);
    check_unique(c, t, path, w.name, names, "window");
    c.choice(t, "type", path, w.type,
             {{"tumbling", window_type::tumbling}, {"sliding", window_type::sliding},
              {"session", window_type::session}});
    if (w.type == window_type::session) {
      c.duration(t, "gap", path, w.gap, true);
    } else if (c.duration(t, "size", path, w.size, true) && w.size.count() == 0) {
      c.error(t.get("size"), path + ".size", "must be above 0");
    }
    if (w.type == window_type::sliding && c.duration(t, "slide", path, w.slide, true)) {
      if (w.slide.count() == 0 || w.size.count() % w.slide.count() != 0)
        c.error(t.get("slide"), path + ".slide",
                "must be above 0 and divide size (" + format_duration(w.size) + ")");
      else if (const auto per_event = w.size.count() / w.slide.count(); per_event > max_windows_per_event)
        // Each event is added to every instance it falls in: a slide that
        // is a typo ("1ms" for "1m") would cost memory without bound.
        c.error(t.get("slide"), path + ".slide",
                "size " + format_duration(w.size) + " over slide " + format_duration(w.slide) + " puts each event in "
                  + std::to_string(per_event) + " windows; at most " + std::to_string(max_windows_per_event)
                  + " (a larger slide, or a smaller size)");
    }
    if (c.string_list(t, "group_by", path, w.group_by))
      for (const auto& field : w.group_by) {
        const auto& ok = groupable_fields();
        if (std::find(ok.begin(), ok.end(), field) == ok.end() && !dimension_fields.count(field)
            && !(!w.metrics.empty() && layout.index_of(field))) {
          std::string msg = "unknown event field \"" + field + "\" (expected";
          for (const auto& f : ok) msg += " " + f;
          for (const auto& f : dimension_fields) msg += " " + f;
          if (!w.metrics.empty())
            for (const auto& f : layout.fields()) msg += " " + f.name;
          c.error(t.get("group_by"), path + ".group_by", msg + ")");
        }
      }
    c.duration(t, "allowed_lateness", path, w.allowed_lateness, false);
    c.unsigned_integer(t, "max_groups", path, w.max_groups);
    if (const toml::node* n = t.get("max_state_bytes")) {
      std::string text;
      c.string(t, "max_state_bytes", path, text, false);
      if (auto bytes = parse_byte_size(text); bytes && *bytes >= (1u << 20))
        w.max_state_bytes = *bytes;
      else if (n->is_string())
        c.error(n, path + ".max_state_bytes", "expected a size of at least 1MiB (\"1GiB\", \"256MB\"), got \"" + text + "\"");
    }
    cfg.windows.push_back(std::move(w));
  });
  auto window_exists = [&](const std::string& name) {
    return std::any_of(cfg.windows.begin(), cfg.windows.end(),
                       [&](const window_config& w) { return w.name == name; });
  };
  auto window_list = [&] {
    std::string s;
    for (const auto& w : cfg.windows) s += (s.empty() ? "" : ", ") + w.name;
    return s.empty() ? std::string("none defined") : "defined: " + s;
  };

  // -- rules --
  names.clear();
  for_each_entry(c, root, "rule", [&](const toml::table& t, const std::string& path) {
    rule_config r;
    c.unknown_keys(t, path, {"name", "window", "when", "severity", "at"});
    c.string(t, "name", path, r.name, true);
    check_unique(c, t, path, r.name, names, "rule");
    if (c.string(t, "window", path, r.window, true) && !window_exists(r.window))
      c.error(t.get("window"), path + ".window", "no window named \"" + r.window + "\" (" + window_list() + ")");
    for (const auto& w : cfg.windows)
      if (w.name == r.window) {
        for (const auto& [m, expr] : w.metrics) r.metric_names.push_back(m);
        if (w.metrics.empty()) r.metric_names = window_metric_names();
        r.metric_names = with_previous(r.metric_names);
      }
    c.choice(t, "at", path, r.at_close, {{"change", false}, {"close", true}});
    if (c.string(t, "when", path, r.when, true)) {
      std::string err;
      if (!rule_expression::compile(r.when, err, r.metric_names)) c.error(t.get("when"), path + ".when", err);
    }
    c.choice(t, "severity", path, r.level,
             {{"info", severity::info}, {"warning", severity::warning},
              {"critical", severity::critical}});
    cfg.rules.push_back(std::move(r));
  });

  // -- detectors --
  for_each_entry(c, root, "detector", [&](const toml::table& t, const std::string& path) {
    detector_config d;
    c.unknown_keys(t, path, {"name", "window", "metric", "group_by", "max_series", "method", "learn", "threshold",
                             "suppress", "severity"});
    c.string(t, "name", path, d.name, true);
    // Detectors alert as rules do: one name space, so an alert's `rule` says which.
    check_unique(c, t, path, d.name, names, "rule or detector");
    const window_config* w = nullptr;
    if (c.string(t, "window", path, d.window, true)) {
      for (const auto& x : cfg.windows)
        if (x.name == d.window) w = &x;
      if (!w) c.error(t.get("window"), path + ".window", "no window named \"" + d.window + "\" (" + window_list() + ")");
    }
    if (c.string(t, "metric", path, d.metric, true) && w) {
      std::vector<std::string> known;
      for (const auto& [m, expr] : w->metrics) known.push_back(m);
      if (w->metrics.empty()) known = window_metric_names();
      if (std::find(known.begin(), known.end(), d.metric) == known.end()) {
        std::string list;
        for (const auto& m : known) list += " " + m;
        c.error(t.get("metric"), path + ".metric",
                "window \"" + d.window + "\" has no metric \"" + d.metric + "\" (it has" + list + ")");
      }
    }
    if (c.string_list(t, "group_by", path, d.group_by)) {
      d.group_by_set = true;
      for (const auto& f : d.group_by)
        if (w && std::find(w->group_by.begin(), w->group_by.end(), f) == w->group_by.end())
          c.error(t.get("group_by"), path + ".group_by",
                  "\"" + f + "\" is not one of window \"" + d.window + "\"'s group_by fields (a detector's series are "
                  "its groups, or groups summed over fewer fields)");
    } else if (w) {
      d.group_by = w->group_by;
    }
    if (w && d.group_by.size() < w->group_by.size() && !d.metric.empty() && !summable_metric(*w, d.metric))
      c.error(t.get("group_by"), path + ".group_by",
              "\"" + d.metric + "\" does not add up over groups: with fewer group_by fields than the window's, the "
              "metric must be a count or a sum (requests, bytes, status_*, count(), sum(x))");
    c.unsigned_integer(t, "max_series", path, d.max_series);
    std::string method = to_string(d.params.method);
    if (c.string(t, "method", path, method, false)) {
      if (auto m = parse_detector_method(method)) d.params.method = *m;
      else c.error(t.get("method"), path + ".method",
                   "unknown method \"" + method + "\" (expected " + detector_method_names() + ")");
    }
    if (const toml::node* n = t.get("learn")) {
      auto v = n->value<int64_t>();
      if (!v || *v < 0 || *v > 1000000) c.error(n, path + ".learn", "expected a count of points from 0 to 1000000");
      else d.params.learn = static_cast<uint32_t>(*v);
    }
    if (number_key(c, t, "threshold", path, d.params.threshold)
        && !(d.params.threshold > 0 && d.params.threshold <= 1))
      c.error(t.get("threshold"), path + ".threshold", "expected an anomaly score above 0 and at most 1");
    duration_ms suppress{d.params.suppress_ms};
    if (c.duration(t, "suppress", path, suppress, false)) d.params.suppress_ms = suppress.count();
    c.choice(t, "severity", path, d.level,
             {{"info", severity::info}, {"warning", severity::warning}, {"critical", severity::critical}});
    for (const auto& other : cfg.detectors)
      if (other.window == d.window && other.metric == d.metric && !d.metric.empty())
        c.error(t.get("metric"), path + ".metric",
                "detector \"" + other.name + "\" already watches " + d.metric + " of window \"" + d.window
                  + "\" (its results carry one anomaly_score_" + d.metric + ")");
    cfg.detectors.push_back(std::move(d));
  });

  // -- sinks --
  names.clear();
  std::string quarantine_sink;
  for_each_entry(c, root, "sink", [&](const toml::table& t, const std::string& path) {
    sink_config s;
    c.unknown_keys(t, path, {"name", "type", "input", "path", "url", "repeat_interval", "group_wait",
                             "resend_interval", "timeout", "max_attempts", "queue_limit", "columns", "rotate",
                             "bind", "curve_secret_key_file", "curve_allowed_keys", "curve_server_key", "dsn",
                             "table", "key", "create_table", "batch_rows", "flush_interval", "max_bytes"});
    c.string(t, "name", path, s.name, true);
    check_unique(c, t, path, s.name, names, "sink");
    c.kind(t, path, s.type, sink_kinds(), "sink");
    std::string input = "alerts";
    c.string(t, "input", path, input, false);
    if (input == "alerts") s.input = sink_input::alerts;
    else if (input == "records" || input.rfind("records:", 0) == 0) {
      s.input = sink_input::records;
      if (input.size() > 8) {
        s.route = input.substr(8);
        if (std::none_of(cfg.routes.begin(), cfg.routes.end(), [&](const auto& r) { return r.name == s.route; }))
          c.error(t.get("input"), path + ".input", "no route named \"" + s.route + "\" ([[route]] name, when)");
      }
      if (cfg.schemas.empty())
        c.error(t.get("input"), path + ".input", "records come from a source with a [[schema]]; this config has none");
    }
    else if (input == "quarantine") {
      s.input = sink_input::quarantine;
      // One writer per node keeps the quarantine in read order and checkpointed.
      if (!quarantine_sink.empty())
        c.error(t.get("input"), path + ".input", "a node has one quarantine sink; \"" + quarantine_sink + "\" is it");
      else quarantine_sink = s.name;
    } else if (input == "attacks") {
      s.input = sink_input::attacks;
      if (s.type != sink_type::jsonl && s.type != sink_type::console && s.type != sink_type::zmq)
        c.error(t.get("input"), path + ".input",
                "attack requests are JSON lines: a jsonl, console or zmq sink writes them");
    } else if (input.rfind("window:", 0) == 0) {
      s.input = sink_input::window;
      s.window = input.substr(7);
      if (!window_exists(s.window))
        c.error(t.get("input"), path + ".input", "no window named \"" + s.window + "\" (" + window_list() + ")");
    } else {
      c.error(t.get("input"), path + ".input",
              "unknown input \"" + input + "\" (expected alerts, attacks, records, quarantine or window:NAME)");
    }
    switch (s.type) {
      case sink_type::jsonl:
      case sink_type::csv:
      case sink_type::sqlite: c.string(t, "path", path, s.path, true); break;
      case sink_type::postgres:
        if (!c.string(t, "dsn", path, s.dsn, false))
          c.error(&t, path + ".dsn",
                  "missing: a postgres sink needs its connection string, dsn = \"host=... dbname=...\" (or "
                  "VIGIL_SINK_" + upper_ident(s.name) + "_DSN in the environment)");
        break;
      case sink_type::webhook:
      case sink_type::alertmanager:
      case sink_type::zmq: c.string(t, "url", path, s.url, true); break;
      case sink_type::console: break;
    }
    if (s.input == sink_input::quarantine) s.max_bytes = 1ull << 30;
    if (const toml::node* n = t.get("max_bytes")) {
      std::string text;
      c.string(t, "max_bytes", path, text, false);
      if (s.type != sink_type::jsonl && s.type != sink_type::csv)
        c.error(n, path + ".max_bytes", "only jsonl and csv sinks (files) take it");
      else if (text == "0")
        s.max_bytes = 0;
      else if (auto bytes = parse_byte_size(text); bytes && *bytes >= 4096)
        s.max_bytes = *bytes;
      else if (n->is_string())
        c.error(n, path + ".max_bytes", "expected a size of at least 4KiB (\"1GiB\", \"500MB\") or \"0\" (no bound), got \""
                                          + text + "\"");
    }
    if (const toml::node* n = t.get("rotate")) {
      std::string text;
      c.string(t, "rotate", path, text, false);
      if (s.type != sink_type::jsonl && s.type != sink_type::csv)
        c.error(n, path + ".rotate", "only jsonl and csv sinks (files) rotate");
      else if (auto d = parse_duration(text); d && d->count() >= 1000)
        s.rotate_every = *d;
      else if (auto bytes = parse_byte_size(text); bytes && *bytes >= 4096)
        s.rotate_bytes = *bytes;
      else if (n->is_string())
        c.error(n, path + ".rotate",
                "expected a period of at least 1s (\"1h\", \"1d\") or a size of at least 4KiB (\"100MB\", "
                "\"1GiB\"), got \"" + text + "\"");
    }
    if (s.type == sink_type::zmq) {
      if (!s.url.empty() && s.url.rfind("tcp://", 0) != 0 && s.url.rfind("ipc://", 0) != 0)
        c.error(t.get("url"), path + ".url", "expected tcp://HOST:PORT (or ipc://PATH), got \"" + s.url + "\"");
      s.zmq.bind = false;
      validate_zmq_socket(c, t, path, s.zmq);
    } else {
      for (const char* key : {"bind", "curve_secret_key_file", "curve_allowed_keys", "curve_server_key"})
        if (t.get(key)) c.error(t.get(key), path + "." + key, "only zmq sinks take it");
    }
    if (s.type == sink_type::csv && s.input != sink_input::records)
      c.error(t.get("type"), path + ".type", "a csv sink writes records (input = \"records\" or \"records:ROUTE\")");
    const bool database = s.type == sink_type::sqlite || s.type == sink_type::postgres;
    if (c.string_list(t, "columns", path, s.columns)) {
      if (s.type != sink_type::csv && !(database && s.input == sink_input::records))
        c.error(t.get("columns"), path + ".columns", "only csv sinks and database sinks of records take columns");
      for (const auto& col : s.columns)
        if (!layout.index_of(col))
          c.error(t.get("columns"), path + ".columns", "no record field \"" + col + "\" (" + layout.listing() + ")");
    }
    check_database_sink(c, t, path, s, layout);
    const bool alerts = s.input == sink_input::alerts;
    for (const char* key : {"repeat_interval", "group_wait"})
      if (t.get(key) && !alerts) c.error(t.get(key), path + "." + key, "only alert sinks (input = \"alerts\") take it");
    c.duration(t, "repeat_interval", path, s.repeat_interval, false);
    c.duration(t, "group_wait", path, s.group_wait, false);
    if ((s.type == sink_type::webhook || s.type == sink_type::alertmanager) && !s.url.empty()
        && s.url.rfind("http://", 0) != 0 && s.url.rfind("https://", 0) != 0)
      c.error(t.get("url"), path + ".url", "expected an http:// or https:// URL, got \"" + s.url + "\"");
    if (t.get("resend_interval") && s.type != sink_type::alertmanager)
      c.error(t.get("resend_interval"), path + ".resend_interval", "only alertmanager sinks take it");
    if (t.get("repeat_interval") && s.type == sink_type::alertmanager)
      c.error(t.get("repeat_interval"), path + ".repeat_interval",
              "an alertmanager sink re-sends firing alerts every resend_interval (default 1m) instead");
    if (c.duration(t, "resend_interval", path, s.resend_interval, false) && s.resend_interval.count() == 0)
      c.error(t.get("resend_interval"), path + ".resend_interval", "must be above 0");
    for (const char* key : {"timeout", "max_attempts", "queue_limit"})
      if (t.get(key) && s.type != sink_type::webhook && s.type != sink_type::alertmanager)
        c.error(t.get(key), path + "." + key, "only webhook and alertmanager sinks take it");
    if (c.duration(t, "timeout", path, s.timeout, false) && s.timeout.count() == 0)
      c.error(t.get("timeout"), path + ".timeout", "must be above 0");
    if (c.unsigned_integer(t, "max_attempts", path, s.max_attempts) && s.max_attempts == 0)
      c.error(t.get("max_attempts"), path + ".max_attempts", "must be at least 1");
    if (c.unsigned_integer(t, "queue_limit", path, s.queue_limit) && s.queue_limit == 0)
      c.error(t.get("queue_limit"), path + ".queue_limit", "must be at least 1");
    cfg.sinks.push_back(std::move(s));
  });

  // The ETL steps of each schema source, compiled as `run` compiles them.
  if (layout_error.empty())
    for (const auto& s : cfg.sources) {
      if (s.schema.empty()
          || std::none_of(cfg.schemas.begin(), cfg.schemas.end(), [&](const auto& x) { return x.name == s.schema; }))
        continue;
      std::string err;
      if (record_plan::make(cfg, s, err)) continue;
      // "transform[total].expr: ..." -> that key's line.
      const toml::node* at = &root;
      const std::string key = err.substr(0, err.find(": "));
      for (const char* section : {"transform", "route", "lookup", "source"}) {
        if (key.rfind(std::string(section) + "[", 0) != 0) continue;
        const std::string name = key.substr(std::strlen(section) + 1, key.find(']') - std::strlen(section) - 1);
        if (const toml::array* a = root[section].as_array())
          for (const auto& e : *a)
            if (const toml::table* et = e.as_table(); et && (*et)["name"].value<std::string>() == name) {
              const std::string field = key.substr(key.find("].") + 2);
              at = et->get(field) ? et->get(field) : et;
            }
      }
      c.error(at, key, err.substr(err.find(": ") + 2));
    }
  return cfg;
}

config_load_result load_table(toml::table root, const std::string& name, const config_load_options& opts) {
  config_load_result result;
  std::map<const toml::node*, std::string> origins;
  checker c(name, result.errors, origins);
  if (!opts.environment.empty()) {
    const toml::table* envs = root["environment"].as_table();
    const toml::table* overlay = envs ? (*envs)[opts.environment].as_table() : nullptr;
    if (!overlay) {
      std::string defined;
      if (envs)
        for (auto&& [k, v] : *envs) defined += (defined.empty() ? "" : ", ") + std::string(k.str());
      c.error(&root, "environment",
              "environment \"" + opts.environment + "\" is not defined in the file ("
                + (defined.empty() ? "none is" : "defined: " + defined) + ")");
    } else {
      toml::table copy = *overlay;
      merge_overlay(root, copy);
    }
  }
  if (!root.get("cluster")) {
    if (!opts.node.empty()) {
      if (!root.get("node") || !root.get("node")->is_table()) root.insert_or_assign("node", toml::table{});
      root.get("node")->as_table()->insert_or_assign("name", opts.node);
    }
    apply_variables(root, opts, origins, result.errors);
    vigil_config cfg = validate(root, c);
    cfg.file = name;
    cfg.environment = opts.environment;
    if (result.errors.empty()) result.config = std::move(cfg);
    return result;
  }
  // A cluster: each node is the shared config seen through its entry.
  // With --node, that node; without, every node is checked.
  const cluster_config cluster = read_cluster(root, name, result.errors);
  std::vector<const cluster_node*> selected;
  std::string defined;
  for (const auto& n : cluster.nodes) {
    defined += (defined.empty() ? "" : ", ") + n.name;
    if (opts.node.empty() || opts.node == n.name) selected.push_back(&n);
  }
  if (!opts.node.empty() && selected.empty())
    c.error(root.get("cluster"), "--node", "no node \"" + opts.node + "\" in the cluster (defined: " + defined + ")");
  std::optional<vigil_config> first;
  // Each aggregator writes the results of its own partition: two writing
  // one file would interleave them and cut each other back on restart.
  std::map<std::string, std::string> sink_writer;  // path -> aggregator
  const auto aggregators = aggregator_names(cluster);
  auto own_sinks = [&](const cluster_node& node, const vigil_config& cfg) {
    if (node.role != node_role::aggregator) return;
    for (const auto& s : cfg.sinks) {
      // Agents send their batches' events, not attack lines (and none at all when they pre-aggregate).
      if (s.input == sink_input::attacks)
        c.error(root.get("cluster"), "cluster.node[" + node.name + "].sink",
                "sink " + s.name + " writes attack requests, which only a single node writes so far "
                "(vigil run without [cluster]); the aggregators' security windows count them");
      // Every aggregator sees every record (each keeps its own groups of
      // the windows): one writes them, or a fleet would write each twice.
      if (s.input == sink_input::records && !aggregators.empty() && node.name != aggregators.front())
        c.error(root.get("cluster"), "cluster.node[" + node.name + "].sink",
                "sink " + s.name + " writes records, which aggregator " + aggregators.front() +
                  " writes: record sinks go on the first aggregator only");
      if (s.type != sink_type::jsonl && s.type != sink_type::csv) continue;
      auto [it, fresh] = sink_writer.emplace(s.path, node.name);
      if (!fresh && it->second != node.name)
        c.error(root.get("cluster"), "cluster.node[" + node.name + "].sink",
                "sink " + s.name + " writes " + s.path + ", as aggregator " + it->second +
                  " does: with several aggregators, give each its own sinks ([[cluster.node.sink]])");
    }
  };
  // Nodes on one host cannot listen on one port: the defaults count too
  // (every node's http defaults to 127.0.0.1:9464).
  std::vector<listen_address> listening;
  auto own_ports = [&](const cluster_node& node, const vigil_config& cfg) {
    bool http_set = root["node"]["http"].is_value();
    if (const auto* nodes = root["cluster"]["node"].as_array())
      for (const auto& entry : *nodes)
        if (const auto* t = entry.as_table(); t && (*t)["name"].value<std::string>() == node.name && t->get("http"))
          http_set = true;
    for (auto a : listen_addresses(node, cfg, !http_set)) {
      for (const auto& b : listening)
        if (b.node != a.node && listen_clash(a, b)
            && !(a.key == "endpoint" && b.key == "endpoint" && a.host == b.host)) {  // read_cluster said it
          c.error(root.get("cluster"), "cluster.node[" + a.node + "]." + a.key,
                  a.host + ":" + std::to_string(a.port) + " clashes with " + b.key + " of node " + b.node + " ("
                    + b.host + ":" + std::to_string(b.port) + ") on the same host"
                    + (a.defaulted || b.defaulted ? " (the default: set http for each node)" : ""));
          break;
        }
      listening.push_back(std::move(a));
    }
  };
  for (const cluster_node* node : selected) {
    toml::table view = node_view(root, node->name);
    apply_variables(view, opts, origins, result.errors);
    vigil_config cfg = validate(view, c, kind_of(*node));
    cfg.file = name;
    cfg.environment = opts.environment;
    cfg.cluster = cluster;
    if (!opts.node.empty()) {
      const std::string key_problem = check_secret_key(*node);
      if (!key_problem.empty())
        c.error(root.get("cluster"), "cluster.node[" + node->name + "].secret_key_file", key_problem);
    }
    own_sinks(*node, cfg);
    own_ports(*node, cfg);
    if (!first) first = std::move(cfg);
  }
  // With --node, the others' views too: an aggregator needs its agents'
  // sources. They are checked, not their secret keys (not on this host).
  if (!opts.node.empty())
    for (const auto& n : cluster.nodes) {
      if (n.name == opts.node) continue;
      toml::table view = node_view(root, n.name);
      apply_variables(view, opts, origins, result.errors);
      vigil_config cfg = validate(view, c, kind_of(n));
      cfg.file = name;
      cfg.cluster = cluster;
      own_sinks(n, cfg);
      own_ports(n, cfg);
      result.peers.push_back(std::move(cfg));
    }
  // Shared sections are checked once per node: report each problem once.
  std::vector<config_error> unique;
  for (auto& e : result.errors) {
    bool seen = false;
    for (const auto& u : unique) seen = seen || (u.where == e.where && u.key == e.key && u.message == e.message);
    if (!seen) unique.push_back(std::move(e));
  }
  result.errors = std::move(unique);
  if (result.errors.empty()) result.config = std::move(first);
  return result;
}

} // namespace

namespace {

/// toml++'s words for the common slips, in an operator's words, with the
/// line itself.
config_error syntax_error(const toml::parse_error& e, const std::string& text, const std::string& name) {
  const auto line = e.source().begin.line;
  std::string what(e.description());
  if (what.find("parsing string") != std::string::npos
      && (what.find("control characters") != std::string::npos || what.find("encountered end") != std::string::npos))
    what = "a string is not closed: a quote is missing before the end of the line";
  else if (what.find("expected '='") != std::string::npos || what.find("expected key-value") != std::string::npos)
    what = "expected KEY = VALUE (" + what + ")";
  std::string shown;
  size_t start = 0;
  for (uint32_t n = 1; n < line && start != std::string::npos; ++n) {
    start = text.find('\n', start);
    if (start != std::string::npos) ++start;
  }
  if (line > 0 && start != std::string::npos && start < text.size())
    shown = text.substr(start, std::min<size_t>(text.find('\n', start) - start, 200));
  config_error err{name + ":" + std::to_string(line) + ":" + std::to_string(e.source().begin.column), "",
                   "TOML syntax: " + what};
  if (!shown.empty()) err.message += "\n    " + shown;
  return err;
}

} // namespace

config_load_result load_config_text(const std::string& text, const std::string& name,
                                    const config_load_options& opts) {
  try {
    return load_table(toml::parse(text, name), name, opts);
  } catch (const toml::parse_error& e) {
    config_load_result r;
    r.errors.push_back(syntax_error(e, text, name));
    return r;
  }
}

config_load_result load_config(const std::string& path, const config_load_options& opts) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  const int err = in ? 0 : errno;
  std::error_code ec;
  if (err != 0 || std::filesystem::is_directory(path, ec)) {
    config_load_result r;
    r.errors.push_back({path, "", std::string("cannot read: ") + (err ? std::strerror(err) : "it is a directory")});
    return r;
  }
  text << in.rdbuf();
  return load_config_text(text.str(), path, opts);
}

config_load_options options_from_process(const std::string& environment) {
  config_load_options opts;
  opts.environment = environment;
  if (opts.environment.empty())
    if (const char* env = std::getenv("VIGIL_ENV")) opts.environment = env;
  opts.variables = vigil_environment_variables();
  return opts;
}

std::vector<std::pair<std::string, std::string>> vigil_environment_variables() {
  std::vector<std::pair<std::string, std::string>> vars;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.rfind("VIGIL_", 0) != 0) continue;
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(kv.substr(0, eq));
    if (key == "VIGIL_ENV") continue;
    vars.emplace_back(std::move(key), std::string(kv.substr(eq + 1)));
  }
  std::sort(vars.begin(), vars.end());
  return vars;
}

} // namespace vigil
