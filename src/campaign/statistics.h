// The statistics a campaign reports per setting and per site (DESIGN.md):
// mean, standard deviation, min, max over repetitions, the cumulative moving
// average, a 95% confidence interval of the mean, and the least-squares line
// of accuracy against probability.
#pragma once

#include <cstdint>
#include <vector>

namespace nnfi::campaign {

struct Summary {
  int64_t count = 0;
  double mean = 0, std = 0, min = 0, max = 0;  // std: sample (n - 1); 0 for one value
  double ci95_low = 0, ci95_high = 0;          // Student-t interval of the mean
  std::vector<double> cma;                     // cma[i] = mean of values[0..i]
};

Summary summarize(const std::vector<double>& values);

// Two-sided 97.5% quantile of Student's t with `degrees` degrees of freedom.
double student_t_975(int64_t degrees);

struct LinearFit {
  double slope = 0, intercept = 0;
  double r2 = 0;       // 1 when y does not vary and the line fits exactly
  bool valid = false;  // needs at least two distinct x
};

LinearFit linear_fit(const std::vector<double>& x, const std::vector<double>& y);

// Wilson score interval (95%) for k successes in n trials: how far an observed
// share of faulted inferences may be from p.
struct Interval {
  double low = 0, high = 0;
};
Interval wilson_interval(int64_t successes, int64_t trials, double z = 1.959963984540054);

}  // namespace nnfi::campaign
