// Data derived from plan constants (packed weights) shared by every plan that
// derives it from the same constants with the same key, while one of them
// holds it: a campaign plans one model at several batch sizes (golden, trial
// and tail plans), and VGG16's dense weights alone are 480 MB. Plans never
// write their constants, so a live storage (Tensor::storage) means the same
// values. Thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "nnfi/tensor.h"

namespace nnfi::kernels {

template <typename Key, typename Value>
class ConstantDerivedCache {
 public:
  // The value derived from `sources` (nullptr: an absent optional constant)
  // with `key`, made by `make()` when no plan holds one.
  template <typename Make>
  std::shared_ptr<const Value> get(const std::vector<const Tensor*>& sources, const Key& key,
                                   Make make) {
    std::vector<std::weak_ptr<const std::byte>> storages;
    for (const Tensor* source : sources) {
      storages.push_back(source != nullptr ? source->storage() : std::weak_ptr<const std::byte>());
    }
    std::lock_guard<std::mutex> lock(mutex_);
    std::erase_if(entries_, [](const Entry& entry) {
      if (entry.value.expired()) return true;
      for (size_t i = 0; i < entry.storages.size(); ++i) {
        if (entry.present[i] && entry.storages[i].expired()) return true;
      }
      return false;
    });
    for (const Entry& entry : entries_) {
      if (entry.key == key && same_sources(entry, sources, storages)) {
        if (auto value = entry.value.lock()) return value;
      }
    }
    std::shared_ptr<const Value> value = make();
    Entry entry{storages, {}, key, value};
    for (const Tensor* source : sources) entry.present.push_back(source != nullptr);
    entries_.push_back(std::move(entry));
    return value;
  }

 private:
  struct Entry {
    std::vector<std::weak_ptr<const std::byte>> storages;
    std::vector<bool> present;
    Key key;
    std::weak_ptr<const Value> value;
  };

  static bool same_sources(const Entry& entry, const std::vector<const Tensor*>& sources,
                           const std::vector<std::weak_ptr<const std::byte>>& storages) {
    if (entry.storages.size() != storages.size()) return false;
    for (size_t i = 0; i < storages.size(); ++i) {
      if (entry.present[i] != (sources[i] != nullptr)) return false;
      // Neither owner-before the other: the same control block.
      if (entry.present[i] && (entry.storages[i].owner_before(storages[i]) ||
                               storages[i].owner_before(entry.storages[i]))) {
        return false;
      }
    }
    return true;
  }

  std::mutex mutex_;
  std::vector<Entry> entries_;
};

}  // namespace nnfi::kernels
