// summary.json, settings.csv and repetitions.csv from a result store: the
// figures of DESIGN.md per experiment and setting (mean, std, min, max, CMA,
// 95% interval, outcomes) and per site group the linear fit of accuracy
// against p. Computed from the store alone, so a resumed run ends with the
// same summary as an uninterrupted one, and a partial run says what is missing.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "campaign/result_store.h"
#include "nnfi/status.h"

namespace nnfi::campaign {

Expected<nlohmann::json> build_summary(ResultStore& store);
Status write_summary(ResultStore& store, const std::filesystem::path& out_dir);

}  // namespace nnfi::campaign
