// nnfi::run_campaign: golden run once per batch, then every pending unit
// (setting x repetition, unit_runs.h) of the batch on the threads, their
// pooled tails (or the stash of several batches: tail_stash.h), then one
// transaction with the batch's results. Small models run batches side by
// side, one per thread. Resuming skips the units the store already has.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <tuple>

#include "campaign/campaign_setup.h"
#include "campaign/progress.h"
#include "campaign/result_store.h"
#include "campaign/summary.h"
#include "campaign/tail_stash.h"
#include "campaign/trial_engine.h"
#include "campaign/unit_runs.h"
#include "nnfi/campaign.h"

namespace nnfi {
namespace campaign {
namespace {

struct UnitWork {
  size_t setting = 0;  // index into PreparedCampaign::settings
  int64_t repetition = 0;
};

struct RunTiming {
  double total = 0, read = 0, golden = 0, trials = 0, store = 0;
  int64_t faulty_inferences = 0;
  int64_t batches = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

const char* engine_name(Engine engine) {
  switch (engine) {
    case Engine::kCachedPrefix: return "cached";
    case Engine::kPrefixOnly: return "prefix";
    case Engine::kNaive: return "naive";
  }
  return "?";
}

}  // namespace
}  // namespace campaign

Status run_campaign(const CampaignSpec& spec, const RunOptions& options) {
  using namespace campaign;
  const auto run_start = std::chrono::steady_clock::now();
  RunTiming timing;
  if (options.threads > 0) omp_set_num_threads(options.threads);
  const int threads = omp_get_max_threads();
  NNFI_ASSIGN_OR_RETURN(std::unique_ptr<PreparedCampaign> prepared,
                        prepare_campaign(spec, options.engine, threads, options.window_kernels));
  PreparedCampaign& campaign = *prepared;

  std::error_code ignored;
  std::filesystem::create_directories(options.out_dir, ignored);
  if (!std::filesystem::is_directory(options.out_dir)) {
    return io_error(options.out_dir.string() + ": cannot create the results folder");
  }
  NNFI_ASSIGN_OR_RETURN(std::unique_ptr<ResultStore> store,
                        ResultStore::open(options.out_dir / "results.sqlite", campaign.identity));
  const int64_t images = campaign.dataset->size();
  const int64_t batch_size = campaign.batch;
  const int64_t batches = (images + batch_size - 1) / batch_size;
  nlohmann::json layout = {{"batches", batches}, {"images", images}, {"batch", batch_size}};
  for (const ExperimentSpec& experiment : spec.experiments) {
    layout["repetitions"].push_back(experiment.repetitions);
  }
  NNFI_RETURN_IF_ERROR(store->begin());
  for (const SettingRow& row : campaign.setting_rows) NNFI_RETURN_IF_ERROR(store->put_setting(row));
  NNFI_RETURN_IF_ERROR(store->set_campaign_value("layout", layout.dump()));
  NNFI_RETURN_IF_ERROR(store->set_campaign_value("source", spec.source.string()));
  NNFI_RETURN_IF_ERROR(store->set_campaign_value("spec", campaign_spec_to_json(spec)));
  NNFI_RETURN_IF_ERROR(store->set_campaign_value("model", spec.model.string()));
  NNFI_RETURN_IF_ERROR(store->set_campaign_value("data", campaign.dataset->description()));
  NNFI_RETURN_IF_ERROR(store->commit());

  // What is already there (a resumed run).
  std::set<std::tuple<int64_t, int64_t, int64_t, int64_t>> done;
  NNFI_ASSIGN_OR_RETURN(std::vector<UnitRow> existing, store->units());
  for (const UnitRow& row : existing) {
    done.insert({row.experiment, row.setting, row.repetition, row.batch});
  }
  int64_t units_total = 0;
  for (const PreparedSetting& setting : campaign.settings) {
    units_total += setting.spec->repetitions * batches;
  }
  Progress progress(options.progress, units_total, static_cast<int64_t>(done.size()));

  std::vector<std::unique_ptr<TrialEngine>> engines;
  for (int t = 0; t < threads; ++t) {
    engines.push_back(std::make_unique<TrialEngine>(*campaign.trial_plans, campaign.trial_rows,
                                                    campaign.batched, campaign.regions.get(),
                                                    campaign.tail_plans.get()));
  }
  // Small models (a batch's values under 64 MB: the GTSRB CNNs) run whole
  // batches on each thread, one thread per batch: their nodes are too small
  // for the threads to share one (waking them costs more than the work).
  // Large models run one batch at a time with the threads inside it.
  const int workers =
      threads > 1 && batches > 1 && campaign.bytes_per_image * batch_size < (int64_t{64} << 20)
          ? threads
          : 1;
  std::vector<std::map<int64_t, std::unique_ptr<Executor>>> golden_executors(
      static_cast<size_t>(workers));
  std::mutex shared;  // the data set, the store, the progress line, the timing
  Status failure;
  std::atomic<bool> failed{false};

  // A batch between its golden run and its commit.
  struct BatchInFlight {
    int64_t index = 0;
    std::vector<UnitWork> work;
    BatchRow row;
    GoldenBatch golden;  // its executor may hold a later batch by commit time
    std::vector<bool> golden_correct;
    std::vector<std::unique_ptr<PendingUnit>> pending;
    std::vector<TailPool::Entry> tails;  // pooled survivors, still to run
    RunTiming timing;
  };

  // Reads batch b, runs its golden pass and its units' window phases on
  // `engine_set` (all engines, or a worker's own); null when nothing is left to do.
  auto start_batch = [&](int64_t b, std::span<TrialEngine* const> engine_set,
                         std::map<int64_t, std::unique_ptr<Executor>>& executors)
      -> Expected<std::unique_ptr<BatchInFlight>> {
    auto batch = std::make_unique<BatchInFlight>();
    batch->index = b;
    std::vector<UnitWork>& work = batch->work;
    for (size_t s = 0; s < campaign.settings.size(); ++s) {
      const PreparedSetting& setting = campaign.settings[s];
      for (int64_t r = 0; r < setting.spec->repetitions; ++r) {
        if (!done.count({setting.experiment, setting.setting, r, b})) work.push_back({s, r});
      }
    }
    if (work.empty()) return std::unique_ptr<BatchInFlight>();
    RunTiming& local = batch->timing;
    const int64_t first = b * batch_size;
    auto mark = std::chrono::steady_clock::now();
    Expected<DataBatch> read = [&] {
      std::lock_guard<std::mutex> lock(shared);
      return campaign.dataset->read(first, std::min(batch_size, images - first));
    }();
    NNFI_RETURN_IF_ERROR(read.status());
    DataBatch& data = *read;
    local.read += seconds_since(mark);
    const auto golden_start = std::chrono::steady_clock::now();
    if (!data.skip_reasons.empty()) {
      std::lock_guard<std::mutex> lock(shared);
      for (const std::string& reason : data.skip_reasons) progress.note("skipped: " + reason);
    }
    GoldenBatch& golden = batch->golden;
    golden.rows = static_cast<int64_t>(data.ids.size());
    golden.ids = data.ids;
    golden.labels = data.labels;
    golden.fetch = campaign.fetch;
    golden.classes = campaign.classes;
    if (golden.rows > 0) {
      auto& executor = executors[golden.rows];
      if (!executor) {
        NNFI_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan,
                              campaign.trial_plans->get(golden.rows));
        executor = std::make_unique<Executor>(plan, campaign.golden_values);
      }
      NNFI_RETURN_IF_ERROR(executor->set_input(campaign.feed_index, data.inputs));
      NNFI_RETURN_IF_ERROR(executor->run());
      golden.executor = executor.get();
      const float* scores = executor->value(campaign.fetch).data<float>();
      for (int64_t r = 0; r < golden.rows; ++r) {
        const int64_t top = top1_index(scores + r * golden.classes, golden.classes);
        golden.top1.push_back(top);
        batch->golden_correct.push_back(top == golden.labels[r]);
      }
    }
    batch->row = BatchRow{b, first, golden.rows, data.skipped, 0, seconds_since(golden_start)};
    for (bool correct : batch->golden_correct) batch->row.golden_correct += correct ? 1 : 0;
    local.golden += batch->row.golden_seconds;

    mark = std::chrono::steady_clock::now();
    if (golden.rows > 0) {
      // Units spread over the engines' threads; with fewer units than threads
      // they run one by one and the kernels use the threads.
      const auto engine_count = static_cast<size_t>(engine_set.size());
      batch->pending.resize(work.size());
      TailPool pool;
      for (TrialEngine* engine : engine_set) engine->set_tail_pool(&pool);
#pragma omp parallel for schedule(dynamic, 1) num_threads( \
    static_cast <int>(engine_count)) if (engine_count > 1 && work.size() >= engine_count)
      for (size_t w = 0; w < work.size(); ++w) {
        const PreparedSetting& setting = campaign.settings[work[w].setting];
        batch->pending[w] = start_unit(campaign, setting, work[w].repetition, b, golden,
                                       *engine_set[engine_count > 1 ? omp_get_thread_num() : 0]);
      }
      for (TrialEngine* engine : engine_set) engine->set_tail_pool(nullptr);
      batch->tails = pool.take();
    }
    local.trials += seconds_since(mark);
    return batch;
  };

