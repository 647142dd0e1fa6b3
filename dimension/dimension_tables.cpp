#include "dimension/dimension_tables.hpp"

namespace vigil {

namespace {

std::vector<watched_tables<cidr_table>::entry> entries_of(const std::vector<dimension_config>& configs) {
  std::vector<watched_tables<cidr_table>::entry> out;
  for (const auto& d : configs) out.push_back({"dimension " + d.name, d.path});
  return out;
}

} // namespace

dimension_tables::dimension_tables(std::vector<dimension_config> configs)
  : configs_(std::move(configs)),
    tables_(entries_of(configs_),
            [this](size_t i, std::string& error) { return cidr_table::load(configs_[i].path, configs_[i].fields, error); },
            "networks") {}

} // namespace vigil
