// Typed access to a YAML document with errors that name the file, the line,
// the key path and what is allowed. yaml-cpp reports problems by throwing;
// everything here catches and turns them into Status values.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include "nnfi/status.h"

namespace nnfi::campaign {

// A YAML node with its key path ("experiments[2].fault.bits") and the file it
// came from, for messages.
class YamlNode {
 public:
  YamlNode(YAML::Node node, std::string path, const std::filesystem::path* file)
      : node_(std::move(node)), path_(std::move(path)), file_(file) {}

  const YAML::Node& raw() const { return node_; }
  const std::string& path() const { return path_; }
  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  // The scalar text ("" for non-scalars).
  std::string text() const { return node_.IsScalar() ? node_.Scalar() : std::string(); }

  // "FILE:LINE: key 'PATH': MESSAGE".
  Status error(const std::string& message) const;

  // Child access for maps; `has` is false for absent or null keys.
  bool has(const std::string& key) const;
  YamlNode child(const std::string& key) const;
  // Sequence items, with paths "path[i]".
  std::vector<YamlNode> items() const;
  // Keys of a map in file order.
  std::vector<std::string> keys() const;

  // Errors for keys outside `allowed` (listing what is allowed).
  Status check_keys(std::initializer_list<const char*> allowed) const;

  Expected<std::string> as_string() const;
  Expected<int64_t> as_int(int64_t minimum, int64_t maximum = INT64_MAX) const;
  Expected<uint64_t> as_uint64() const;
  // Numbers, plus "nan", "inf", "-inf" (and YAML's .nan/.inf) when allow_special.
  Expected<double> as_double(bool allow_special = false) const;
  Expected<bool> as_bool() const;
  // One of `choices` (exact, case-sensitive); the error lists them.
  Expected<std::string> as_choice(std::initializer_list<const char*> choices) const;
  // A sequence, or a single scalar taken as a one-element list.
  Expected<std::vector<double>> as_double_list() const;
  Expected<std::vector<int64_t>> as_int_list(int64_t minimum) const;
  Expected<std::vector<std::string>> as_string_list() const;

 private:
  YAML::Node node_;
  std::string path_;
  const std::filesystem::path* file_;
};

// Parses YAML text; syntax errors name the file and line.
Expected<YAML::Node> parse_yaml(const std::string& text, const std::filesystem::path& file);

}  // namespace nnfi::campaign
