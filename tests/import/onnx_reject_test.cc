// What the ONNX importer and load_model refuse, and what they say.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "import/onnx_test_builder.h"
#include "nnfi/model.h"

namespace nnfi::testing {
namespace {

OnnxModelBuilder relu_model(int64_t opset = 13) {
  OnnxModelBuilder builder(opset);
  builder.add_input("x", {1, 4});
  builder.add_node("Relu", {"x"}, {"y"}, "relu");
  builder.add_output("y");
  return builder;
}

// Imports through the file path and expects an error with all `parts`.
class OnnxRejectTest : public OnnxImportTest {
 protected:
  Status import_error(const std::filesystem::path& path) {
    auto graph = import_onnx(path);
    EXPECT_FALSE(graph) << "import of " << path << " unexpectedly succeeded";
    return graph.status();
  }
  Status import_error(const OnnxModelBuilder& builder) { return import_error(write(builder)); }
};

TEST_F(OnnxRejectTest, RejectsTruncatedFile) {
  OnnxModelBuilder builder = relu_model();
  builder.add_initializer(float_tensor("unused", std::vector<float>(256, 1.0f), {256}));
  const std::string bytes = builder.bytes();
  auto path = write_bytes("truncated.onnx", bytes.substr(0, bytes.size() / 2));
  Status status = import_error(path);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(message_has(status, "truncated.onnx"));
  EXPECT_TRUE(message_has(status, "not an ONNX model"));
}

TEST_F(OnnxRejectTest, RejectsRandomBytes) {
  std::mt19937 engine(42);
  std::string bytes(4096, '\0');
  for (char& byte : bytes) byte = static_cast<char>(engine() & 0xff);
  Status status = import_error(write_bytes("random.onnx", bytes));
  EXPECT_TRUE(message_has(status, "random.onnx"));
  EXPECT_TRUE(message_has(status, "not an ONNX model"));
}

TEST_F(OnnxRejectTest, RejectsTextFile) {
  Status status = import_error(write_bytes("notes.onnx", "this is a text file, not a model\n"));
  EXPECT_TRUE(message_has(status, "notes.onnx: not an ONNX model"));
}

TEST_F(OnnxRejectTest, RejectsEmptyFile) {
  Status status = import_error(write_bytes("empty.onnx", ""));
  EXPECT_TRUE(message_has(status, "empty"));
}

TEST_F(OnnxRejectTest, RejectsMissingFile) {
  Status status = import_error(dir_ / "absent.onnx");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_TRUE(message_has(status, "absent.onnx"));
}

TEST_F(OnnxRejectTest, RejectsUnsupportedOp) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {1, 4});
  builder.add_node("Relu", {"x"}, {"a"}, "relu");
  builder.add_node("Erf", {"a"}, {"y"}, "erf1");
  builder.add_output("y");
  Status status = import_error(write(builder, "erf.onnx"));
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(message_has(status,
                          "erf.onnx: node 'erf1': op 'Erf' (domain ai.onnx, "
                          "opset 13) is not supported by nnfi; supported ops: "));
  EXPECT_TRUE(message_has(status, "Conv"));
  EXPECT_TRUE(message_has(status, "Constant"));
  EXPECT_EQ(status.message().find("BiasAdd"), std::string::npos);  // IR-only op
}

TEST_F(OnnxRejectTest, RejectsIrOnlyOpInOnnxFile) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {1, 4});
  builder.add_node("Rsqrt", {"x"}, {"y"}, "rsqrt");
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status, "op 'Rsqrt' (domain ai.onnx, opset 13) is not supported"));
}

TEST_F(OnnxRejectTest, RejectsUnknownDomain) {
  OnnxModelBuilder builder(13);
  auto* import = builder.model().add_opset_import();
  import->set_domain("com.microsoft");
  import->set_version(1);
  builder.add_input("x", {1, 4});
  builder.add_node("Relu", {"x"}, {"y"}, "fused").set_domain("com.microsoft");
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(message_has(
      status, "node 'fused': op 'Relu' (domain com.microsoft, opset 1) is not supported"));
}

