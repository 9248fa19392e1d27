// Progress on stderr: a bar redrawn in place with faulty inferences per second
// and the ETA when stderr is a terminal; plain lines every few seconds
// otherwise (logs, CI).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace nnfi::campaign {

class Progress {
 public:
  Progress(bool enabled, int64_t units_total, int64_t units_done);
  // `units` more finished, with `inferences` faulty inferences among them.
  void advance(int64_t units, int64_t inferences);
  // A message on its own line (e.g. a skipped image).
  void note(const std::string& message);
  void finish();

 private:
  void draw(bool final_line);

  bool enabled_;
  bool terminal_;
  int64_t total_, done_, resumed_;
  int64_t inferences_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace nnfi::campaign
