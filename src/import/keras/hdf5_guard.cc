#include "import/keras/hdf5_guard.h"

#include <atomic>
#include <csetjmp>
#include <csignal>
#include <cstdlib>
#include <mutex>

namespace nnfi::keras_import {
namespace {

// Where a fault on this thread jumps to; nullptr outside guarded calls.
thread_local sigjmp_buf* t_jump = nullptr;
thread_local int64_t t_faults = 0;
// Whether any thread has had a fault (HDF5's state is then broken).
std::atomic<bool> g_any_fault{false};

struct sigaction g_previous_segv;
struct sigaction g_previous_bus;

void on_fault(int signal, siginfo_t*, void*) {
  sigjmp_buf* jump = t_jump;
  if (jump != nullptr) {
    t_jump = nullptr;
    ++t_faults;
    siglongjmp(*jump, 1);
  }
  // A fault outside HDF5: give the signal back to whoever had it before (by
  // default the crash it always was); the faulting instruction runs again.
  sigaction(signal, signal == SIGSEGV ? &g_previous_segv : &g_previous_bus, nullptr);
}

void install_handler() {
  struct sigaction action {};
  action.sa_sigaction = on_fault;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  sigaction(SIGSEGV, &action, &g_previous_segv);
  sigaction(SIGBUS, &action, &g_previous_bus);
}

// libhdf5 closes whatever is still open when the process exits (its own
// atexit hook, H5_term_library), and a file a fault left half-closed crashes
// it there. So its hook is turned off before anything calls HDF5 (this runs
// at static initialisation; HDF5 starts on its first call) and ours closes
// the library, unless a fault broke it: then nothing is closed (the process
// ends anyway), since H5close would wait for ever for the global lock if
// another thread faulted holding it.
void close_library_at_exit() {
  if (g_any_fault.load()) return;
  run_hdf5_guarded([](void*) { H5close(); }, nullptr);
}

const bool g_exit_hook_installed = [] {
  H5dont_atexit();
  std::atexit(close_library_at_exit);
  return true;
}();

}  // namespace

bool run_hdf5_guarded(void (*call)(void*), void* context) {
  static std::once_flag installed;
  std::call_once(installed, install_handler);
  sigjmp_buf jump;
  // The signal mask is saved and restored, so SIGSEGV, blocked while its
  // handler runs, is unblocked again after the jump.
  if (sigsetjmp(jump, 1) != 0) {  // the handler cleared t_jump
    g_any_fault.store(true);
    return false;
  }
  // HDF5 calls nothing of ours back, so guarded calls never nest.
  t_jump = &jump;
  call(context);
  t_jump = nullptr;
  return true;
}

int64_t hdf5_faults() { return t_faults; }

herr_t h5_close_guarded(herr_t (*close)(hid_t), hid_t id) {
  struct Call {
    herr_t (*close)(hid_t);
    hid_t id;
    herr_t result;
  } call{close, id, -1};
  // Quietly: closing a file a fault left with locked cache entries fails,
  // and HDF5 would print its error stack.
  H5E_auto2_t saved_func = nullptr;
  void* saved_data = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &saved_func, &saved_data);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const bool ran = run_hdf5_guarded(
      [](void* context) {
        Call* inside = static_cast<Call*>(context);
        inside->result = inside->close(inside->id);
      },
      &call);
  H5Eset_auto2(H5E_DEFAULT, saved_func, saved_data);
  return ran ? call.result : -1;
}

}  // namespace nnfi::keras_import
