// Small text helpers shared by the report's tables, figures and page.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nnfi::report {

// "0-3,7,9-10" for sorted indices.
std::string index_ranges(const std::vector<int64_t>& indices);
// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(const std::string& text);
// Single-quotes a word for a POSIX shell when it needs quoting.
std::string shell_quote(const std::string& text);
// "%.<digits>g"; "nan", "inf" for those.
std::string format_number(double value, int digits = 6);
// "93.21%" (value 0.9321).
std::string format_percent(double value, int decimals = 2);

}  // namespace nnfi::report