TEST_F(OnnxRejectTest, RejectsMissingInputValue) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {1, 4});
  builder.add_node("Add", {"x", "nowhere"}, {"y"}, "add");
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status,
                          "node 'add' (Add): input 'nowhere' is not a graph input, an initializer "
                          "or the output of any node"));
}

TEST_F(OnnxRejectTest, RejectsMissingGraphOutput) {
  OnnxModelBuilder builder = relu_model();
  builder.add_output("ghost");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status, "graph output 'ghost' is not produced"));
}

TEST_F(OnnxRejectTest, RejectsCycle) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {1, 4});
  builder.add_node("Add", {"x", "b"}, {"a"}, "add");
  builder.add_node("Neg", {"a"}, {"b"}, "neg");
  builder.add_output("a");
  Status status = import_error(write(builder, "cycle.onnx"));
  EXPECT_TRUE(message_has(status, "cycle.onnx"));
  EXPECT_TRUE(message_has(status, "cycle"));
  EXPECT_TRUE(message_has(status, "node '"));
}

TEST_F(OnnxRejectTest, RejectsValueProducedTwice) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {1, 4});
  builder.add_node("Relu", {"x"}, {"y"}, "one");
  builder.add_node("Neg", {"x"}, {"y"}, "two");
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status, "node 'two' (Neg): output 'y' is already defined"));
}

TEST_F(OnnxRejectTest, RejectsBadAttributeType) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {1, 1, 4, 4});
  builder.add_initializer(float_tensor("w", std::vector<float>(4, 1.0f), {1, 1, 2, 2}));
  auto& conv = builder.add_node("Conv", {"x", "w"}, {"y"}, "conv");
  set_attr(conv, "strides", std::vector<float>{1.0f, 1.0f});
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(message_has(status,
                          "node 'conv': attribute 'strides' of Conv (opset 13) has type FLOATS, "
                          "expected INTS"));
}

TEST_F(OnnxRejectTest, RejectsCastToGivenAsString) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {4});
  set_attr(builder.add_node("Cast", {"x"}, {"y"}, "cast"), "to", std::string("int64"));
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status, "attribute 'to' of Cast (opset 13) has type STRING"));
}

TEST_F(OnnxRejectTest, RejectsMissingRequiredAttribute) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {4});
  builder.add_node("Cast", {"x"}, {"y"}, "cast");
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status, "requires attribute 'to'"));
}

TEST_F(OnnxRejectTest, RejectsUnknownAttribute) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {4});
  set_attr(builder.add_node("Relu", {"x"}, {"y"}, "relu"), "alpha", 0.1f);
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status, "node 'relu': Relu (opset 13) has no attribute 'alpha'"));
}

TEST_F(OnnxRejectTest, RejectsWrongInputCount) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {4});
  builder.add_node("Relu", {"x", "x"}, {"y"}, "relu");
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status, "Relu (opset 13) expects 1 inputs, the node has 2"));
}

TEST_F(OnnxRejectTest, RejectsCastToDouble) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {4});
  set_attr(builder.add_node("Cast", {"x"}, {"y"}, "cast"), "to",
           int64_t{onnx::TensorProto::DOUBLE});
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(message_has(status, "node 'cast': Cast to DOUBLE is not supported"));
}

TEST_F(OnnxRejectTest, RejectsDoubleGraphInput) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {4}, onnx::TensorProto::DOUBLE);
  builder.add_node("Relu", {"x"}, {"y"}, "relu");
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(message_has(status, "graph input 'x': element type DOUBLE"));
}

TEST_F(OnnxRejectTest, RejectsOpset6AsTooOld) {
  Status status = import_error(write(relu_model(6), "old.onnx"));
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(message_has(status, "old.onnx: ONNX opset 6 is too old"));
  EXPECT_TRUE(message_has(status, "7 to 17"));
}

