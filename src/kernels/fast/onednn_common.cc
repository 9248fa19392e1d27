#include "kernels/fast/onednn_common.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>

#include "kernels/constant_cache.h"

namespace nnfi::kernels::onednn {
namespace {

struct FreeDeleter {
  void operator()(void* pointer) const { std::free(pointer); }
};

struct ScratchBuffer {
  std::unique_ptr<void, FreeDeleter> data;
  size_t bytes = 0;
};

}  // namespace

const dnnl::engine& cpu_engine() {
  static const dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

SingleThreadScope::SingleThreadScope() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }

SingleThreadScope::~SingleThreadScope() { omp_set_num_threads(saved_); }

Status parallel_units(int64_t units, const std::string& what,
                      const std::function<void(int64_t begin, int64_t end)>& body) {
  if (units <= 0) return Status::ok();
  const int threads = static_cast<int>(std::min<int64_t>(omp_get_max_threads(), units));
  std::mutex mutex;
  std::string failure;
  auto run = [&](int64_t begin, int64_t end) {
    try {
      SingleThreadScope single;
      body(begin, end);
    } catch (const dnnl::error& error) {
      std::lock_guard<std::mutex> lock(mutex);
      if (failure.empty()) failure = std::string("oneDNN failed: ") + error.what();
    } catch (const std::exception& error) {
      std::lock_guard<std::mutex> lock(mutex);
      if (failure.empty()) failure = error.what();
    }
  };
  if (threads <= 1) {
    run(0, units);
  } else {
    // Ranges of about a quarter of a thread's share, taken in turn; the split
    // never changes a unit's result.
    const int64_t chunk = std::max<int64_t>(1, units / (4 * threads));
    std::atomic<int64_t> next{0};
#pragma omp parallel num_threads(threads)
    {
      for (;;) {
        const int64_t begin = next.fetch_add(chunk, std::memory_order_relaxed);
        if (begin >= units) break;
        run(begin, std::min(units, begin + chunk));
      }
    }
  }
  if (!failure.empty()) return internal_error(what + ": " + failure);
  return Status::ok();
}

void* thread_scratch(ScratchSlot slot, size_t bytes) {
  thread_local std::array<ScratchBuffer, static_cast<size_t>(ScratchSlot::kCount)> buffers;
  ScratchBuffer& buffer = buffers[static_cast<size_t>(slot)];
  bytes = std::max<size_t>(bytes, 64);
  if (buffer.bytes < bytes) {
    const size_t rounded = (bytes + 63) / 64 * 64;
    buffer.data.reset(std::aligned_alloc(64, rounded));
    if (buffer.data == nullptr) throw std::bad_alloc();
    buffer.bytes = rounded;
  }
  return buffer.data.get();
}

dnnl::memory scratchpad_memory(const dnnl::memory::desc& desc) {
  return dnnl::memory(desc, cpu_engine(), thread_scratch(ScratchSlot::kPrimitive, desc.get_size()));
}

dnnl::primitive_attr default_attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

void append_activation(const FusedActivation& activation, dnnl::post_ops* post_ops) {
  switch (activation.kind) {
    case FusedActivation::Kind::kNone: break;
    case FusedActivation::Kind::kRelu:
      post_ops->append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      break;
    case FusedActivation::Kind::kLeakyRelu:
      post_ops->append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, activation.alpha, 0.0f);
      break;
    case FusedActivation::Kind::kClip:
      post_ops->append_eltwise(1.0f, dnnl::algorithm::eltwise_clip_v2, activation.alpha,
                               activation.beta);
      break;
  }
}

dnnl::memory::dims to_dims(const Shape& shape) {
  return dnnl::memory::dims(shape.begin(), shape.end());
}

dnnl::memory reorder_constant(const void* values, const dnnl::memory::desc& plain_desc,
                              const dnnl::memory::desc& desc) {
  const dnnl::engine& engine = cpu_engine();
  dnnl::memory plain(plain_desc, engine, const_cast<void*>(values));
  dnnl::memory packed(desc, engine);
  dnnl::stream& stream = thread_stream();
  dnnl::reorder(plain, packed).execute(stream, plain, packed);
  stream.wait();
  return packed;
}

std::shared_ptr<const dnnl::memory> shared_packed_constant(const Tensor& source,
                                                           const dnnl::memory::desc& plain_desc,
                                                           const dnnl::memory::desc& desc) {
  using Layouts = std::pair<dnnl::memory::desc, dnnl::memory::desc>;
  static ConstantDerivedCache<Layouts, dnnl::memory> cache;
  return cache.get({&source}, Layouts{plain_desc, desc}, [&] {
    return std::make_shared<const dnnl::memory>(
        reorder_constant(source.raw_data(), plain_desc, desc));
  });
}

dnnl::memory alias(const dnnl::memory& memory) {
  return dnnl::memory(memory.get_desc(), cpu_engine(), memory.get_data_handle());
}

}  // namespace nnfi::kernels::onednn
