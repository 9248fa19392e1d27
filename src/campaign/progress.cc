#include "campaign/progress.h"

#include <unistd.h>

#include <cstdio>

namespace nnfi::campaign {

Progress::Progress(bool enabled, int64_t units_total, int64_t units_done)
    : enabled_(enabled),
      terminal_(isatty(STDERR_FILENO) != 0),
      total_(units_total),
      done_(units_done),
      resumed_(units_done),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  if (enabled_ && resumed_ > 0) {
    std::fprintf(stderr, "nnfi: resuming: %lld of %lld units already done\n",
                 static_cast<long long>(resumed_), static_cast<long long>(total_));
  }
}

void Progress::advance(int64_t units, int64_t inferences) {
  done_ += units;
  inferences_ += inferences;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since >= (terminal_ ? 0.2 : 10.0)) draw(false);
}

void Progress::note(const std::string& message) {
  if (!enabled_) return;
  if (terminal_) std::fputc('\n', stderr);
  std::fprintf(stderr, "nnfi: %s\n", message.c_str());
}

void Progress::draw(bool final_line) {
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  const double share = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 1;
  const double rate = elapsed > 0 ? static_cast<double>(inferences_) / elapsed : 0;
  const int64_t new_units = done_ - resumed_;
  const double eta =
      new_units > 0 ? elapsed / static_cast<double>(new_units) * static_cast<double>(total_ - done_)
                    : 0;
  if (terminal_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(share * kWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r[%s] %5.1f%%  %lld/%lld units  %.0f faulty inferences/s  ETA %.0f s   ",
                 bar.c_str(), 100 * share, static_cast<long long>(done_),
                 static_cast<long long>(total_), rate, eta);
    if (final_line) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr,
                 "nnfi: %5.1f%% (%lld/%lld units), %.0f faulty inferences/s, %.0f s elapsed, "
                 "ETA %.0f s\n",
                 100 * share, static_cast<long long>(done_), static_cast<long long>(total_), rate,
                 elapsed, eta);
  }
  std::fflush(stderr);
}

void Progress::finish() {
  if (enabled_) draw(true);
}

}  // namespace nnfi::campaign
