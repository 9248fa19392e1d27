// Which values of a run may share one buffer (Executor with `keep`): values
// whose lifetimes, from the node that writes them to the last node that reads
// them, do not overlap. Plain inference and a campaign's golden run read back
// only a few values, and a network's early activations are its largest
// (VGG16: 95 of its 110 MB a image come before conv3_3), so sharing cuts
// their memory and the time the first run spends having it mapped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nnfi/graph.h"

namespace nnfi::runtime {

struct SharedBuffers {
  std::vector<int32_t> block;       // per value: its shared buffer, -1 for none
  std::vector<size_t> block_bytes;  // per shared buffer
};

// reads / writes: per node, in run order, what it reads and writes (empty for
// a node that does not run). bytes: per value. may_share: per value; the
// others keep buffers of their own, as does a value no node writes (it
// holds what was put there before the first run, run after run). A value
// nothing reads lives until its writer is done. Greedy in run order: a value takes the smallest
// free buffer big enough, else the largest free one, grown, else a new one.
SharedBuffers share_buffers(const std::vector<std::vector<ValueId>>& reads,
                            const std::vector<std::vector<ValueId>>& writes,
                            const std::vector<size_t>& bytes, const std::vector<char>& may_share);

}  // namespace nnfi::runtime
