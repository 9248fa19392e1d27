// nnfi::write_report and the tidy tables on a real small campaign: every
// figure kind drawn, a self-contained page, partial campaigns, a vanished
// model, and what is rejected.
#include "nnfi/report.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "report/report_test_support.h"
#include "support/cli_runner.h"

namespace nnfi::testing {
namespace {

namespace fs = std::filesystem;

class ReportTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    results_ = run_small_campaign(dir_);
    ASSERT_FALSE(results_.empty());
  }
  fs::path results_;
};

bool has_figure(const ReportResult& result, const std::string& stem) {
  for (const fs::path& svg : result.svgs) {
    if (svg.stem() == stem) return true;
  }
  return false;
}

TEST_F(ReportTest, DrawsEveryFigureKindAsSvgAndPng) {
  NNFI_REQUIRE_GNUPLOT();
  Expected<ReportResult> result = write_report(results_);
  ASSERT_TRUE(result.has_value()) << result.status().message();
  for (const std::string& note : result->notes) ADD_FAILURE() << "note: " << note;
  // 15 layers: Fig. 2 and CMA take two pages of 12 panels each.
  for (const char* stem : {"e0-accuracy-1", "e0-accuracy-2", "e0-fits", "e0-rows", "e0-cma-1",
                           "e0-cma-2", "e0-outcomes", "e0-bits", "e0-fields", "e1-rows", "e1-cma-1",
                           "e1-outcomes", "e1-bits", "e1-fields"}) {
    EXPECT_TRUE(has_figure(*result, stem)) << stem;
  }
  // A single probability has no Fig. 2 and no fits.
  EXPECT_FALSE(has_figure(*result, "e1-accuracy"));
  EXPECT_FALSE(has_figure(*result, "e1-fits"));
  EXPECT_EQ(result->pngs.size(), result->svgs.size());
  for (const fs::path& png : result->pngs) {
    std::ifstream file(png, std::ios::binary);
    char magic[4] = {};
    file.read(magic, 4);
    EXPECT_EQ(std::string(magic + 1, 3), "PNG") << png;
  }
  EXPECT_EQ(result->units_missing, 0);
  EXPECT_GT(result->seconds, 0.0);
}

TEST_F(ReportTest, PageIsSelfContainedWithEverySection) {
  Expected<ReportResult> result = write_report(results_);
  ASSERT_TRUE(result.has_value()) << result.status().message();
  const std::string html = read_text(result->html);
  EXPECT_EQ(count_occurrences(html, "<svg"), static_cast<int>(result->svgs.size()));
  EXPECT_EQ(first_duplicate_id(html), "");
  // Nothing is fetched: no src attributes, no external links or styles.
  EXPECT_EQ(count_occurrences(html, " src="), 0);
  EXPECT_EQ(count_occurrences(html, "href=\"http"), 0);
  EXPECT_EQ(count_occurrences(html, "href='http"), 0);
  EXPECT_EQ(count_occurrences(html, "<link"), 0);
  EXPECT_EQ(count_occurrences(html, "<?xml"), 0);
  for (const char* section :
       {"id=\"campaign\"", "id=\"golden\"", "id=\"model\"", "id=\"criticality-table\"",
        "id=\"experiment-0\"", "id=\"experiment-1\""}) {
    EXPECT_NE(html.find(section), std::string::npos) << section;
  }
  EXPECT_EQ(html.find("id=\"missing\""), std::string::npos);
  // Golden accuracy, the model's layers and parameters, the command.
  EXPECT_NE(html.find("100.00%"), std::string::npos);
  EXPECT_NE(html.find("/net/features/features.0/Conv"), std::string::npos);
  EXPECT_NE(html.find("<th>parameters</th><td>"), std::string::npos);
  EXPECT_NE(
      html.find("nnfi run " + (dir_ / "campaign.yaml").string() + " --out " + results_.string()),
      std::string::npos);
  // Every group of both experiments in the criticality table.
  const size_t table = html.find("id=\"criticality-table\"");
  const std::string rows = html.substr(table, html.find("</table>", table) - table);
  EXPECT_EQ(count_occurrences(rows, "<tr>"), 1 + 2 * 15);
}

