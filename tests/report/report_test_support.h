// Results folders for report tests: a real small campaign (the example
// Fashion-MNIST CNN on its eight golden images) and a synthetic store of any
// size written with ResultStore (no model, no inference).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/temp_files.h"

namespace nnfi::testing {

// Writes the model, data and campaign.yaml into `dir` and runs the campaign
// into dir/results: experiment "sweep" (every layer, p 0, 0.5, 1, two
// repetitions, ground truth) and "criticality" (every layer, p 1, three
// repetitions, golden), 16 images in batches of 8. Returns dir/results.
std::filesystem::path run_small_campaign(const std::filesystem::path& dir);
// Runs `yaml` (written as dir/NAME.yaml; model.onnx, x.npy and y.npy of
// run_small_campaign are there) into dir/NAME-results and returns that folder.
std::filesystem::path run_campaign_text(const std::filesystem::path& dir, const std::string& yaml,
                                        const std::string& name);

// A synthetic store in `dir`: `layers` layer groups (model file missing),
// experiment 0 sweeps `probabilities` values with `repetitions` repetitions,
// experiment 1 has p = 1; `batches` batches of 100 images; a few faults per
// unit with random bits. Accuracy falls with p and layer index.
void write_synthetic_store(const std::filesystem::path& dir, int layers, int probabilities,
                           int repetitions, int batches);

// Removes the units of `repetition` (all settings of `experiment`) for
// batches >= `from_batch`, and their faults: what an interrupted run leaves.
void drop_units(const std::filesystem::path& results, int64_t experiment, int64_t repetition,
                int64_t from_batch, int64_t batch_size = 8);

// Whether gnuplot can be run (scripts/setup installs gnuplot-nox).
bool gnuplot_available();

// Counts <svg elements and id attributes seen twice in an HTML page.
int count_occurrences(const std::string& text, const std::string& needle);
std::string first_duplicate_id(const std::string& html);

}  // namespace nnfi::testing

// Skips, loudly, a test that needs figures where gnuplot is missing.
#define NNFI_REQUIRE_GNUPLOT()                                                         \
  do {                                                                                 \
    if (!::nnfi::testing::gnuplot_available()) {                                       \
      GTEST_SKIP() << "SKIPPED: gnuplot is not installed (scripts/setup installs the " \
                      "Debian package gnuplot-nox)";                                   \
    }                                                                                  \
  } while (0)
