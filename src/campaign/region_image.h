// Moving windows of one image in and out of full-image buffers, for the
// window-by-window recompute of a trial (region_trials.h). An image buffer
// of a damaged value holds the trial's values inside its damage window; every
// element outside equals golden and is read from the golden batch instead.
#pragma once

#include "campaign/region_model.h"

namespace nnfi::campaign {

// Copies window `want` into `out`, taking each element from `damaged` inside
// `damage` (may be empty) and from `golden` elsewhere. _channels_last writes
// [rows][cols][C] (what the window kernels read); _patch writes the layout's
// own order ([C][rows][cols] or [rows][cols][C]: a [1, ...] tensor for the
// pointwise kernels).
void gather_channels_last(const ImageLayout& layout, const float* golden, const float* damaged,
                          const Window& damage, const Window& want, float* out);
void gather_patch(const ImageLayout& layout, const float* golden, const float* damaged,
                  const Window& damage, const Window& want, float* out);

// The inverses: window `where` of `image` from a compact buffer.
void scatter_channels_last(const ImageLayout& layout, const float* in, const Window& where,
                           float* image);
void scatter_patch(const ImageLayout& layout, const float* in, const Window& where, float* image);

// Sets the elements of window `grown` outside window `kept` (may be empty)
// to golden: the image then holds valid values on all of `grown`.
void fill_from_golden(const ImageLayout& layout, const float* golden, const Window& kept,
                      const Window& grown, float* image);

// The smallest window inside `where` holding every element of `image` whose
// bits differ from `golden`; empty when none does.
Window differing_window(const ImageLayout& layout, const float* image, const float* golden,
                        const Window& where);

}  // namespace nnfi::campaign
