// Small models and data sets that campaign tests write themselves: a
// branching CNN (skip connection, concat) in ONNX with random weights and a
// labelled NPY data set for it; helpers to run a campaign and read results.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "campaign/result_store.h"
#include "core/temp_files.h"
#include "nnfi/campaign.h"

namespace nnfi::testing {

// Writes branching.onnx (input "x" [N, 2, 8, 8], output "probs" [N, 5]) and
// x.npy / y.npy with `images` examples into `dir`.
void write_branching_model(const std::filesystem::path& dir, int64_t images);

// Writes wide.onnx (input "x" [N, 4, 12, 12], output "probs" [N, 5]): conv1
// (8 channels), then conv2 (160) and conv3 to conv5 (136), each with its
// Relu, whose 64-channel chunks threads can share; a max pool and a dense
// layer. And
// x.npy / y.npy with `images` examples, into `dir`.
void write_wide_model(const std::filesystem::path& dir, int64_t images);

// The project's own Fashion-MNIST CNN and the Debian package's test set;
// empty when the data set is not installed.
std::string fashion_model_path();
std::string fashion_data_spec();

class CampaignTest : public TempDirTest {
 protected:
  // Writes `text` as campaign.yaml (or `name`) and parses it.
  CampaignSpec campaign(const std::string& text, const std::string& name = "campaign.yaml");
  // Runs into dir/<out> and returns summary.json.
  nlohmann::json run(const CampaignSpec& spec, const std::string& out, RunOptions options = {});
  // The faults table (without ids) and the units table as comparable rows.
  std::vector<std::string> fault_rows(const std::string& out);
  std::vector<std::string> unit_rows(const std::string& out);
};

}  // namespace nnfi::testing
