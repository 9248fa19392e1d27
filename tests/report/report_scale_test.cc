// A campaign of 50 layers and 10 probabilities (a synthetic store): every
// figure is drawn, the tables are complete, and the time it took is printed
// (and recorded as the test property render_seconds). Not a timed test.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "nnfi/report.h"
#include "report/report_test_support.h"
#include "support/cli_runner.h"

namespace nnfi::testing {
namespace {

class ReportScaleTest : public TempDirTest {};

TEST_F(ReportScaleTest, FiftyLayersTenProbabilities) {
  NNFI_REQUIRE_GNUPLOT();
  write_synthetic_store(dir_, 50, 10, 5, 4);
  if (HasFatalFailure()) return;
  const auto start = std::chrono::steady_clock::now();
  Expected<ReportResult> result = write_report(dir_);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(result.has_value()) << result.status().message();
  std::cout << "report of 50 layers x 10 probabilities (+ 50 settings at p = 1), "
            << result->svgs.size() << " figures as SVG and PNG: " << seconds << " s\n";
  RecordProperty("render_seconds", std::to_string(seconds));
  // Fig. 2 and CMA: 5 pages each of 12 panels; fits, rows, outcomes, bits,
  // fields; the second experiment: rows, 5 CMA pages, outcomes, bits, fields.
  EXPECT_EQ(result->svgs.size(), 15u + 9u);
  EXPECT_EQ(result->pngs.size(), result->svgs.size());
  bool model_noted = false;
  for (const std::string& note : result->notes) {
    model_noted |= note.find("missing_model.onnx is gone") != std::string::npos;
  }
  EXPECT_TRUE(model_noted);
  const std::string html = read_text(result->html);
  EXPECT_EQ(count_occurrences(html, "<svg"), 24);
  EXPECT_EQ(first_duplicate_id(html), "");
  // 100 groups in the criticality table, the deepest layer first.
  const size_t table = html.find("id=\"criticality-table\"");
  const std::string rows = html.substr(table, html.find("</table>", table) - table);
  EXPECT_EQ(count_occurrences(rows, "<tr>"), 1 + 100);
  EXPECT_LT(rows.find("layer_49"), rows.find("layer_0<"));

  Expected<ReportTables> tables = read_report_tables(dir_);
  ASSERT_TRUE(tables.has_value()) << tables.status().message();
  EXPECT_EQ(tables->find("settings")->rows.size(), 550u);
  EXPECT_EQ(tables->find("repetitions")->rows.size(), 550u * 5);
  EXPECT_EQ(tables->units_missing, 0);
}

}  // namespace
}  // namespace nnfi::testing