TEST_F(ReportTest, TablesHaveOneRowPerSettingAndRepetition) {
  Expected<ReportTables> tables = read_report_tables(results_);
  ASSERT_TRUE(tables.has_value()) << tables.status().message();
  const TidyTable* settings = tables->find("settings");
  const TidyTable* repetitions = tables->find("repetitions");
  const TidyTable* bits = tables->find("bits");
  const TidyTable* missing = tables->find("missing");
  ASSERT_TRUE(settings && repetitions && bits && missing);
  EXPECT_EQ(settings->rows.size(), 15u * 3 + 15u);
  EXPECT_EQ(repetitions->rows.size(), 15u * 3 * 2 + 15u * 3);
  EXPECT_TRUE(missing->rows.empty());
  EXPECT_FALSE(bits->rows.empty());
  for (const TidyTable* table : {settings, repetitions, bits}) {
    for (const auto& row : table->rows) ASSERT_EQ(row.size(), table->columns.size());
  }

  const std::string csv = table_to_csv(*settings);
  EXPECT_EQ(csv.substr(0, csv.find('\n')).substr(0, 33), "experiment,metric,setting,group,k");
  EXPECT_EQ(count_occurrences(csv, "\n"), 1 + 60);

  const nlohmann::json json = nlohmann::json::parse(tables_to_json(*tables));
  ASSERT_TRUE(json["settings"].is_array());
  EXPECT_EQ(json["settings"].size(), 60u);
  EXPECT_EQ(json["repetitions"].size(), 135u);
  EXPECT_EQ(json["units_missing"], 0);
  // p = 0 injects nothing: the fault-free accuracy, no drop.
  for (const auto& row : json["settings"]) {
    if (row["probability"] == 0.0) {
      EXPECT_EQ(row["faults"], 0);
      EXPECT_DOUBLE_EQ(row["accuracy_mean"].get<double>(), 1.0);
      EXPECT_DOUBLE_EQ(row["accuracy_drop"].get<double>(), 0.0);
    }
  }
  int64_t faults = 0;
  for (const auto& row : json["bits"]) {
    const std::string field = row["field"];
    const int bit = row["bit"];
    EXPECT_EQ(field, bit == 31 ? "sign" : bit >= 23 ? "exponent" : "mantissa") << bit;
    EXPECT_EQ(row["dtype"], "float32");
    faults += row["faults"].get<int64_t>();
  }
  int64_t injected = 0;
  for (const auto& row : json["settings"]) injected += row["faults"].get<int64_t>();
  EXPECT_EQ(faults, injected);  // record_faults: all, one bit each
  // The CMA of the last finished repetition is the setting's mean.
  for (const auto& row : json["repetitions"]) {
    if (row["experiment"] == "criticality" && row["repetition"] == 2) {
      for (const auto& setting : json["settings"]) {
        if (setting["experiment"] == "criticality" && setting["setting"] == row["setting"]) {
          EXPECT_NEAR(row["cma"].get<double>(), setting["accuracy_mean"].get<double>(), 1e-12);
        }
      }
    }
  }
}

TEST_F(ReportTest, PartialCampaignSaysWhichUnitsAreMissing) {
  drop_units(results_, 0, 1, 1);  // sweep, repetition 1, batch 1: every setting
  Expected<ReportTables> tables = read_report_tables(results_);
  ASSERT_TRUE(tables.has_value()) << tables.status().message();
  EXPECT_EQ(tables->units_missing, 45);
  EXPECT_EQ(tables->units_expected, (15 * 3 * 2 + 15 * 3) * 2);
  const TidyTable* missing = tables->find("missing");
  ASSERT_EQ(missing->rows.size(), 45u);
  EXPECT_EQ(std::get<std::string>(missing->rows[0][6]), "1");  // batches
  const nlohmann::json json = nlohmann::json::parse(table_to_json(*tables->find("settings")));
  for (const auto& row : json) {
    if (row["experiment"] != "sweep") continue;
    EXPECT_EQ(row["repetitions"], 1);
    EXPECT_EQ(row["complete"], false);
  }

  Expected<ReportResult> result = write_report(results_);
  ASSERT_TRUE(result.has_value()) << result.status().message();
  EXPECT_EQ(result->units_missing, 45);
  const std::string html = read_text(result->html);
  EXPECT_NE(html.find("id=\"missing\""), std::string::npos);
  EXPECT_NE(html.find("45 of 270 units"), std::string::npos);
  EXPECT_NE(html.find("repetition 1: batches 1"), std::string::npos);
  EXPECT_NE(html.find("more repetitions"), std::string::npos);  // 45 > 30 listed
  if (gnuplot_available()) {
    EXPECT_FALSE(result->svgs.empty());
  }
}

TEST_F(ReportTest, CampaignWithNoFinishedUnitStillReports) {
  drop_units(results_, 0, 0, 0);
  drop_units(results_, 0, 1, 0);
  drop_units(results_, 1, 0, 0);
  drop_units(results_, 1, 1, 0);
  drop_units(results_, 1, 2, 0);
  Expected<ReportResult> result = write_report(results_);
  ASSERT_TRUE(result.has_value()) << result.status().message();
  EXPECT_EQ(result->units_missing, 270);
  EXPECT_TRUE(result->svgs.empty());
  EXPECT_NE(read_text(result->html).find("270 of 270 units"), std::string::npos);
}

TEST_F(ReportTest, VanishedModelIsNotedNotFatal) {
  fs::rename(dir_ / "model.onnx", dir_ / "moved.onnx");
  Expected<ReportResult> result = write_report(results_);
  ASSERT_TRUE(result.has_value()) << result.status().message();
  bool noted = false;
  for (const std::string& note : result->notes) noted |= note.find("is gone") != std::string::npos;
  EXPECT_TRUE(noted);
  EXPECT_NE(read_text(result->html).find("No model summary"), std::string::npos);
  if (gnuplot_available()) {
    EXPECT_FALSE(result->svgs.empty());
  }
}

