// Shared plumbing of the oneDNN fast kernels: the engine, per-thread streams
// and scratch, dims helpers, and the rule that makes them deterministic.
//
// Determinism (DESIGN.md, performance principle 7): every primitive is built
// for a fixed amount of work (one image for Conv and the pools, a block of
// kRowBlock rows for MatMul/Gemm) and configured for one thread, whatever the
// thread count; batches are split into such units and the units spread over
// OpenMP threads by parallel_units(). oneDNN then never chooses an algorithm
// or a work split by batch size or thread count, so an image's outputs are
// bit-identical in any batch, at any position, with any OMP_NUM_THREADS.
//
// Thread safety: a kernel's state (primitives, reordered weights) is immutable
// after the factory returns; eval takes its scratch from a thread_local arena
// and builds its dnnl::memory wrappers per worker, so executors on several
// threads may share one Plan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <string>

#include "kernels/fast/fast_kernels.h"
#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi::kernels::onednn {

// The process-wide CPU engine (created on first use, never destroyed so that
// thread_local streams may outlive static destruction order).
const dnnl::engine& cpu_engine();
// A CPU stream for the calling thread.
dnnl::stream& thread_stream();

// While alive, oneDNN on this thread sees one OpenMP thread: primitives built
// under it are configured for one thread and run without their own threading.
class SingleThreadScope {
 public:
  SingleThreadScope();
  ~SingleThreadScope();
  SingleThreadScope(const SingleThreadScope&) = delete;
  SingleThreadScope& operator=(const SingleThreadScope&) = delete;

 private:
  int saved_;
};

// Calls body(begin, end) on contiguous ranges that together cover [0, units),
// on up to omp_get_max_threads() OpenMP threads, each under a
// SingleThreadScope. Threads take small ranges as they get free (so a thread
// the OS holds back on a busy machine does not hold up the node). Units must
// be independent: how they are split never changes a result. A dnnl::error
// or std::exception thrown by body is caught and returned as an internal
// error naming `what`.
Status parallel_units(int64_t units, const std::string& what,
                      const std::function<void(int64_t begin, int64_t end)>& body);

// Per-thread growable 64-byte aligned scratch; slots are independent buffers.
// The pointer stays valid until the same thread asks the same slot for more.
enum class ScratchSlot { kPrimitive = 0, kSource = 1, kDestination = 2, kCount = 3 };
void* thread_scratch(ScratchSlot slot, size_t bytes);

// A dnnl::memory over the thread's kPrimitive scratch, sized for `desc`.
dnnl::memory scratchpad_memory(const dnnl::memory::desc& desc);

// Attributes every fast primitive is built with (user-managed scratchpad).
dnnl::primitive_attr default_attr();

// Appends a fused plan's activation (nothing for kNone) as an eltwise post-op.
void append_activation(const FusedActivation& activation, dnnl::post_ops* post_ops);

// Dims from a shape.
dnnl::memory::dims to_dims(const Shape& shape);

// A memory with its own buffer in `desc`, filled by reordering the plain
// float32 `values` (laid out as `plain_desc`). Throws dnnl::error.
dnnl::memory reorder_constant(const void* values, const dnnl::memory::desc& plain_desc,
                              const dnnl::memory::desc& desc);

// `source` (a plan constant, laid out as `plain_desc`) packed into `desc`,
// shared by every kernel that asks for the same constant in the same layout
// (ConstantDerivedCache: plans of one model at several batch sizes would
// otherwise each hold a copy and pay for the reorder). Throws dnnl::error.
std::shared_ptr<const dnnl::memory> shared_packed_constant(const Tensor& source,
                                                           const dnnl::memory::desc& plain_desc,
                                                           const dnnl::memory::desc& desc);

// A wrapper that points at `memory`'s buffer; concurrent evals each use their own.
dnnl::memory alias(const dnnl::memory& memory);

}  // namespace nnfi::kernels::onednn
