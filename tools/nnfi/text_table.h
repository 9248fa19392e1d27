// Plain-text output shared by the sub-commands that print tables.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nnfi::cli {

using TableRow = std::vector<std::string>;

// Prints rows to stdout as left-aligned columns two spaces apart, indented by two.
void print_table(const std::vector<TableRow>& rows);

// 1234567 -> "1,234,567".
std::string with_commas(int64_t number);

}  // namespace nnfi::cli
