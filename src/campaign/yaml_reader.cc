#include "campaign/yaml_reader.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace nnfi::campaign {
namespace {

std::string join_choices(std::initializer_list<const char*> choices) {
  std::string text;
  for (const char* choice : choices) {
    if (!text.empty()) text += ", ";
    text += choice;
  }
  return text;
}

}  // namespace

Expected<YAML::Node> parse_yaml(const std::string& text, const std::filesystem::path& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& error) {
    return invalid_argument(file.string().append(":").append(std::to_string(error.mark.line + 1)) +
                            ": not valid YAML: " + error.msg);
  }
}

Status YamlNode::error(const std::string& message) const {
  std::string where = file_ != nullptr ? file_->string() : std::string("<config>");
  const YAML::Mark mark = node_.Mark();
  // append() rather than ":" + to_string(): GCC 12 warns falsely (-Wrestrict) on the latter.
  if (mark.line >= 0) where.append(":").append(std::to_string(mark.line + 1));
  return invalid_argument(where + ": key '" + path_ + "': " + message);
}

bool YamlNode::has(const std::string& key) const {
  if (!node_.IsMap()) return false;
  const YAML::Node value = node_[key];
  return value.IsDefined() && !value.IsNull();
}

YamlNode YamlNode::child(const std::string& key) const {
  const std::string child_path = path_.empty() ? key : path_ + "." + key;
  // A missing key keeps the parent's mark so the message points near it.
  if (!node_.IsMap() || !node_[key].IsDefined()) return YamlNode(node_, child_path, file_);
  return YamlNode(node_[key], child_path, file_);
}

std::vector<YamlNode> YamlNode::items() const {
  std::vector<YamlNode> result;
  if (!node_.IsSequence()) return result;
  for (size_t i = 0; i < node_.size(); ++i) {
    result.emplace_back(node_[i], path_ + "[" + std::to_string(i) + "]", file_);
  }
  return result;
}

std::vector<std::string> YamlNode::keys() const {
  std::vector<std::string> result;
  if (!node_.IsMap()) return result;
  for (const auto& entry : node_) result.push_back(entry.first.as<std::string>());
  return result;
}

Status YamlNode::check_keys(std::initializer_list<const char*> allowed) const {
  if (!node_.IsMap()) return error("expected a mapping with keys " + join_choices(allowed));
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    bool known = false;
    for (const char* name : allowed) known = known || key == name;
    if (!known) {
      const std::string key_path = path_.empty() ? key : path_ + "." + key;
      YamlNode at(entry.first, key_path, file_);
      return at.error("unknown key; allowed here: " + join_choices(allowed));
    }
  }
  return Status::ok();
}

Expected<std::string> YamlNode::as_string() const {
  if (!node_.IsScalar()) return error("expected a string");
  return node_.Scalar();
}

Expected<int64_t> YamlNode::as_int(int64_t minimum, int64_t maximum) const {
  const std::string value = text();
  int64_t result = 0;
  const char* end = value.data() + value.size();
  auto [ptr, failure] = std::from_chars(value.data(), end, result);
  if (!node_.IsScalar() || value.empty() || failure != std::errc() || ptr != end ||
      result < minimum || result > maximum) {
    std::string range = "an integer >= " + std::to_string(minimum);
    if (maximum != INT64_MAX) range += " and <= " + std::to_string(maximum);
    return error("expected " + range + ", got '" + value + "'");
  }
  return result;
}

Expected<uint64_t> YamlNode::as_uint64() const {
  const std::string value = text();
  uint64_t result = 0;
  const char* end = value.data() + value.size();
  auto [ptr, failure] = std::from_chars(value.data(), end, result);
  if (!node_.IsScalar() || value.empty() || failure != std::errc() || ptr != end) {
    return error("expected an unsigned 64-bit integer, got '" + value + "'");
  }
  return result;
}

Expected<double> YamlNode::as_double(bool allow_special) const {
  std::string value = text();
  if (allow_special) {
    std::string lowered;
    for (char c : value) lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lowered == "nan" || lowered == ".nan") return std::numeric_limits<double>::quiet_NaN();
    if (lowered == "inf" || lowered == "+inf" || lowered == ".inf" || lowered == "+.inf") {
      return std::numeric_limits<double>::infinity();
    }
    if (lowered == "-inf" || lowered == "-.inf") return -std::numeric_limits<double>::infinity();
  }
  double result = 0;
  const char* end = value.data() + value.size();
  auto [ptr, failure] = std::from_chars(value.data(), end, result);
  if (!node_.IsScalar() || value.empty() || failure != std::errc() || ptr != end ||
      !std::isfinite(result)) {
    return error(std::string("expected a number") + (allow_special ? " (or nan, inf, -inf)" : "") +
                 ", got '" + value + "'");
  }
  return result;
}

Expected<bool> YamlNode::as_bool() const {
  const std::string value = text();
  if (value == "true" || value == "True" || value == "yes") return true;
  if (value == "false" || value == "False" || value == "no") return false;
  return error("expected true or false, got '" + value + "'");
}

Expected<std::string> YamlNode::as_choice(std::initializer_list<const char*> choices) const {
  const std::string value = text();
  for (const char* choice : choices) {
    if (node_.IsScalar() && value == choice) return value;
  }
  return error("expected one of " + join_choices(choices) + ", got '" + value + "'");
}

Expected<std::vector<double>> YamlNode::as_double_list() const {
  std::vector<double> result;
  if (node_.IsScalar()) {
    NNFI_ASSIGN_OR_RETURN(double value, as_double());
    result.push_back(value);
    return result;
  }
  if (!node_.IsSequence() || node_.size() == 0)
    return error("expected a number or a list of numbers");
  for (const YamlNode& item : items()) {
    NNFI_ASSIGN_OR_RETURN(double value, item.as_double());
    result.push_back(value);
  }
  return result;
}

Expected<std::vector<int64_t>> YamlNode::as_int_list(int64_t minimum) const {
  std::vector<int64_t> result;
  if (node_.IsScalar()) {
    NNFI_ASSIGN_OR_RETURN(int64_t value, as_int(minimum));
    result.push_back(value);
    return result;
  }
  if (!node_.IsSequence() || node_.size() == 0) {
    return error("expected an integer or a list of integers");
  }
  for (const YamlNode& item : items()) {
    NNFI_ASSIGN_OR_RETURN(int64_t value, item.as_int(minimum));
    result.push_back(value);
  }
  return result;
}

Expected<std::vector<std::string>> YamlNode::as_string_list() const {
  std::vector<std::string> result;
  if (node_.IsScalar()) {
    result.push_back(node_.Scalar());
    return result;
  }
  if (!node_.IsSequence() || node_.size() == 0) return error("expected a name or a list of names");
  for (const YamlNode& item : items()) {
    NNFI_ASSIGN_OR_RETURN(std::string value, item.as_string());
    result.push_back(value);
  }
  return result;
}

}  // namespace nnfi::campaign
