#include "runtime/buffer_sharing.h"

#include <algorithm>
#include <limits>

namespace nnfi::runtime {

SharedBuffers share_buffers(const std::vector<std::vector<ValueId>>& reads,
                            const std::vector<std::vector<ValueId>>& writes,
                            const std::vector<size_t>& bytes, const std::vector<char>& may_share) {
  const size_t values = bytes.size();
  const auto nodes = static_cast<int32_t>(reads.size());
  constexpr int32_t kNever = std::numeric_limits<int32_t>::min();
  std::vector<int32_t> first(values, kNever), last(values, kNever);
  for (int32_t n = 0; n < nodes; ++n) {
    for (ValueId v : writes[n]) {
      if (v == kNoValue) continue;
      if (first[v] == kNever) first[v] = n;
      last[v] = std::max(last[v], n);
    }
    for (ValueId v : reads[n]) {
      if (v != kNoValue) last[v] = std::max(last[v], n);
    }
  }
  SharedBuffers result;
  result.block.assign(values, -1);
  // A value no node writes holds what was put there before the first run,
  // run after run: it keeps a buffer of its own.
  std::vector<std::vector<ValueId>> born(static_cast<size_t>(nodes) + 1), dies(nodes + 1);
  for (size_t v = 0; v < values; ++v) {
    if (!may_share[v] || bytes[v] == 0 || first[v] == kNever) continue;
    const int32_t from = first[v] + 1;
    const int32_t to = last[v] == kNever ? from : std::max(from, last[v] + 1);
    born[from].push_back(static_cast<ValueId>(v));
    dies[to].push_back(static_cast<ValueId>(v));
  }
  // Step t: before node t (t = 0) or after node t - 1.
  std::vector<int32_t> free_blocks;
  for (int32_t t = 0; t <= nodes; ++t) {
    // Outputs of node t - 1 are taken while its inputs still hold theirs:
    // a node never writes over what it reads.
    for (ValueId v : born[t]) {
      int32_t best = -1;
      for (int32_t b : free_blocks) {
        const bool fits = result.block_bytes[b] >= bytes[v];
        if (best < 0) {
          best = b;
          continue;
        }
        const bool best_fits = result.block_bytes[best] >= bytes[v];
        if (fits ? (!best_fits || result.block_bytes[b] < result.block_bytes[best])
                 : (!best_fits && result.block_bytes[b] > result.block_bytes[best])) {
          best = b;
        }
      }
      if (best < 0) {
        best = static_cast<int32_t>(result.block_bytes.size());
        result.block_bytes.push_back(0);
      } else {
        free_blocks.erase(std::find(free_blocks.begin(), free_blocks.end(), best));
      }
      result.block_bytes[best] = std::max(result.block_bytes[best], bytes[v]);
      result.block[v] = best;
    }
    for (ValueId v : dies[t]) free_blocks.push_back(result.block[v]);
  }
  return result;
}

}  // namespace nnfi::runtime
