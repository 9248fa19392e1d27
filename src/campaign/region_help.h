// Sharing the last trials' convs of a window phase (region_trials.h) with the
// threads that have run out of trials.
//
// Trials take very different times (VGG16: most are masked after one pool, a
// survivor recomputes ~13 ms of windows), so the last one of a batch used to
// run on one core while the others waited. A thread with no trial left now
// waits on this board instead, and a thread about to run a conv while others
// wait posts it here: both then take chunks of its output channels
// (WindowConv::run_chunks, bit-identical to a whole run) until none is left.
//
// Hand-written rather than OpenMP tasks: libgomp's tasks made the VGG16
// window phase 2x slower on the 2-core VM this was measured on (bench/README).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "kernels/window/window_kernels.h"

namespace nnfi::campaign {

class ConvHelpBoard {
 public:
  explicit ConvHelpBoard(int64_t trials) : unfinished_(trials) {}

  // Runs `conv` as WindowConv::run does, sharing its chunks with the threads
  // waiting in help_until_done() when there are any.
  void run(const kernels::window::WindowConv& conv, const float* input,
           const kernels::window::Window& in, const kernels::window::Window& out, float* output);
  // One trial is done, whatever its outcome.
  void finish_trial() { unfinished_.fetch_sub(1, std::memory_order_acq_rel); }
  // For a thread with no trial left: takes chunks of posted convs until every
  // trial is done.
  void help_until_done();

  // Threads in help_until_done() now, and chunks they have run (for tests
  // and measurements).
  int waiting() const { return waiting_.load(std::memory_order_relaxed); }
  int64_t chunks_helped() const { return chunks_helped_.load(std::memory_order_relaxed); }

 private:
  struct Job {
    const kernels::window::WindowConv* conv = nullptr;
    const float* input = nullptr;
    kernels::window::Window in, out;
    float* output = nullptr;
    int64_t next = 0;     // first chunk nobody has taken
    int64_t total = 0;    // chunks of the conv
    int64_t running = 0;  // chunks taken by helpers and not yet finished
    bool active = false;
  };
  // Takes the next chunk of the posted job into `*chunk` (a helper also gets
  // a copy of the job, and counts in Job::running until it has run the
  // chunk); false when none is left.
  bool take_chunk(bool helper, Job* job, int64_t* chunk);

  std::mutex mutex_;
  Job job_;                          // guarded by mutex_
  std::atomic<bool> posted_{false};  // job_.active, read without the lock
  std::atomic<int> waiting_{0};      // threads in help_until_done()
  std::atomic<int64_t> unfinished_;  // trials not done yet
  std::atomic<int64_t> chunks_helped_{0};
};

}  // namespace nnfi::campaign
