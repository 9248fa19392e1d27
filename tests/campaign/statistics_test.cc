#include "campaign/statistics.h"

#include <gtest/gtest.h>

namespace nnfi::campaign {
namespace {

TEST(Statistics, SummarizesKnownValues) {
  const Summary summary = summarize({0.9, 0.8, 0.7, 0.6});
  EXPECT_EQ(summary.count, 4);
  EXPECT_NEAR(summary.mean, 0.75, 1e-12);
  // Sample std of {0.9, 0.8, 0.7, 0.6}: sqrt(0.05 / 3).
  EXPECT_NEAR(summary.std, 0.1290994448735806, 1e-12);
  EXPECT_DOUBLE_EQ(summary.min, 0.6);
  EXPECT_DOUBLE_EQ(summary.max, 0.9);
  // t(0.975, 3) = 3.182: half width 3.182 * std / 2.
  EXPECT_NEAR(summary.ci95_high - summary.mean, 3.182 * 0.1290994448735806 / 2, 1e-9);
  ASSERT_EQ(summary.cma.size(), 4u);
  EXPECT_NEAR(summary.cma[0], 0.9, 1e-12);
  EXPECT_NEAR(summary.cma[1], 0.85, 1e-12);
  EXPECT_NEAR(summary.cma[3], 0.75, 1e-12);
}

TEST(Statistics, OneValueHasNoSpread) {
  const Summary summary = summarize({0.5});
  EXPECT_EQ(summary.std, 0.0);
  EXPECT_EQ(summary.ci95_low, 0.5);
  EXPECT_EQ(summary.ci95_high, 0.5);
}

TEST(Statistics, StudentTApproachesTheNormalQuantile) {
  EXPECT_DOUBLE_EQ(student_t_975(1), 12.706);
  EXPECT_DOUBLE_EQ(student_t_975(30), 2.042);
  EXPECT_NEAR(student_t_975(60), 2.000, 1e-3);
  EXPECT_NEAR(student_t_975(120), 1.980, 1e-3);
  EXPECT_NEAR(student_t_975(1000000), 1.95996, 1e-4);
}

TEST(Statistics, LinearFitIsExactOnALine) {
  const LinearFit fit = linear_fit({0.0, 0.5, 1.0}, {0.9, 0.7, 0.5});
  ASSERT_TRUE(fit.valid);
  EXPECT_NEAR(fit.slope, -0.4, 1e-12);
  EXPECT_NEAR(fit.intercept, 0.9, 1e-12);
  EXPECT_NEAR(fit.r2, 1.0, 1e-12);
}

TEST(Statistics, LinearFitOfNoisyPoints) {
  // y = 1 - x with noise: numpy.polyfit gives slope -0.96, intercept 0.98; R^2 = 0.984615...
  const LinearFit fit = linear_fit({0.0, 0.25, 0.5, 0.75, 1.0}, {1.0, 0.7, 0.55, 0.2, 0.05});
  ASSERT_TRUE(fit.valid);
  EXPECT_NEAR(fit.slope, -0.96, 1e-12);
  EXPECT_NEAR(fit.intercept, 0.98, 1e-12);
  EXPECT_NEAR(fit.r2, 0.9846153846153846, 1e-12);
}

TEST(Statistics, LinearFitNeedsTwoDistinctX) {
  EXPECT_FALSE(linear_fit({0.5, 0.5}, {0.1, 0.2}).valid);
  EXPECT_FALSE(linear_fit({0.5}, {0.1}).valid);
}

TEST(Statistics, WilsonIntervalHoldsTheShare) {
  const Interval interval = wilson_interval(30, 100);
  EXPECT_LT(interval.low, 0.3);
  EXPECT_GT(interval.high, 0.3);
  // Known value: Wilson 95% for 30/100 is [0.2189, 0.3958].
  EXPECT_NEAR(interval.low, 0.2189, 1e-4);
  EXPECT_NEAR(interval.high, 0.3958, 1e-4);
  EXPECT_EQ(wilson_interval(0, 10).low, 0.0);
}

}  // namespace
}  // namespace nnfi::campaign
