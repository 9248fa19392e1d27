// Status and Expected<T>: how every fallible nnfi call reports failure.
// No exception crosses the library boundary; the CLI turns a Status into a
// message and an exit code.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace nnfi {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad user input: malformed model, config, data, shape
  kUnsupported,      // valid input that nnfi cannot handle (op, dtype, layer)
  kNotFound,         // a named file, node, value or key does not exist
  kIoError,          // the operating system refused a read or write
  kInternal,         // a bug in nnfi
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns the same error with "context: " prepended, e.g. the node name.
  Status with_context(const std::string& context) const {
    if (is_ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}
inline Status unsupported(std::string message) {
  return Status(StatusCode::kUnsupported, std::move(message));
}
inline Status not_found(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message));
}
inline Status io_error(std::string message) {
  return Status(StatusCode::kIoError, std::move(message));
}
inline Status internal_error(std::string message) {
  return Status(StatusCode::kInternal, std::move(message));
}

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}         // NOLINT: implicit by design
  Expected(Status status) : state_(std::move(status)) {}  // NOLINT

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; ok() when a value is present.
  Status status() const { return has_value() ? Status::ok() : std::get<1>(state_); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace nnfi

#define NNFI_CONCAT_INNER(a, b) a##b
#define NNFI_CONCAT(a, b) NNFI_CONCAT_INNER(a, b)

#define NNFI_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    ::nnfi::Status nnfi_status_ = (expr);           \
    if (!nnfi_status_.is_ok()) return nnfi_status_; \
  } while (0)

#define NNFI_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.has_value()) return tmp.status();       \
  lhs = std::move(tmp).value()

// NNFI_ASSIGN_OR_RETURN(auto x, f()); binds x or returns f()'s error.
#define NNFI_ASSIGN_OR_RETURN(lhs, expr) \
  NNFI_ASSIGN_OR_RETURN_IMPL(NNFI_CONCAT(nnfi_expected_, __LINE__), lhs, expr)
