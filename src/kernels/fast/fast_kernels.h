// Factories of the optimised kernels (oneDNN or tuned C++), see kernel.h.
#pragma once

#include "kernels/kernel.h"

namespace nnfi::kernels {

}  // namespace nnfi::kernels
