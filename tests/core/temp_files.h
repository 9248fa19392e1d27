// A per-test scratch folder for tests that write files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace nnfi::testing {

// Creates <tmp>/nnfi_<suite>_<test>_<pid>/ before each test, removes it after.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("nnfi_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::filesystem::path path(const std::string& name) const { return dir_ / name; }

  // Writes `bytes` to a file in the scratch folder and returns its path.
  std::filesystem::path write_file(const std::string& name, const std::string& bytes) const {
    std::filesystem::path file = path(name);
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return file;
  }

  std::filesystem::path dir_;
};

}  // namespace nnfi::testing