  // Counts a batch's units once its tails have run (`tails`: how that went)
  // and commits it.
  auto commit_batch = [&](BatchInFlight& batch, const Status& tails) -> Status {
    auto mark = std::chrono::steady_clock::now();
    std::vector<UnitOutcome> outcomes(batch.work.size());
    for (size_t w = 0; w < batch.work.size(); ++w) {
      const PreparedSetting& setting = campaign.settings[batch.work[w].setting];
      if (batch.pending.empty()) {  // an empty batch (every image skipped)
        outcomes[w].row =
            UnitRow{setting.experiment, setting.setting, batch.work[w].repetition, batch.index};
        continue;
      }
      if (!tails.is_ok() && batch.pending[w]->outcome.status.is_ok()) {
        batch.pending[w]->outcome.status = tails;
      }
      outcomes[w] =
          finish_unit(campaign, setting, batch.golden, batch.golden_correct, *batch.pending[w]);
    }
    batch.timing.trials += seconds_since(mark);

    std::lock_guard<std::mutex> lock(shared);
    mark = std::chrono::steady_clock::now();
    int64_t faulty_inferences = 0;
    NNFI_RETURN_IF_ERROR(store->begin());
    Status written = store->put_batch(batch.row);
    for (const UnitOutcome& outcome : outcomes) {
      if (written.is_ok()) written = outcome.status;
      if (written.is_ok()) written = store->put_unit(outcome.row);
      for (const FaultRow& fault : outcome.faults) {
        if (written.is_ok()) written = store->put_fault(fault);
      }
      faulty_inferences += outcome.row.faulted;
    }
    if (!written.is_ok()) {
      (void)store->rollback();
      return written;
    }
    NNFI_RETURN_IF_ERROR(store->commit());
    timing.store += seconds_since(mark);
    timing.read += batch.timing.read;
    timing.golden += batch.timing.golden;
    timing.trials += batch.timing.trials;
    timing.faulty_inferences += faulty_inferences;
    ++timing.batches;
    progress.advance(static_cast<int64_t>(batch.work.size()), faulty_inferences);
    return Status::ok();
  };