// Opset 18 moved attributes of Pad and the Reduce ops into inputs; rather
// than guess, nnfi refuses newer opsets.
TEST_F(OnnxRejectTest, RejectsOpset18AsTooNew) {
  Status status = import_error(relu_model(18));
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(message_has(status, "ONNX opset 18 is newer than nnfi supports"));
}

TEST_F(OnnxRejectTest, RejectsModelWithoutDefaultOpset) {
  OnnxModelBuilder builder = relu_model();
  builder.model().mutable_opset_import(0)->set_domain("ai.onnx.ml");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status, "imports no opset of the default domain"));
}

TEST_F(OnnxRejectTest, RejectsExternalData) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {4});
  onnx::TensorProto bias;
  bias.set_name("bias");
  bias.set_data_type(onnx::TensorProto::FLOAT);
  bias.add_dims(4);
  bias.set_data_location(onnx::TensorProto::EXTERNAL);
  auto* entry = bias.add_external_data();
  entry->set_key("location");
  entry->set_value("weights.bin");
  builder.add_initializer(bias);
  builder.add_node("Add", {"x", "bias"}, {"y"}, "add");
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_EQ(status.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(message_has(status, "initializer 'bias'"));
  EXPECT_TRUE(message_has(status, "external data"));
}

TEST_F(OnnxRejectTest, RejectsInitializerWithWrongDataSize) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {4});
  builder.add_initializer(float_tensor("bias", {1, 2, 3}, {4}));
  builder.add_node("Add", {"x", "bias"}, {"y"}, "add");
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status, "raw_data has 12 bytes, expected 16"));
}

TEST_F(OnnxRejectTest, RejectsUsedMaxPoolIndices) {
  OnnxModelBuilder builder(12);
  builder.add_input("x", {1, 1, 4, 4});
  set_attr(builder.add_node("MaxPool", {"x"}, {"y", "idx"}, "pool"), "kernel_shape",
           std::vector<int64_t>{2, 2});
  builder.add_output("y");
  builder.add_output("idx");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status, "'idx', output 1 of MaxPool node 'pool'"));
}

TEST_F(OnnxRejectTest, RejectsBatchNormalizationTrainingMode) {
  OnnxModelBuilder builder(15);
  builder.add_input("x", {1, 2, 3, 3});
  for (const char* name : {"scale", "bias", "mean", "var"}) {
    builder.add_initializer(float_tensor(name, {1, 1}, {2}));
  }
  auto& bn =
      builder.add_node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"}, "bn");
  set_attr(bn, "training_mode", int64_t{1});
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status, "training_mode=1 is not supported"));
}

TEST_F(OnnxRejectTest, RejectsConstantWithStringValue) {
  OnnxModelBuilder builder(13);
  builder.add_input("x", {4});
  set_attr(builder.add_node("Constant", {}, {"c"}, "const"), "value_string", std::string("hi"));
  builder.add_node("Relu", {"x"}, {"y"}, "relu");
  builder.add_output("y");
  Status status = import_error(builder);
  EXPECT_TRUE(message_has(status, "node 'const': Constant with attribute 'value_string'"));
}

TEST_F(OnnxRejectTest, LoadModelRejectsUnknownFormatNamingFileAndFormats) {
  auto graph = load_model(write_bytes("weights.txt", "just some text\n"));
  ASSERT_FALSE(graph);
  EXPECT_TRUE(message_has(graph.status(), "weights.txt"));
  EXPECT_TRUE(message_has(graph.status(), "unrecognised model format"));
  EXPECT_TRUE(message_has(graph.status(), "ONNX (.onnx)"));
}

TEST_F(OnnxRejectTest, LoadModelRejectsMissingFile) {
  auto graph = load_model(dir_ / "nothing.onnx");
  ASSERT_FALSE(graph);
  EXPECT_EQ(graph.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(message_has(graph.status(), "nothing.onnx"));
}

}  // namespace
}  // namespace nnfi::testing
