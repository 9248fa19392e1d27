// The AVX-512 path of WindowConv::run (not written yet: the portable path).
#include "kernels/window/window_internal.h"

namespace nnfi::kernels::window::internal {

void run_conv_avx512(const ConvArgs& args) { run_conv_portable(args); }

}  // namespace nnfi::kernels::window::internal
