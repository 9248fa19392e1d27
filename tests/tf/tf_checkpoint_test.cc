// Checkpoints (MetaGraphDef + variables bundle) and SavedModels, written by
// the test itself (tf_test_builder.h: an SSTable .index with a BundleHeader
// and BundleEntryProto per tensor, crc32c as TensorFlow writes it); no real
// TensorFlow-written checkpoint is among the fixtures. Each must give exactly
// what the same graph frozen (variables as Consts) gives.
#include "import/tf/tf_importer.h"
#include "support/test_support.h"
#include "tf/tf_test_builder.h"

namespace nnfi {
namespace {

using namespace testing::tf_files;  // NOLINT: test-local builders
namespace fs = std::filesystem;

const Tensor kKernel = Tensor::from_vector<float>({1, -2, 0.5f, 3, -1, 2}, {3, 2});
const Tensor kBias = Tensor::from_vector<float>({0.25f, -4}, {2});

// x -> MatMul(W) -> BiasAdd(b) -> Relu, with W and b given by `weights`.
template <typename AddWeights>
tf::GraphDef dense_graph(AddWeights&& add_weights) {
  tf::GraphDef graph;
  add_placeholder(graph, "x", {-1, 3});
  add_weights(graph);
  add_node(graph, "dense/MatMul", "MatMul", {"x", "W/read"});
  add_node(graph, "dense/BiasAdd", "BiasAdd", {"dense/MatMul", "b/read"});
  add_node(graph, "dense/Relu", "Relu", {"dense/BiasAdd"});
  return graph;
}

tf::GraphDef frozen_graph() {
  return dense_graph([](tf::GraphDef& g) {
    add_const(g, "W", kKernel);
    add_node(g, "W/read", "Identity", {"W"});
    add_const(g, "b", kBias);
    add_node(g, "b/read", "Identity", {"b"});
  });
}

// A TF1 training graph as tf.train.Saver leaves it: VariableV2s, their
// initializers, a training op, and save/restore ops that store W under the
// key "dense/kernel".
tf::GraphDef checkpoint_graph() {
  return dense_graph([](tf::GraphDef& g) {
    for (auto [name, shape] : {std::pair<const char*, Shape>{"W", {3, 2}}, {"b", {2}}}) {
      tf::NodeDef* variable = add_node(g, name, "VariableV2");
      set_type(variable, "dtype", tf::DT_FLOAT);
      set_shape_attr(variable, "shape", shape);
      add_node(g, std::string(name) + "/read", "Identity", {name});
      add_floats(g, std::string(name) + "/zeros", std::vector<float>(shape_num_elements(shape)),
                 shape);
      add_node(g, std::string(name) + "/Assign", "Assign", {name, std::string(name) + "/zeros"});
    }
    add_node(g, "init", "NoOp", {"^W/Assign", "^b/Assign"});
    add_floats(g, "lr", {0.1f}, {});
    add_node(g, "train", "ApplyGradientDescent", {"W", "lr", "W/zeros"});
    add_string_const(g, "save/Const", {"model"});
    add_string_const(g, "save/SaveV2/tensor_names", {"b", "dense/kernel"});
    add_string_const(g, "save/SaveV2/shape_and_slices", {"", ""});
    add_node(g, "save/SaveV2", "SaveV2",
             {"save/Const", "save/SaveV2/tensor_names", "save/SaveV2/shape_and_slices", "b", "W"});
    set_type(add_node(g, "save/control_dependency", "Identity", {"save/Const", "^save/SaveV2"}),
             "T", tf::DT_STRING);
    add_string_const(g, "save/RestoreV2/tensor_names", {"b", "dense/kernel"});
    add_string_const(g, "save/RestoreV2/shape_and_slices", {"", ""});
    add_node(g, "save/RestoreV2", "RestoreV2",
             {"save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices"});
    add_node(g, "save/Assign", "Assign", {"b", "save/RestoreV2"});
    add_node(g, "save/Assign_1", "Assign", {"W", "save/RestoreV2:1"});
    add_node(g, "save/restore_all", "NoOp", {"^save/Assign", "^save/Assign_1"});
  });
}

// Writes DIR/model.ckpt.{meta,index,data-00000-of-00001} and DIR/checkpoint.
fs::path write_checkpoint(const TempDir& dir, std::map<std::string, Tensor> tensors,
                          tf::GraphDef graph = checkpoint_graph()) {
  tf::MetaGraphDef meta;
  *meta.mutable_graph_def() = std::move(graph);
  meta.mutable_saver_def()->set_restore_op_name("save/restore_all");
  meta.mutable_meta_info_def()->set_tensorflow_version("1.15.0");
  const fs::path prefix = dir / "model.ckpt";
  write_message(prefix.string() + ".meta", meta);
  write_bundle(prefix, tensors);
  write_bytes(dir / "checkpoint",
              "model_checkpoint_path: \"model.ckpt\"\n"
              "all_model_checkpoint_paths: \"model.ckpt\"\n");
  return prefix;
}

std::map<std::string, Tensor> good_variables() { return {{"dense/kernel", kKernel}, {"b", kBias}}; }

const Tensor kInput = Tensor::from_vector<float>({1, 2, 3, -1, 0.5f, 4, 0, 0, 1}, {3, 3});

Tensor run_frozen() {
  auto frozen = import_graph_def(frozen_graph(), feeds_fetches({"x"}, {"dense/Relu"}));
  EXPECT_TRUE(frozen.has_value()) << frozen.status().message();
  auto out = run_graph(*frozen, {kInput});
  EXPECT_TRUE(out.has_value()) << out.status().message();
  return out->front();
}

TEST(TfCheckpointTest, MetaGraphWithBundleMatchesFrozenGraph) {
  TempDir dir;
  const fs::path prefix = write_checkpoint(dir, good_variables());
  const Tensor expected = run_frozen();
  // The .meta, the .index and the folder (with its `checkpoint` file) all work;
  // default fetches skip the saver's string ops and the training op.
  for (const fs::path& path :
       {fs::path(prefix.string() + ".meta"), fs::path(prefix.string() + ".index"), dir.path()}) {
    auto graph = load_model(path);
    ASSERT_TRUE(graph.has_value()) << path << ": " << graph.status().message();
    const Graph& g = **graph;
    EXPECT_EQ(g.metadata.at("format"), "TensorFlow checkpoint (MetaGraphDef + variables)");
    ASSERT_EQ(g.outputs.size(), 1u);
    EXPECT_EQ(g.values[g.outputs[0]].name, "dense/Relu");
    EXPECT_EQ(g.nodes.size(), 3u);
    auto kernel = g.find_value("W");  // the variable's value, under its node name
    ASSERT_TRUE(kernel.has_value());
    EXPECT_TRUE(g.values[*kernel].constant.bitwise_equal(kKernel));
    auto out = run_graph(*graph, {kInput});
    ASSERT_TRUE(out.has_value()) << out.status().message();
    EXPECT_TRUE(out->front().bitwise_equal(expected));
  }
}

TEST(TfCheckpointTest, RejectsMissingVariableInBundle) {
  TempDir dir;
  const fs::path prefix = write_checkpoint(dir, {{"dense/kernel", kKernel}});
  auto graph = load_model(prefix.string() + ".meta");
  ASSERT_FALSE(graph.has_value());
  const std::string message = graph.status().message();
  EXPECT_TRUE(contains(message, "node 'b' (VariableV2)")) << message;
  EXPECT_TRUE(contains(message, "has no tensor 'b'")) << message;
  EXPECT_TRUE(contains(message, "model.ckpt.meta")) << message;
}

TEST(TfCheckpointTest, RejectsVariableOfAnotherShape) {
  TempDir dir;
  const fs::path prefix =
      write_checkpoint(dir, {{"dense/kernel", kKernel.reshaped({2, 3}).value()}, {"b", kBias}});
  auto graph = load_model(prefix.string() + ".meta");
  ASSERT_FALSE(graph.has_value());
  EXPECT_TRUE(contains(graph.status().message(), "declared with shape [3, 2]"))
      << graph.status().message();
}

// Flips one byte of `file` at `offset` (from the end when negative).
void corrupt(const fs::path& file, long offset) {
  std::string bytes = read_bytes(file);
  const size_t at = offset >= 0 ? static_cast<size_t>(offset) : bytes.size() + offset;
  bytes[at] = static_cast<char>(bytes[at] ^ 0x40);
  write_bytes(file, bytes);
}

TEST(TfCheckpointTest, RejectsCorruptBundles) {
  struct Case {
    const char* what;
    std::function<void(const fs::path&)> damage;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"data byte", [](const fs::path& p) { corrupt(p.string() + ".data-00000-of-00001", 5); },
       "checksum mismatch"},
      {"index block byte", [](const fs::path& p) { corrupt(p.string() + ".index", 3); },
       "block checksum mismatch"},
      {"magic", [](const fs::path& p) { corrupt(p.string() + ".index", -1); },
       "not a TensorFlow V2 checkpoint index"},
      {"truncated index",
       [](const fs::path& p) {
         const std::string bytes = read_bytes(p.string() + ".index");
         write_bytes(p.string() + ".index", bytes.substr(0, 30));
       },
       "shorter than its 48-byte footer"},
      {"missing data file",
       [](const fs::path& p) { fs::remove(p.string() + ".data-00000-of-00001"); },
       "cannot be opened"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    const fs::path prefix = write_checkpoint(dir, good_variables());
    c.damage(prefix);
    auto graph = load_model(prefix.string() + ".meta");
    ASSERT_FALSE(graph.has_value()) << c.what;
    EXPECT_TRUE(contains(graph.status().message(), c.expected))
        << c.what << ": " << graph.status().message();
  }
}

// Many entries, tiny blocks: several data blocks, prefix-compressed keys and
// restart points, read back exactly; and the crc32c check value.
TEST(TfCheckpointTest, BundleReaderReadsMultiBlockTables) {
  EXPECT_EQ(tf_import::crc32c("123456789", 9), 0xe3069283u);
  EXPECT_EQ(test_crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(tf_import::crc32c_unmask(tf_import::crc32c_mask(0x12345678u)), 0x12345678u);
  TempDir dir;
  std::map<std::string, Tensor> tensors;
  for (int i = 0; i < 40; ++i) {
    const std::string key = "model/layer_" + std::to_string(i / 10) + std::to_string(i % 10) +
                            (i % 2 ? "/kernel" : "/bias");
    tensors[key] = Tensor::from_vector<int32_t>({i, -i, i * i}, {3});
  }
  tensors["flag"] = Tensor::from_vector<bool>({true, false}, {2});
  write_bundle(dir / "many", tensors, /*block_size=*/64);
  auto reader = tf_import::BundleReader::open(dir / "many");
  ASSERT_TRUE(reader.has_value()) << reader.status().message();
  EXPECT_EQ((*reader)->keys().size(), tensors.size());
  for (const auto& [key, tensor] : tensors) {
    auto read = (*reader)->read(key);
    ASSERT_TRUE(read.has_value()) << key << ": " << read.status().message();
    EXPECT_TRUE(read->bitwise_equal(tensor)) << key;
  }
  EXPECT_EQ((*reader)->read("nope").status().code(), StatusCode::kNotFound);
}

// ---- SavedModel ------------------------------------------------------------------

// TF2-style resource variables: VarHandleOp + ReadVariableOp, restored from
// object-graph keys through save/Identity nodes.
tf::GraphDef saved_model_graph() {
  return dense_graph([](tf::GraphDef& g) {
    for (const char* name : {"W", "b"}) {
      tf::NodeDef* handle = add_node(g, std::string(name) + "/handle", "VarHandleOp");
      set_type(handle, "dtype", tf::DT_FLOAT);
      set_string(handle, "shared_name", name);
      add_node(g, std::string(name) + "/read", "ReadVariableOp", {std::string(name) + "/handle"});
    }
    add_string_const(g, "save/Const", {"variables"});
    add_string_const(g, "save/RestoreV2/tensor_names",
                     {"W/.ATTRIBUTES/VARIABLE_VALUE", "b/.ATTRIBUTES/VARIABLE_VALUE"});
    add_string_const(g, "save/RestoreV2/shape_and_slices", {"", ""});
    add_node(g, "save/RestoreV2", "RestoreV2",
             {"save/Const", "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices"});
    for (int k = 0; k < 2; ++k) {
      const std::string id = "save/Identity_" + std::to_string(k);
      add_node(g, id, "Identity", {k == 0 ? "save/RestoreV2" : "save/RestoreV2:1"});
      add_node(g, "save/AssignVariableOp_" + std::to_string(k), "AssignVariableOp",
               {k == 0 ? "W/handle" : "b/handle", id});
    }
  });
}

fs::path write_saved_model(const TempDir& dir) {
  tf::SavedModel model;
  model.set_saved_model_schema_version(1);
  tf::MetaGraphDef* meta = model.add_meta_graphs();
  meta->mutable_meta_info_def()->add_tags("serve");
  *meta->mutable_graph_def() = saved_model_graph();
  auto add_signature = [&](const std::string& name, const std::string& output) {
    tf::SignatureDef& signature = (*meta->mutable_signature_def())[name];
    (*signature.mutable_inputs())["inputs"].set_name("x:0");
    (*signature.mutable_outputs())["outputs"].set_name(output);
    signature.set_method_name("tensorflow/serving/predict");
  };
  add_signature("serving_default", "dense/Relu:0");
  add_signature("logits", "dense/BiasAdd:0");
  const fs::path folder = dir / "saved";
  write_message(folder / "saved_model.pb", model);
  write_bundle(folder / "variables" / "variables", {{"W/.ATTRIBUTES/VARIABLE_VALUE", kKernel},
                                                    {"b/.ATTRIBUTES/VARIABLE_VALUE", kBias}});
  return folder;
}

TEST(TfCheckpointTest, SavedModelMatchesFrozenGraph) {
  TempDir dir;
  const fs::path folder = write_saved_model(dir);
  const Tensor expected = run_frozen();
  for (const fs::path& path : {folder, folder / "saved_model.pb"}) {
    auto graph = load_model(path);
    ASSERT_TRUE(graph.has_value()) << path << ": " << graph.status().message();
    const Graph& g = **graph;
    EXPECT_EQ(g.metadata.at("format"), "TensorFlow SavedModel");
    ASSERT_EQ(g.inputs.size(), 1u);
    EXPECT_EQ(g.values[g.inputs[0]].name, "x");
    EXPECT_EQ(g.values[g.outputs[0]].name, "dense/Relu");
    auto out = run_graph(*graph, {kInput});
    ASSERT_TRUE(out.has_value()) << out.status().message();
    EXPECT_TRUE(out->front().bitwise_equal(expected));
  }
}

TEST(TfCheckpointTest, SavedModelSignatureChosenByName) {
  TempDir dir;
  const fs::path folder = write_saved_model(dir);
  LoadOptions options;
  options.signature = "logits";
  auto graph = load_model(folder, options);
  ASSERT_TRUE(graph.has_value()) << graph.status().message();
  EXPECT_EQ((*graph)->values[(*graph)->outputs[0]].name, "dense/BiasAdd");
  EXPECT_EQ((*graph)->nodes.size(), 2u);  // pruned to the signature's output

  options.signature = "nope";
  graph = load_model(folder, options);
  ASSERT_FALSE(graph.has_value());
  const std::string message = graph.status().message();
  EXPECT_TRUE(contains(message, "no signature 'nope'")) << message;
  EXPECT_TRUE(contains(message, "'logits', 'serving_default'")) << message;

  options.fetches = {"dense/MatMul"};  // explicit fetches need no signature
  graph = load_model(folder, options);
  ASSERT_TRUE(graph.has_value()) << graph.status().message();
  EXPECT_EQ((*graph)->nodes.size(), 1u);
}

TEST(TfCheckpointTest, RejectsFolderWithoutModel) {
  TempDir dir;
  fs::create_directories(dir / "empty");
  auto graph = load_model(dir / "empty");
  ASSERT_FALSE(graph.has_value());
  EXPECT_TRUE(contains(graph.status().message(), "is a directory")) << graph.status().message();
}

}  // namespace
}  // namespace nnfi