TEST_F(ReportTest, WithoutGnuplotWritesThePageAndSaysWhy) {
  ReportOptions options;
  options.gnuplot = (dir_ / "no-such-gnuplot").string();
  options.output_dir = dir_ / "elsewhere";
  Expected<ReportResult> result = write_report(results_, options);
  ASSERT_TRUE(result.has_value()) << result.status().message();
  EXPECT_TRUE(result->svgs.empty());
  EXPECT_EQ(result->html, dir_ / "elsewhere" / "report.html");
  bool noted = false;
  for (const std::string& note : result->notes) {
    noted |= note.find("cannot run") != std::string::npos;
  }
  EXPECT_TRUE(noted);
  const std::string html = read_text(result->html);
  EXPECT_NE(html.find("cannot run"), std::string::npos);
  // The scripts are still there, to draw later.
  EXPECT_TRUE(fs::exists(dir_ / "elsewhere" / "figures" / "svg.gp"));
  EXPECT_TRUE(fs::exists(dir_ / "elsewhere" / "figures" / "e0-rows.gp"));
}

TEST_F(ReportTest, OpTypeGroupsAndFaultCounts) {
  const fs::path results = run_campaign_text(dir_, R"(model: model.onnx
data: {spec: "npy:x.npy,y.npy"}
batch: 8
experiments:
  - name: ops
    target: {ops: each}
    fault: {model: bitflip, bits: exponent}
    faults_per_inference: [1, 2]
    repetitions: 2
)",
                                             "ops");
  ASSERT_FALSE(results.empty());
  Expected<ReportResult> result = write_report(results);
  ASSERT_TRUE(result.has_value()) << result.status().message();
  const std::string html = read_text(result->html);
  EXPECT_NE(html.find("faults per inference: 1, 2"), std::string::npos);
  if (gnuplot_available()) {
    EXPECT_TRUE(has_figure(*result, "e0-accuracy"));
    EXPECT_TRUE(has_figure(*result, "e0-fits"));
    EXPECT_TRUE(has_figure(*result, "e0-rows"));
    EXPECT_NE(read_text(results / "figures" / "e0-accuracy.gp").find("faults per inference k"),
              std::string::npos);
  }
  Expected<ReportTables> tables = read_report_tables(results);
  ASSERT_TRUE(tables.has_value()) << tables.status().message();
  const nlohmann::json settings = nlohmann::json::parse(table_to_json(*tables->find("settings")));
  ASSERT_EQ(settings.size(), 2u * 6);  // Conv, Relu, MaxPool, Flatten, Gemm, Softmax
  for (const auto& row : settings) {
    EXPECT_EQ(row["kind"], "op");
    EXPECT_EQ(row["index"], -1);
    EXPECT_TRUE(row["probability"] == 1.0 || row["probability"] == 2.0) << row;
  }
  // Exponent bits only.
  for (const auto& row : nlohmann::json::parse(table_to_json(*tables->find("bits")))) {
    EXPECT_EQ(row["field"], "exponent") << row;
  }
}

class ReportRejectTest : public TempDirTest {};

TEST_F(ReportRejectTest, RejectsMissingFolder) {
  Expected<ReportResult> result = write_report(dir_ / "nowhere");
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.status().message().find((dir_ / "nowhere").string() + ": no such folder"),
            std::string::npos)
      << result.status().message();
  EXPECT_FALSE(read_report_tables(dir_ / "nowhere").has_value());
}

TEST_F(ReportRejectTest, RejectsFolderWithoutResults) {
  Expected<ReportTables> tables = read_report_tables(dir_);
  ASSERT_FALSE(tables.has_value());
  EXPECT_NE(tables.status().message().find("not an nnfi results folder"), std::string::npos)
      << tables.status().message();
  EXPECT_NE(tables.status().message().find(dir_.string()), std::string::npos);
}

TEST_F(ReportRejectTest, RejectsAFileInsteadOfAFolder) {
  Expected<ReportTables> tables = read_report_tables(write_file("file.txt", "x"));
  ASSERT_FALSE(tables.has_value());
  EXPECT_NE(tables.status().message().find("not a folder"), std::string::npos);
}

TEST_F(ReportRejectTest, RejectsResultsThatAreNotSqlite) {
  write_file("results.sqlite", "this is not a database, just text that is long enough");
  Expected<ReportResult> result = write_report(dir_);
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.status().message().find("not an nnfi result store"), std::string::npos)
      << result.status().message();
}

TEST_F(ReportRejectTest, RejectsForeignSqliteWithoutTouchingIt) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path("results.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE other(x INTEGER)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const auto size = fs::file_size(path("results.sqlite"));
  Expected<ReportTables> tables = read_report_tables(dir_);
  ASSERT_FALSE(tables.has_value());
  EXPECT_NE(tables.status().message().find("results.sqlite: not an nnfi result store"),
            std::string::npos)
      << tables.status().message();
  EXPECT_EQ(fs::file_size(path("results.sqlite")), size);
}

}  // namespace
}  // namespace nnfi::testing
