// Builds small ONNX models in memory with the onnx protobuf API, writes them
// to a per-test temp folder, and imports them.
#pragma once

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "import/onnx/onnx_importer.h"
#include "nnfi/graph.h"
#include "nnfi/model.h"

namespace nnfi::testing {

inline onnx::TensorProto float_tensor(const std::string& name, const std::vector<float>& values,
                                      const std::vector<int64_t>& dims, bool raw = true) {
  onnx::TensorProto tensor;
  tensor.set_name(name);
  tensor.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t dim : dims) tensor.add_dims(dim);
  if (raw) {
    tensor.set_raw_data(
        std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  } else {
    for (float value : values) tensor.add_float_data(value);
  }
  return tensor;
}

inline onnx::TensorProto int64_tensor(const std::string& name, const std::vector<int64_t>& values,
                                      const std::vector<int64_t>& dims) {
  onnx::TensorProto tensor;
  tensor.set_name(name);
  tensor.set_data_type(onnx::TensorProto::INT64);
  for (int64_t dim : dims) tensor.add_dims(dim);
  for (int64_t value : values) tensor.add_int64_data(value);
  return tensor;
}

inline void set_attr(onnx::NodeProto& node, const std::string& name, int64_t value) {
  auto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::INT);
  attr->set_i(value);
}
inline void set_attr(onnx::NodeProto& node, const std::string& name, float value) {
  auto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::FLOAT);
  attr->set_f(value);
}
inline void set_attr(onnx::NodeProto& node, const std::string& name, const std::string& value) {
  auto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::STRING);
  attr->set_s(value);
}
inline void set_attr(onnx::NodeProto& node, const std::string& name,
                     const std::vector<int64_t>& values) {
  auto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::INTS);
  for (int64_t value : values) attr->add_ints(value);
}
inline void set_attr(onnx::NodeProto& node, const std::string& name,
                     const std::vector<float>& values) {
  auto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::FLOATS);
  for (float value : values) attr->add_floats(value);
}
inline void set_attr(onnx::NodeProto& node, const std::string& name,
                     const onnx::TensorProto& value) {
  auto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(onnx::AttributeProto::TENSOR);
  *attr->mutable_t() = value;
}

class OnnxModelBuilder {
 public:
  explicit OnnxModelBuilder(int64_t opset = 13, int64_t ir_version = 7) {
    model_.set_ir_version(ir_version);
    model_.set_producer_name("nnfi-test");
    auto* import = model_.add_opset_import();
    import->set_domain("");
    import->set_version(opset);
    model_.mutable_graph()->set_name("test_graph");
  }

  onnx::ModelProto& model() { return model_; }
  onnx::GraphProto& graph() { return *model_.mutable_graph(); }

  // dims: -1 becomes a symbolic dimension "N".
  void add_input(const std::string& name, const std::vector<int64_t>& dims,
                 int32_t elem_type = onnx::TensorProto::FLOAT) {
    auto* input = graph().add_input();
    input->set_name(name);
    auto* type = input->mutable_type()->mutable_tensor_type();
    type->set_elem_type(elem_type);
    auto* shape = type->mutable_shape();
    for (int64_t dim : dims) {
      auto* d = shape->add_dim();
      if (dim < 0) {
        d->set_dim_param("N");
      } else {
        d->set_dim_value(dim);
      }
    }
  }
  void add_output(const std::string& name) { graph().add_output()->set_name(name); }
  void add_initializer(const onnx::TensorProto& tensor) { *graph().add_initializer() = tensor; }

  onnx::NodeProto& add_node(const std::string& op_type, const std::vector<std::string>& inputs,
                            const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* node = graph().add_node();
    node->set_op_type(op_type);
    node->set_name(name);
    for (const auto& input : inputs) node->add_input(input);
    for (const auto& output : outputs) node->add_output(output);
    return *node;
  }

  std::string bytes() const { return model_.SerializeAsString(); }

 private:
  onnx::ModelProto model_;
};

// A temp folder per test, removed afterwards.
class OnnxImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("nnfi_onnx_test_" + std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }

  std::filesystem::path write_bytes(const std::string& file_name, const std::string& bytes) {
    std::filesystem::path path = dir_ / file_name;
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  std::filesystem::path write(const OnnxModelBuilder& builder,
                              const std::string& file_name = "model.onnx") {
    return write_bytes(file_name, builder.bytes());
  }

  // The full import (finalize included: needs the ops' kernels).
  Expected<std::shared_ptr<Graph>> import(const OnnxModelBuilder& builder) {
    return import_onnx(write(builder));
  }
  // Parse + build only: the importer's own work, independent of kernels.
  static Expected<std::shared_ptr<Graph>> build(const OnnxModelBuilder& builder) {
    onnx::ModelProto model;
    Status status = onnx_import::parse_model(builder.bytes(), &model);
    if (!status.is_ok()) return status;
    return onnx_import::build_graph(model);
  }

  std::filesystem::path dir_;
};

// Passes where the status message contains `part`; prints it otherwise.
inline ::testing::AssertionResult message_has(const Status& status, const std::string& part) {
  if (status.message().find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "message \"" << status.message() << "\" does not contain \"" << part << "\"";
}

inline const Node& node_named(const Graph& graph, const std::string& name) {
  std::optional<NodeId> id = graph.find_node(name);
  EXPECT_TRUE(id.has_value()) << "no node named " << name;
  return graph.nodes.at(id.value_or(0));
}

}  // namespace nnfi::testing
