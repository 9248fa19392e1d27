// report.html in headless Chromium: no console message of any kind (errors,
// blocked loads, exceptions), every figure drawn (the page's own check sets
// data-report-state="ok"), sorting works, and a screenshot is saved beside
// the nnfi binary (report_screenshot.png). Skips, loudly, without Chromium.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "nnfi/report.h"
#include "report/report_test_support.h"
#include "support/cli_runner.h"

namespace nnfi::testing {
namespace {

namespace fs = std::filesystem;

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    const std::string command = std::string("command -v ") + name + " >/dev/null 2>&1";
    if (std::system(command.c_str()) == 0) return name;
  }
  return "";
}

struct BrowserRun {
  int code = -1;
  std::string out, err;
};

class ReportBrowserTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    NNFI_REQUIRE_GNUPLOT();
    chromium_ = find_chromium();
    if (chromium_.empty()) {
      GTEST_SKIP() << "SKIPPED: Chromium is not installed (scripts/setup installs the Debian "
                      "packages chromium and chromium-driver)";
    }
  }

  // Runs headless Chromium on `page` with `action` (--dump-dom or
  // --screenshot=FILE); console messages go to stderr (--enable-logging).
  BrowserRun browse(const fs::path& page, const std::string& action) {
    const fs::path out = path("chromium.out"), err = path("chromium.err");
    const std::string command =
        "timeout 120 " + chromium_ +
        " --headless --no-sandbox --disable-gpu --disable-background-networking"
        " --no-first-run --disable-extensions --enable-logging=stderr --v=0"
        " --hide-scrollbars --window-size=1280,2400 --user-data-dir=" +
        shell_quoted(path("profile").string()) + " " + action + " " +
        shell_quoted("file://" + fs::absolute(page).string()) + " >" + shell_quoted(out.string()) +
        " 2>" + shell_quoted(err.string());
    const int status = std::system(command.c_str());
    BrowserRun run;
    run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = read_text(out);
    run.err = read_text(err);
    return run;
  }

  // The console lines Chromium logged for the page.
  static std::string console_lines(const std::string& err) {
    std::string lines, line;
    for (size_t start = 0; start < err.size();) {
      size_t end = err.find('\n', start);
      if (end == std::string::npos) end = err.size();
      line = err.substr(start, end - start);
      if (line.find(":CONSOLE") != std::string::npos) lines += line + "\n";
      start = end + 1;
    }
    return lines;
  }

  std::string chromium_;
};

TEST_F(ReportBrowserTest, EveryFigureIsDrawnWithoutConsoleErrors) {
  const fs::path results = run_small_campaign(dir_);
  ASSERT_FALSE(results.empty());
  Expected<ReportResult> report = write_report(results);
  ASSERT_TRUE(report.has_value()) << report.status().message();
  const size_t figures = report->svgs.size();
  ASSERT_GE(figures, 14u);

  const BrowserRun dom = browse(report->html, "--dump-dom");
  ASSERT_EQ(dom.code, 0) << dom.err;
  EXPECT_EQ(console_lines(dom.err), "");
  EXPECT_NE(dom.out.find("data-report-state=\"ok\""), std::string::npos) << dom.out.substr(0, 400);
  const std::string drawn =
      "data-figures=\"" + std::to_string(figures) + "/" + std::to_string(figures) + "\"";
  EXPECT_NE(dom.out.find(drawn), std::string::npos) << dom.out.substr(0, 400);

  const fs::path screenshot = fs::path(NNFI_BINARY_PATH).parent_path() / "report_screenshot.png";
  fs::remove(screenshot);
  const BrowserRun shot = browse(report->html, "--screenshot=" + shell_quoted(screenshot.string()));
  ASSERT_EQ(shot.code, 0) << shot.err;
  EXPECT_EQ(console_lines(shot.err), "");
  ASSERT_TRUE(fs::exists(screenshot));
  EXPECT_GT(fs::file_size(screenshot), 20000u);  // a page with figures, not a blank one
  std::cout << "screenshot: " << screenshot.string() << "\n";
}

TEST_F(ReportBrowserTest, CriticalityTableSortsOnClick) {
  const fs::path results = run_small_campaign(dir_);
  ASSERT_FALSE(results.empty());
  Expected<ReportResult> report = write_report(results);
  ASSERT_TRUE(report.has_value()) << report.status().message();
  // Click "#" (layer index) twice: descending, then ascending.
  std::string html = read_text(report->html);
  const std::string probe = R"(<script>
var th = document.querySelector('#criticality-table thead th:nth-child(2)');
th.click();
var first = function () {
  return document.querySelector('#criticality-table tbody tr td:nth-child(2)').textContent;
};
var down = first();
th.click();
document.documentElement.setAttribute('data-sorted', down + ',' + first());
</script>
</body>)";
  html.replace(html.rfind("</body>"), 7, probe);
  std::ofstream(path("probe.html")) << html;
  const BrowserRun dom = browse(path("probe.html"), "--dump-dom");
  ASSERT_EQ(dom.code, 0) << dom.err;
  EXPECT_EQ(console_lines(dom.err), "");
  EXPECT_NE(dom.out.find("data-sorted=\"14,0\""), std::string::npos) << dom.out.substr(0, 400);
}

// The check itself: a page with a broken script, a blocked load and a figure
// of zero size is reported, so a pass above means something.
TEST_F(ReportBrowserTest, HarnessDetectsErrorsAndUndrawnFigures) {
  const fs::path results = run_small_campaign(dir_);
  ASSERT_FALSE(results.empty());
  Expected<ReportResult> report = write_report(results);
  ASSERT_TRUE(report.has_value()) << report.status().message();
  std::string html = read_text(report->html);
  const size_t body = html.find("<body>") + 6;
  html.insert(body,
              "<figure class=\"plot\" style=\"display:none\"><svg><rect/></svg></figure>"
              "<img src=\"https://example.invalid/x.png\">"
              "<script>notDefinedAnywhere();</script>");
  std::ofstream(path("broken.html")) << html;
  const BrowserRun dom = browse(path("broken.html"), "--dump-dom");
  ASSERT_EQ(dom.code, 0) << dom.err;
  const std::string console = console_lines(dom.err);
  EXPECT_NE(console.find("notDefinedAnywhere"), std::string::npos) << console;
  EXPECT_NE(console.find("Content Security Policy"), std::string::npos) << console;
  EXPECT_NE(dom.out.find("data-report-state=\"error\""), std::string::npos);
  const std::string drawn = "data-figures=\"" + std::to_string(report->svgs.size()) + "/" +
                            std::to_string(report->svgs.size() + 1) + "\"";
  EXPECT_NE(dom.out.find(drawn), std::string::npos) << dom.out.substr(0, 400);
}

}  // namespace
}  // namespace nnfi::testing
