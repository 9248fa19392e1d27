// A crash inside libhdf5 becomes a failed call.
//
// libhdf5 1.10 trusts much of what a file says and still crashes (SIGSEGV) on
// some corrupt files that pass every check nnfi makes from outside
// (check_global_heaps in hdf5_file.cc): a variable-length string pointing at
// a heap object that is not there (H5HG_read), a garbled object header
// message (H5Aexists). Corrupting the fixtures' .h5 files at random crashed
// it in about 3 cases of 1000. Bad input must never crash nnfi, so every HDF5
// call of the Keras importer goes through h5_guarded: a fault inside the call
// jumps back out of the library, the call returns its failure value, and the
// caller reports the file as corrupt.
//
// Only C frames lie between the jump point and a fault (no C++ destructor is
// skipped). The library is left as the crash left it: the faulted call's
// cache entries stay locked in that file, and HDF5's global lock (the
// thread-safe build Debian ships) stays with the faulting thread, so HDF5
// calls from other threads would wait for ever (the library is not closed
// at exit after a fault, for that reason). nnfi reads model files on one
// thread; a fault ends that model's import with an error.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <tuple>
#include <type_traits>

namespace nnfi::keras_import {

// Runs call(context); false if it faulted (SIGSEGV or SIGBUS on this thread).
bool run_hdf5_guarded(void (*call)(void*), void* context);
// Faults caught on this thread so far.
int64_t hdf5_faults();

// fn(args...) under run_hdf5_guarded; on a fault, HDF5's failure value for
// the result type: negative for ids, herr_t, htri_t and enums, 0 for sizes.
template <auto fn, typename... Args>
auto h5_guarded(Args... args) {
  using Result = decltype(fn(args...));
  struct Call {
    std::tuple<Args...> args;
    Result result;
  };
  Call call{std::tuple<Args...>(args...), Result{}};
  const bool ran = run_hdf5_guarded(
      [](void* context) {
        Call* inside = static_cast<Call*>(context);
        inside->result = std::apply(fn, inside->args);
      },
      &call);
  if (ran) return call.result;
  if constexpr (std::is_unsigned_v<Result>) {
    return Result{0};
  } else {
    return static_cast<Result>(-1);
  }
}

// close(id) under run_hdf5_guarded (H5Id's closers are chosen at run time).
herr_t h5_close_guarded(herr_t (*close)(hid_t), hid_t id);

}  // namespace nnfi::keras_import
