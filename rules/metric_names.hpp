#pragma once

#include <string>
#include <vector>

namespace vigil {

/// The metrics of a window result, and the variables a rule may use
/// (PRODUCT.md, "Config": metric names).
const std::vector<std::string>& window_metric_names();

} // namespace vigil
