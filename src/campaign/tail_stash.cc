#include "campaign/tail_stash.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace nnfi::campaign {

const std::vector<ValueId>& TailStash::tail_values(const Plan& plan, const ResumePlan& resume,
                                                   int32_t stop, ValueId fetch) {
  auto found = tail_values_.find({resume.id, stop});
  if (found != tail_values_.end()) return found->second;
  // What the tail reads, computes (compared with golden, or copied where a
  // node is skipped) and the fetch.
  const Graph& graph = plan.graph();
  std::set<ValueId> values = {fetch};
  for (size_t i = static_cast<size_t>(stop); i < resume.nodes.size(); ++i) {
    for (ValueId input : graph.nodes[resume.nodes[i]].inputs) {
      if (input != kNoValue && plan.constant_value(input) == nullptr) values.insert(input);
    }
    for (ValueId output : graph.nodes[resume.nodes[i]].outputs) values.insert(output);
  }
  std::vector<ValueId> list;
  for (ValueId value : values) {
    if (plan.value_dtype(value) != DType::kUndefined) list.push_back(value);
  }
  return tail_values_[{resume.id, stop}] = std::move(list);
}

Status TailStash::add(const GoldenBatch& golden, std::vector<TailPool::Entry> entries) {
  const Plan& plan = golden.executor->plan();
  for (TailPool::Entry& entry : entries) {
    Stashed stashed;
    stashed.row = entry.trial->row;
    stashed.top1 = golden.top1[static_cast<size_t>(stashed.row)];
    for (ValueId value : tail_values(plan, *entry.resume, entry.stop, golden.fetch)) {
      if (!batched_[value]) {
        if (std::find(shared_values_.begin(), shared_values_.end(), value) ==
            shared_values_.end()) {
          shared_values_.push_back(value);
        }
        continue;
      }
      const Tensor& tensor = golden.executor->value(value);
      const size_t row_bytes = tensor.num_bytes() / static_cast<size_t>(golden.rows);
      const char* source = static_cast<const char*>(tensor.raw_data()) +
                           row_bytes * static_cast<size_t>(stashed.row);
      stashed.rows.emplace_back(value, std::vector<char>(source, source + row_bytes));
    }
    stashed.entry = std::move(entry);
    stashed_.push_back(std::move(stashed));
  }
  return Status::ok();
}

Status TailStash::run(const GoldenBatch& live, std::span<TrialEngine* const> engines) {
  if (stashed_.empty()) return Status::ok();
  const auto count = static_cast<int64_t>(stashed_.size());
  const int64_t rows = tail_executor_rows(count);
  NNFI_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, tail_plans_.get(rows));
  Executor executor(plan);
  // A golden batch of the stashed trials' own rows, trial k in row k.
  GoldenBatch golden;
  golden.rows = rows;
  golden.executor = &executor;
  golden.fetch = live.fetch;
  golden.classes = live.classes;
  golden.top1.assign(static_cast<size_t>(rows), 0);
  for (int64_t k = 0; k < count; ++k) {
    Stashed& stashed = stashed_[static_cast<size_t>(k)];
    golden.top1[static_cast<size_t>(k)] = stashed.top1;
    for (const auto& [value, bytes] : stashed.rows) {
      Tensor& target = executor.value(value);
      if (target.num_bytes() != bytes.size() * static_cast<size_t>(rows)) {
        return internal_error("stashed golden row of value '" + plan->graph().values[value].name +
                              "' does not fit the tail plan");
      }
      std::memcpy(static_cast<char*>(target.raw_data()) + bytes.size() * static_cast<size_t>(k),
                  bytes.data(), bytes.size());
    }
    stashed.entry.trial->row = k;
  }
  for (ValueId value : shared_values_) {
    Tensor& target = executor.value(value);
    const Tensor& source = live.executor->value(value);
    if (target.shape() != source.shape()) {
      return internal_error("value '" + plan->graph().values[value].name +
                            "' has no batch axis but changes shape with the batch");
    }
    target.copy_from(source);
  }
  std::vector<TailPool::Entry> entries;
  std::vector<std::pair<Trial*, int64_t>> own_rows;
  for (Stashed& stashed : stashed_) {
    own_rows.emplace_back(stashed.entry.trial, stashed.row);
    entries.push_back(std::move(stashed.entry));
  }
  stashed_.clear();
  shared_values_.clear();
  const Status status = TrialEngine::run_pooled_tails(golden, std::move(entries), engines);
  // The trials' rows back to their own batches.
  for (const auto& [trial, row] : own_rows) trial->row = row;
  return status;
}

}  // namespace nnfi::campaign
