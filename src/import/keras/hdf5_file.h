// A small read-only view of an HDF5 file for the Keras importer: RAII ids,
// string attributes (fixed or variable length, scalar or list), group
// children and float datasets. Every failure is a Status naming the file and
// the object; HDF5's own error printing is silenced while nnfi calls it.
#pragma once

#include <hdf5.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "import/keras/hdf5_guard.h"
#include "nnfi/status.h"
#include "nnfi/tensor.h"

namespace nnfi::keras_import {

// Owns one hid_t and closes it with the matching H5?close.
class H5Id {
 public:
  using CloseFn = herr_t (*)(hid_t);
  H5Id() = default;
  H5Id(hid_t id, CloseFn close) : id_(id), close_(close) {}
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  H5Id(H5Id&& other) noexcept { *this = std::move(other); }
  H5Id& operator=(H5Id&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      close_ = other.close_;
    }
    return *this;
  }
  ~H5Id() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && close_ != nullptr) h5_close_guarded(close_, id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  CloseFn close_ = nullptr;
};

// Turns HDF5's automatic error printing off for its lifetime (restores it).
class H5Quiet {
 public:
  H5Quiet();
  ~H5Quiet();
  H5Quiet(const H5Quiet&) = delete;
  H5Quiet& operator=(const H5Quiet&) = delete;

 private:
  H5E_auto2_t saved_func_ = nullptr;
  void* saved_data_ = nullptr;
};

class Hdf5File {
 public:
  // Opens a file on disk read-only.
  static Expected<Hdf5File> open(const std::filesystem::path& path);
  // Opens an HDF5 file image held in memory (a .keras archive's
  // model.weights.h5); `display_name` names it in messages.
  static Expected<Hdf5File> open_image(const std::string& bytes, std::string display_name);

  const std::string& name() const { return name_; }
  hid_t root() const { return file_.get(); }

  // Whether `path` (relative to `location`, "a/b/c") names an existing link;
  // false for a path through a missing group.
  bool exists(hid_t location, const std::string& path) const;
  Expected<H5Id> open_group(hid_t location, const std::string& path) const;
  bool is_group(hid_t location, const std::string& path) const;
  // Names of a group's direct children, in the file's name order.
  Expected<std::vector<std::string>> children(hid_t group, const std::string& where) const;

  bool has_attribute(hid_t object, const std::string& attribute) const;
  // A string attribute; a list of one string reads as that string.
  Expected<std::string> string_attribute(hid_t object, const std::string& attribute,
                                         const std::string& where) const;
  // A string list attribute; an empty list (Keras writes one for layers
  // without weights) reads as {}.
  Expected<std::vector<std::string>> string_list_attribute(hid_t object,
                                                           const std::string& attribute,
                                                           const std::string& where) const;
  // A floating-point dataset converted to float32 (float16/32/64 stored).
  Expected<Tensor> float_dataset(hid_t location, const std::string& path) const;

 private:
  Hdf5File(H5Id file, std::string name) : file_(std::move(file)), name_(std::move(name)) {}

  Status error(const std::string& where, const std::string& what) const;

  H5Id file_;
  std::string name_;
};

}  // namespace nnfi::keras_import
