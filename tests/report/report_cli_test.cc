// nnfi report on the command line: the page, CSV and JSON tables, and errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/report_test_support.h"
#include "support/cli_runner.h"

namespace nnfi::testing {
namespace {

namespace fs = std::filesystem;

class ReportCliTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    results_ = run_small_campaign(dir_);
    ASSERT_FALSE(results_.empty());
  }
  CliResult nnfi(const std::vector<std::string>& args) { return run_nnfi(args, dir_); }
  fs::path results_;
};

TEST_F(ReportCliTest, WritesTheReportIntoTheResultsFolder) {
  NNFI_REQUIRE_GNUPLOT();
  const CliResult result = nnfi({"report", results_.string()});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("report: " + (results_ / "report.html").string()), std::string::npos)
      << result.out;
  EXPECT_EQ(result.err, "");
  EXPECT_TRUE(fs::exists(results_ / "report.html"));
  EXPECT_TRUE(fs::exists(results_ / "figures" / "e0-fits.svg"));
  EXPECT_TRUE(fs::exists(results_ / "figures" / "e0-fits.png"));
}

TEST_F(ReportCliTest, OutputFolderNoPngAndNoFigures) {
  NNFI_REQUIRE_GNUPLOT();
  CliResult result =
      nnfi({"report", results_.string(), "--output", (dir_ / "out").string(), "--no-png"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_TRUE(fs::exists(dir_ / "out" / "report.html"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "figures" / "e0-rows.svg"));
  EXPECT_FALSE(fs::exists(dir_ / "out" / "figures" / "e0-rows.png"));
  EXPECT_FALSE(fs::exists(results_ / "report.html"));

  result = nnfi({"report", results_.string(), "-o", (dir_ / "bare").string(), "--no-figures"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.err.find("nnfi: note: figures not drawn (--no-figures)"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "bare" / "figures" / "e0-rows.svg"));
  EXPECT_TRUE(fs::exists(dir_ / "bare" / "figures" / "e0-rows.gp"));
}

TEST_F(ReportCliTest, CsvPrintsOneRowPerSettingOrRepetition) {
  CliResult result = nnfi({"report", results_.string(), "--csv"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out.rfind("experiment,metric,setting,group,kind,class,index,", 0), 0u);
  EXPECT_EQ(count_occurrences(result.out, "\n"), 1 + 60);

  result = nnfi({"report", results_.string(), "--csv", "--table", "repetitions"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(count_occurrences(result.out, "\n"), 1 + 135);

  result = nnfi(
      {"report", results_.string(), "--csv", "--table", "all", "-o", (dir_ / "tables").string()});
  ASSERT_EQ(result.code, 0) << result.err;
  for (const char* table : {"settings", "repetitions", "bits", "missing"}) {
    EXPECT_TRUE(fs::exists(dir_ / "tables" / (std::string(table) + ".csv"))) << table;
  }
  EXPECT_EQ(read_text(dir_ / "tables" / "missing.csv"),
            "experiment,setting,group,probability,repetition,batches_missing,batches\n");
}

TEST_F(ReportCliTest, JsonHoldsEveryTable) {
  CliResult result = nnfi({"report", results_.string(), "--json"});
  ASSERT_EQ(result.code, 0) << result.err;
  const nlohmann::json json = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << result.out.substr(0, 200);
  EXPECT_EQ(json["settings"].size(), 60u);
  EXPECT_EQ(json["repetitions"].size(), 135u);
  EXPECT_TRUE(json["missing"].empty());

  result = nnfi({"report", results_.string(), "--json", "--table", "settings", "--output",
                 (dir_ / "settings.json").string()});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "");
  const nlohmann::json settings = nlohmann::json::parse(read_text(dir_ / "settings.json"));
  ASSERT_TRUE(settings.is_array());
  EXPECT_EQ(settings.size(), 60u);
  EXPECT_EQ(settings[0]["experiment"], "sweep");
}

TEST_F(ReportCliTest, PartialCampaignIsNotedOnStderr) {
  drop_units(results_, 1, 2, 0);
  const CliResult result = nnfi({"report", results_.string(), "--csv", "--table", "missing"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.err.find("nnfi: note: partial campaign: 30 of 270 units are missing"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(count_occurrences(result.out, "\n"), 1 + 15);
  EXPECT_NE(result.out.find("criticality,0,/net/features/features.0/Conv,1,2,2,0-1\n"),
            std::string::npos)
      << result.out;
}

TEST_F(ReportCliTest, RejectsMissingFolderAndBadFlags) {
  CliResult result = nnfi({"report", (dir_ / "nowhere").string()});
  EXPECT_TRUE(is_cli_error(result, 1, {(dir_ / "nowhere").string(), "no such folder"}));
  result = nnfi({"report", dir_.string(), "--csv"});
  EXPECT_TRUE(is_cli_error(result, 1, {"not an nnfi results folder"}));
  result = nnfi({"report", results_.string(), "--csv", "--json"});
  EXPECT_EQ(result.code, 2);
  result = nnfi({"report", results_.string(), "--csv", "--table", "everything"});
  EXPECT_EQ(result.code, 2);
  result = nnfi({"report", results_.string(), "--csv", "--table", "all"});
  EXPECT_TRUE(is_cli_error(result, 1, {"--output"}));
  result = nnfi({"report", results_.string(), "--table", "bits"});
  EXPECT_TRUE(is_cli_error(result, 1, {"--table", "--csv or --json"}));
}

}  // namespace
}  // namespace nnfi::testing
