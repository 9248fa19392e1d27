#include "campaign/statistics.h"

#include <algorithm>
#include <cmath>

namespace nnfi::campaign {

double student_t_975(int64_t degrees) {
  // Table for small samples (campaigns usually have 3 to 30 repetitions),
  // then the Cornish-Fisher expansion around the normal quantile, which is
  // within 1e-4 of the exact value from 30 degrees on.
  static const double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                  2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                  2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                  2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (degrees <= 0) return 0.0;
  if (degrees <= 30) return kTable[degrees - 1];
  const double z = 1.959963984540054;
  const double n = static_cast<double>(degrees);
  const double z3 = z * z * z, z5 = z3 * z * z;
  return z + (z3 + z) / (4 * n) + (5 * z5 + 16 * z3 + 3 * z) / (96 * n * n);
}

Summary summarize(const std::vector<double>& values) {
  Summary summary;
  summary.count = static_cast<int64_t>(values.size());
  if (values.empty()) return summary;
  double sum = 0;
  summary.min = values[0];
  summary.max = values[0];
  for (size_t i = 0; i < values.size(); ++i) {
    sum += values[i];
    summary.cma.push_back(sum / static_cast<double>(i + 1));
    summary.min = std::min(summary.min, values[i]);
    summary.max = std::max(summary.max, values[i]);
  }
  const double n = static_cast<double>(values.size());
  summary.mean = sum / n;
  if (values.size() > 1) {
    double squares = 0;
    for (double value : values) squares += (value - summary.mean) * (value - summary.mean);
    summary.std = std::sqrt(squares / (n - 1));
  }
  const double half = student_t_975(summary.count - 1) * summary.std / std::sqrt(n);
  summary.ci95_low = summary.mean - half;
  summary.ci95_high = summary.mean + half;
  return summary;
}

LinearFit linear_fit(const std::vector<double>& x, const std::vector<double>& y) {
  LinearFit fit;
  const size_t n = std::min(x.size(), y.size());
  if (n < 2) return fit;
  double mean_x = 0, mean_y = 0;
  for (size_t i = 0; i < n; ++i) {
    mean_x += x[i];
    mean_y += y[i];
  }
  mean_x /= static_cast<double>(n);
  mean_y /= static_cast<double>(n);
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (x[i] - mean_x) * (x[i] - mean_x);
    sxy += (x[i] - mean_x) * (y[i] - mean_y);
    syy += (y[i] - mean_y) * (y[i] - mean_y);
  }
  if (sxx == 0) return fit;
  fit.valid = true;
  fit.slope = sxy / sxx;
  fit.intercept = mean_y - fit.slope * mean_x;
  fit.r2 = syy == 0 ? 1.0 : (sxy * sxy) / (sxx * syy);
  return fit;
}

Interval wilson_interval(int64_t successes, int64_t trials, double z) {
  if (trials <= 0) return {0.0, 1.0};
  const double n = static_cast<double>(trials);
  const double share = static_cast<double>(successes) / n;
  const double z2 = z * z;
  const double centre = (share + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z / (1 + z2 / n) * std::sqrt(share * (1 - share) / n + z2 / (4 * n * n));
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

}  // namespace nnfi::campaign
