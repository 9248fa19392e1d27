// validate_fault_model: what each fault model accepts and the named
// rejections, with messages that say what is allowed.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "inject/fault_test_support.h"
#include "nnfi/fault.h"

namespace nnfi {
namespace {

using testing::flip_bits;

// The model is rejected for `dtype` with a message containing every `texts`.
::testing::AssertionResult rejected(const FaultModel& model, DType dtype,
                                    std::initializer_list<std::string> texts) {
  const Status status = validate_fault_model(model, dtype);
  if (status.is_ok()) return ::testing::AssertionFailure() << "accepted";
  for (const std::string& text : texts) {
    if (status.message().find(text) == std::string::npos) {
      return ::testing::AssertionFailure() << "'" << text << "' not in: " << status.message();
    }
  }
  return ::testing::AssertionSuccess() << status.message();
}

FaultModel of_kind(FaultKind kind) {
  FaultModel model;
  model.kind = kind;
  return model;
}

FaultModel random_range(double low, double high) {
  FaultModel model = of_kind(FaultKind::kRandomValue);
  model.low = low;
  model.high = high;
  return model;
}

FaultModel set_to(double value) {
  FaultModel model = of_kind(FaultKind::kSet);
  model.value = value;
  return model;
}

TEST(ValidateFaultModel, AcceptsEveryKindOnFloat32) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  FaultModel stuck = of_kind(FaultKind::kStuckAt);
  stuck.bits = {30, 31};
  stuck.stuck_value = 1;
  FaultModel elements;
  elements.scope = FaultScope::kElements;
  elements.elements = 1000000;
  for (const FaultModel& model :
       {FaultModel{}, flip_bits({23, 30}, 2), flip_bits({}, 32), flip_bits({}, 1, 32),
        flip_bits({4, 5, 6}, 1, 3), stuck, of_kind(FaultKind::kZero), random_range(-1e38, 1e38),
        set_to(nan), set_to(inf), set_to(-inf), set_to(-0.0), elements}) {
    const Status status = validate_fault_model(model, DType::kFloat32);
    EXPECT_TRUE(status.is_ok()) << status.message();
  }
}

TEST(ValidateFaultModel, RejectsBitOutsideTheDtype) {
  EXPECT_TRUE(rejected(flip_bits({32}), DType::kFloat32, {"bit 32", "float32", "0..31"}));
  EXPECT_TRUE(rejected(flip_bits({-1}), DType::kFloat32, {"bit -1"}));
  EXPECT_TRUE(rejected(flip_bits({8}), DType::kInt8, {"bit 8", "int8", "0..7"}));
  EXPECT_TRUE(rejected(flip_bits({16}), DType::kFloat16, {"float16", "0..15"}));
  FaultModel stuck = of_kind(FaultKind::kStuckAt);
  stuck.bits = {40};
  EXPECT_TRUE(rejected(stuck, DType::kFloat32, {"bit 40", "stuck_at"}));
}

TEST(ValidateFaultModel, RejectsRepeatedBit) {
  EXPECT_TRUE(rejected(flip_bits({3, 5, 3}), DType::kFloat32, {"bit 3", "twice"}));
}

TEST(ValidateFaultModel, RejectsCountOutsideTheCandidates) {
  EXPECT_TRUE(rejected(flip_bits({1, 2}, 3), DType::kFloat32, {"count", "1..2", "got 3"}));
  EXPECT_TRUE(rejected(flip_bits({}, 0), DType::kFloat32, {"count", "1..32", "got 0"}));
  EXPECT_TRUE(rejected(flip_bits({}, 9), DType::kUInt8, {"count", "1..8"}));
}

TEST(ValidateFaultModel, RejectsBurstThatCannotFit) {
  EXPECT_TRUE(rejected(flip_bits({}, 1, 0), DType::kFloat32, {"burst", "1..32"}));
  EXPECT_TRUE(rejected(flip_bits({}, 1, 17), DType::kBFloat16, {"burst", "1..16"}));
  EXPECT_TRUE(
      rejected(flip_bits({0, 5, 9}, 1, 2), DType::kFloat32, {"no 2 adjacent bits", "[0, 5, 9]"}));
}

TEST(ValidateFaultModel, RejectsCountWithBurst) {
  EXPECT_TRUE(rejected(flip_bits({}, 2, 2), DType::kFloat32, {"count and burst"}));
}

TEST(ValidateFaultModel, RejectsStuckValueOtherThanZeroOrOne) {
  FaultModel stuck = of_kind(FaultKind::kStuckAt);
  stuck.stuck_value = 2;
  EXPECT_TRUE(rejected(stuck, DType::kFloat32, {"stuck_at value must be 0 or 1", "got 2"}));
}

TEST(ValidateFaultModel, RejectsEmptyOrNonFiniteRandomRange) {
  EXPECT_TRUE(rejected(random_range(1, 1), DType::kFloat32, {"finite low < high", "[1, 1)"}));
  EXPECT_TRUE(rejected(random_range(2, 1), DType::kFloat32, {"[2, 1)"}));
  EXPECT_TRUE(rejected(random_range(std::nan(""), 1), DType::kFloat32, {"[nan, 1)"}));
  EXPECT_TRUE(rejected(random_range(0, INFINITY), DType::kFloat32, {"[0, inf)"}));
}

TEST(ValidateFaultModel, RejectsRandomRangeOutsideTheDtype) {
  EXPECT_TRUE(rejected(random_range(0, 1e39), DType::kFloat32, {"outside float32"}));
  EXPECT_TRUE(rejected(random_range(0, 70000), DType::kFloat16, {"outside float16", "65504"}));
  EXPECT_TRUE(rejected(random_range(0, 200), DType::kInt8, {"outside int8", "-128 to 127"}));
  EXPECT_TRUE(rejected(random_range(-1, 5), DType::kUInt8, {"outside uint8", "0 to 255"}));
  // The exclusive integer bound may be one past the largest value.
  EXPECT_TRUE(validate_fault_model(random_range(-128, 128), DType::kInt8).is_ok());
}

TEST(ValidateFaultModel, RejectsRandomRangeWithoutAValueOfTheDtype) {
  EXPECT_TRUE(rejected(random_range(0.2, 0.7), DType::kInt8, {"holds no int8 value"}));
  EXPECT_TRUE(
      rejected(random_range(1 + 1e-10, 1 + 2e-10), DType::kFloat32, {"holds no float32 value"}));
  // Between bfloat16's 1 and 1.0078125, but float16 has 1.001953125 there.
  EXPECT_TRUE(rejected(random_range(1.001, 1.002), DType::kBFloat16, {"holds no bfloat16 value"}));
  EXPECT_TRUE(validate_fault_model(random_range(1.001, 1.002), DType::kFloat16).is_ok());
}

TEST(ValidateFaultModel, RejectsSetValueThatOverflows) {
  EXPECT_TRUE(rejected(set_to(1e39), DType::kFloat32, {"overflows float32", "write inf"}));
  EXPECT_TRUE(rejected(set_to(-1e5), DType::kFloat16, {"overflows float16", "65504"}));
  EXPECT_TRUE(validate_fault_model(set_to(65504), DType::kFloat16).is_ok());
  EXPECT_TRUE(validate_fault_model(set_to(1e38), DType::kBFloat16).is_ok());
}

TEST(ValidateFaultModel, RejectsSetValueThatIsNoInteger) {
  EXPECT_TRUE(rejected(set_to(0.5), DType::kInt8, {"not an int8", "-128 to 127"}));
  EXPECT_TRUE(rejected(set_to(std::nan("")), DType::kInt32, {"set value nan", "int32"}));
  EXPECT_TRUE(rejected(set_to(256), DType::kUInt8, {"uint8", "0 to 255"}));
  EXPECT_TRUE(rejected(set_to(-1), DType::kUInt8, {"uint8"}));
  EXPECT_TRUE(validate_fault_model(set_to(-2147483648.0), DType::kInt32).is_ok());
}

TEST(ValidateFaultModel, RejectsUnsupportedDtype) {
  EXPECT_TRUE(rejected(FaultModel{}, DType::kInt64, {"int64", "not supported", "float16"}));
  EXPECT_TRUE(rejected(FaultModel{}, DType::kBool, {"bool"}));
  EXPECT_TRUE(rejected(FaultModel{}, DType::kUndefined, {"undefined"}));
  EXPECT_EQ(validate_fault_model(FaultModel{}, DType::kInt64).code(), StatusCode::kUnsupported);
}

TEST(ValidateFaultModel, RejectsOptionsTheKindDoesNotUse) {
  FaultModel zero = of_kind(FaultKind::kZero);
  zero.count = 2;
  EXPECT_TRUE(rejected(zero, DType::kFloat32, {"count applies to bitflip only", "zero"}));
  FaultModel stuck = of_kind(FaultKind::kStuckAt);
  stuck.burst = 2;
  EXPECT_TRUE(rejected(stuck, DType::kFloat32, {"burst applies to bitflip only", "stuck_at"}));
  FaultModel set = set_to(1);
  set.bits = {3};
  EXPECT_TRUE(rejected(set, DType::kFloat32, {"bits apply to bitflip and stuck_at only"}));
  FaultModel element;
  element.elements = 3;
  EXPECT_TRUE(rejected(element, DType::kFloat32, {"elements applies to scope 'elements'"}));
}

TEST(ValidateFaultModel, RejectsElementsBelowOne) {
  FaultModel model;
  model.scope = FaultScope::kElements;
  model.elements = 0;
  EXPECT_TRUE(rejected(model, DType::kFloat32, {"elements must be >= 1", "got 0"}));
}

TEST(ValidateFaultModel, MessagesNameTheModel) {
  const Status status = validate_fault_model(flip_bits({32}), DType::kFloat32);
  EXPECT_EQ(status.message().rfind("bitflip bits=[32] count=1: ", 0), 0u) << status.message();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
}

TEST(FaultBitWidth, ComesFromTheDtype) {
  EXPECT_EQ(fault_bit_width(DType::kFloat32), 32);
  EXPECT_EQ(fault_bit_width(DType::kFloat16), 16);
  EXPECT_EQ(fault_bit_width(DType::kBFloat16), 16);
  EXPECT_EQ(fault_bit_width(DType::kInt8), 8);
  EXPECT_EQ(fault_bit_width(DType::kUInt8), 8);
  EXPECT_EQ(fault_bit_width(DType::kInt32), 32);
  EXPECT_EQ(fault_bit_width(DType::kInt64), 0);
  EXPECT_EQ(fault_bit_width(DType::kBool), 0);
}

}  // namespace
}  // namespace nnfi