  // Runs a started batch's pooled tails on its own golden values, then commits it.
  auto run_tails_and_commit = [&](BatchInFlight& batch,
                                  std::span<TrialEngine* const> engine_set) -> Status {
    const auto mark = std::chrono::steady_clock::now();
    const Status tails =
        TrialEngine::run_pooled_tails(batch.golden, std::move(batch.tails), engine_set);
    batch.timing.trials += seconds_since(mark);
    return commit_batch(batch, tails);
  };

  // One batch from start to commit, its tails run at once.
  auto run_batch = [&](int64_t b, std::span<TrialEngine* const> engine_set,
                       std::map<int64_t, std::unique_ptr<Executor>>& executors) -> Status {
    NNFI_ASSIGN_OR_RETURN(std::unique_ptr<BatchInFlight> batch,
                          start_batch(b, engine_set, executors));
    return batch == nullptr ? Status::ok() : run_tails_and_commit(*batch, engine_set);
  };

  std::vector<TrialEngine*> all_engines;
  for (auto& engine : engines) all_engines.push_back(engine.get());
  if (workers == 1 && campaign.regions != nullptr) {
    // A large model: few survivors per batch, each tail run a pass over the
    // dense weights; tails of several batches wait in a stash and run together.
    constexpr int64_t kStashRows = 64;  // run the stash from this many trials
    // or this many batches waiting to commit: the progress line moves and an
    // interrupted run redoes little (VGG16: 4 batches of 32 are ~30 s).
    constexpr size_t kMaxWaiting = 4;
    TailStash stash(*campaign.tail_plans, campaign.batched);
    std::vector<std::unique_ptr<BatchInFlight>> waiting;
    const GoldenBatch* live = nullptr;  // the latest golden run, still held
    auto run_stash = [&]() -> Status {
      const auto mark = std::chrono::steady_clock::now();
      const Status tails = live != nullptr ? stash.run(*live, all_engines) : Status::ok();
      timing.trials += seconds_since(mark);
      for (auto& batch : waiting) NNFI_RETURN_IF_ERROR(commit_batch(*batch, tails));
      waiting.clear();
      return Status::ok();
    };
    for (int64_t b = 0; b < batches; ++b) {
      NNFI_ASSIGN_OR_RETURN(std::unique_ptr<BatchInFlight> batch,
                            start_batch(b, all_engines, golden_executors[0]));
      if (batch == nullptr) continue;
      if (stash.size() == 0 && static_cast<int64_t>(batch->tails.size()) >= kStashRows) {
        // Enough rows already: no need to wait for other batches.
        NNFI_RETURN_IF_ERROR(run_tails_and_commit(*batch, all_engines));
        continue;
      }
      const auto mark = std::chrono::steady_clock::now();
      NNFI_RETURN_IF_ERROR(stash.add(batch->golden, std::move(batch->tails)));
      batch->timing.trials += seconds_since(mark);
      live = &batch->golden;
      waiting.push_back(std::move(batch));
      if (stash.size() >= kStashRows || waiting.size() >= kMaxWaiting) {
        NNFI_RETURN_IF_ERROR(run_stash());
        live = nullptr;
      }
    }
    NNFI_RETURN_IF_ERROR(run_stash());
  } else if (workers == 1) {
    for (int64_t b = 0; b < batches; ++b) {
      NNFI_RETURN_IF_ERROR(run_batch(b, all_engines, golden_executors[0]));
    }
  } else {
#pragma omp parallel for schedule(dynamic, 1) num_threads(workers)
    for (int64_t b = 0; b < batches; ++b) {
      if (failed.load()) continue;
      const int worker = omp_get_thread_num();
      TrialEngine* own = all_engines[static_cast<size_t>(worker)];
      Status status = run_batch(b, std::span<TrialEngine* const>(&own, 1),
                                golden_executors[static_cast<size_t>(worker)]);
      if (!status.is_ok() && !failed.exchange(true)) failure = std::move(status);
    }
    NNFI_RETURN_IF_ERROR(failure);
    // The phases' times were summed over the workers: as wall time, divide.
    timing.read /= workers;
    timing.golden /= workers;
    timing.trials /= workers;
  }
  progress.finish();
  // Where this invocation's time went (a resumed run reports its own part).
  timing.total = seconds_since(run_start);
  nlohmann::json timing_json = {
      {"seconds", timing.total},
      {"read_seconds", timing.read},
      {"golden_seconds", timing.golden},
      {"trial_seconds", timing.trials},
      {"store_seconds", timing.store},
      {"faulty_inferences", timing.faulty_inferences},
      {"faulty_inferences_per_second",
       timing.trials > 0 ? static_cast<double>(timing.faulty_inferences) / timing.trials : 0.0},
      {"engine", engine_name(options.engine)},
      {"threads", threads},
      {"batch_workers", workers}};
  TrialEngine::Counters window;
  for (const auto& engine : engines) {
    window.window_trials += engine->counters().window_trials;
    window.window_masked += engine->counters().window_masked;
    window.batched_trials += engine->counters().batched_trials;
    window.tail_runs += engine->counters().tail_runs;
    window.chunks_helped += engine->counters().chunks_helped;
    window.window_multiply_adds += engine->counters().window_multiply_adds;
    window.window_seconds += engine->counters().window_seconds;
    window.window_thread_seconds += engine->counters().window_thread_seconds;
    window.batched_seconds += engine->counters().batched_seconds;
  }
  if (window.window_trials > 0) {
    // The cached engine's two phases (region_trials.h): trials recomputed
    // window by window, those masked there, those that went on batched.
    timing_json["window_phase"] = {{"trials", window.window_trials},
                                   {"masked", window.window_masked},
                                   {"batched", window.batched_trials},
                                   {"tail_runs", window.tail_runs},
                                   {"window_seconds", window.window_seconds},
                                   {"batched_seconds", window.batched_seconds},
                                   {"chunks_helped", window.chunks_helped},
                                   {"multiply_adds", window.window_multiply_adds},
                                   {"window_thread_seconds", window.window_thread_seconds}};
  }
  if (timing.batches > 0) {
    NNFI_RETURN_IF_ERROR(store->set_campaign_value("timing", timing_json.dump()));
  }
  if (options.progress && timing.batches > 0) {
    std::fprintf(stderr,
                 "nnfi: %.1f s: read %.1f s, golden runs %.1f s, faulty inferences %.1f s "
                 "(%lld, %.0f/s), results %.1f s\n",
                 timing.total, timing.read, timing.golden, timing.trials,
                 static_cast<long long>(timing.faulty_inferences),
                 timing_json["faulty_inferences_per_second"].get<double>(), timing.store);
  }
  return write_summary(*store, options.out_dir);
}

}  // namespace nnfi
