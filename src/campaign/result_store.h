// DIR/results.sqlite: the campaign's identity, its settings, every finished
// unit of work and the injected faults. Written one batch at a time in one
// transaction, so a run killed at any moment (kill -9) loses at most the batch
// in flight and resumes from the units that are there.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nnfi/status.h"

namespace nnfi::campaign {

// What makes two runs the same campaign; a resumed run must match.
struct CampaignIdentity {
  std::string config;      // canonical campaign text (+ command-line overrides)
  std::string model_hash;  // of the model file's bytes
  std::string data_hash;   // dataset_fingerprint
  std::string seed;
  std::string nnfi_version;
};

struct SettingRow {
  int64_t experiment = 0, setting = 0;
  std::string experiment_name;
  std::string group;         // "conv2d_1", "Add", "all", ...
  std::string group_kind;    // layer, op, node, weight, input, all
  std::string group_class;   // layer class / op type where one applies
  int64_t group_index = -1;  // layer index where one applies
  std::string shape;         // output shape of the group's site (one image)
  double probability = 0;    // or the fault count k for faults_per_inference
  std::string metric;
  std::string sites;  // comma-separated site names
  int64_t site_elements = 0;
};

struct UnitRow {
  int64_t experiment = 0, setting = 0, repetition = 0, batch = 0;
  int64_t images = 0;                                      // images evaluated in this unit
  int64_t faulted = 0;                                     // images that got at least one fault
  int64_t faults = 0;                                      // element faults injected
  int64_t correct = 0;                                     // top-1 == label, with faults
  int64_t agree = 0;                                       // top-1 == golden top-1, with faults
  int64_t masked = 0, benign = 0, sdc = 0, nonfinite = 0;  // outcomes of faulted images
};

struct BatchRow {
  int64_t batch = 0, first = 0, images = 0, skipped = 0;
  int64_t golden_correct = 0;
  double golden_seconds = 0;
};

enum class Outcome : int { kMasked = 0, kBenign = 1, kSdc = 2, kNonFinite = 3 };
const char* outcome_name(Outcome outcome);

struct FaultRow {
  int64_t id = 0;
  int64_t experiment = 0, setting = 0, repetition = 0;
  int64_t image = 0;  // data set example id
  std::string site;
  int64_t site_key = 0;  // the RandomKey::site of the draw
  int64_t element = 0;
  uint64_t before = 0, after = 0;  // stored bits
  int bit = -1;                    // the lowest flipped bit, -1 when not a single-bit change
  Outcome outcome = Outcome::kMasked;
};

class ResultStore {
 public:
  // Opens or creates DIR/results.sqlite. An existing store for a different
  // campaign is refused with a message naming what changed.
  static Expected<std::unique_ptr<ResultStore>> open(const std::filesystem::path& file,
                                                     const CampaignIdentity& identity);
  // Read-only access (report, replay).
  static Expected<std::unique_ptr<ResultStore>> open_existing(const std::filesystem::path& file);
  ~ResultStore();

  Expected<std::string> campaign_value(const std::string& key);
  // Facts about the run that are not part of the identity (layout, source).
  Status set_campaign_value(const std::string& key, const std::string& value);

  Status begin();
  Status commit();
  Status rollback();

  Status put_setting(const SettingRow& row);
  Status put_batch(const BatchRow& row);
  Status put_unit(const UnitRow& row);
  Status put_fault(const FaultRow& row);

  Expected<std::vector<SettingRow>> settings();
  Expected<std::vector<BatchRow>> batches();
  Expected<std::vector<UnitRow>> units();
  Expected<std::optional<FaultRow>> fault(int64_t id);
  // Per (experiment, setting, site, outcome, bit): counts, for reports.
  Expected<int64_t> fault_count();

  sqlite3* handle() { return db_; }

 private:
  explicit ResultStore(sqlite3* db, std::filesystem::path file) : db_(db), file_(std::move(file)) {}
  Status exec(const std::string& sql);
  Status error(const std::string& what);

  sqlite3* db_;
  std::filesystem::path file_;
  // Prepared statements, finalized in the destructor.
  std::map<std::string, sqlite3_stmt*> statements_;
  Expected<sqlite3_stmt*> statement(const std::string& sql);
};

}  // namespace nnfi::campaign
