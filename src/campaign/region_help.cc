#include "campaign/region_help.h"

#include <immintrin.h>

#include <thread>

namespace nnfi::campaign {
namespace {

// Spin politely: a pause per turn, and the core given up now and then in
// case more threads than cores run.
void spin_turn(int64_t* turns) {
  if ((++*turns & 63) == 0) {
    std::this_thread::yield();
  } else {
    _mm_pause();
  }
}

}  // namespace

bool ConvHelpBoard::take_chunk(bool helper, Job* job, int64_t* chunk) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!job_.active || job_.next >= job_.total) return false;
  *chunk = job_.next++;
  if (helper) {
    ++job_.running;
    *job = job_;
  }
  return true;
}

void ConvHelpBoard::run(const kernels::window::WindowConv& conv, const float* input,
                        const kernels::window::Window& in, const kernels::window::Window& out,
                        float* output) {
  const int64_t chunks = conv.chunks();
  if (chunks < 2 || waiting_.load(std::memory_order_relaxed) == 0) {
    conv.run(input, in, out, output);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (job_.active) {
      // Another thread's conv holds the board (more than two threads).
      conv.run(input, in, out, output);
      return;
    }
    job_ = Job{&conv, input, in, out, output, 0, chunks, 0, true};
    posted_.store(true, std::memory_order_release);
  }
  Job unused;
  int64_t chunk = 0;
  while (take_chunk(false, &unused, &chunk))
    conv.run_chunks(input, in, out, output, chunk, chunk + 1);
  // Every chunk is taken; wait for the helpers' to be written.
  int64_t turns = 0;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (job_.running == 0) {
        job_.active = false;
        posted_.store(false, std::memory_order_relaxed);
        return;
      }
    }
    spin_turn(&turns);
  }
}

void ConvHelpBoard::help_until_done() {
  waiting_.fetch_add(1, std::memory_order_relaxed);
  int64_t turns = 0;
  while (unfinished_.load(std::memory_order_acquire) > 0) {
    Job job;
    int64_t chunk = 0;
    if (!posted_.load(std::memory_order_acquire) || !take_chunk(true, &job, &chunk)) {
      spin_turn(&turns);
      continue;
    }
    job.conv->run_chunks(job.input, job.in, job.out, job.output, chunk, chunk + 1);
    chunks_helped_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mutex_);
    --job_.running;
  }
  waiting_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace nnfi::campaign
