// End-to-end tests of `nnfi run` and `nnfi replay`: a campaign killed with
// SIGKILL at a random moment resumes to the same summary as an uninterrupted
// run; config and usage errors name file, line and key.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/temp_files.h"
#include "support/cli_runner.h"

namespace nnfi {
namespace {

using testing::CliResult;
using testing::is_cli_error;

const char* kData = "/usr/share/datasets/fashion-mnist/";

std::string fashion_campaign(int64_t limit) {
  const std::string data = std::string("idx:") + kData + "t10k-images-idx3-ubyte.gz," + kData +
                           "t10k-labels-idx1-ubyte.gz";
  return "model: " + std::string(NNFI_SOURCE_DIR) +
         "/examples/fashion_mnist/fashion_mnist_cnn.onnx\n"
         "data: {spec: \"" +
         data + "\", limit: " + std::to_string(limit) +
         "}\n"
         "seed: 5\nbatch: 16\n"
         "experiments:\n"
         "  - name: sweep\n"
         "    target: {layers: each}\n"
         "    fault: {model: bitflip}\n"
         "    probability: [0.5, 1.0]\n"
         "    repetitions: 2\n";
}

int64_t batches_done(const std::filesystem::path& store) {
  sqlite3* db = nullptr;
  int64_t count = 0;
  if (sqlite3_open_v2(store.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM batches", -1, &statement, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      count = sqlite3_column_int64(statement, 0);
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return count;
}

nlohmann::json summary_of(const std::filesystem::path& out) {
  std::ifstream file(out / "summary.json");
  return nlohmann::json::parse(file, nullptr, false);
}

class RunCli : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (!std::filesystem::exists(std::string(kData) + "t10k-images-idx3-ubyte.gz")) {
      GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup installs it)";
    }
  }
  CliResult nnfi(const std::vector<std::string>& args) { return testing::run_nnfi(args, dir_); }

  // Runs `text` (a campaign of `batches` batches) whole, then again with
  // `options`, killed with SIGKILL a few batches in and resumed (with
  // `options` too): same summary.
  void expect_killed_run_resumes(const std::string& text, int64_t batches,
                                 const std::vector<std::string>& options);
};

void RunCli::expect_killed_run_resumes(const std::string& text, int64_t batches,
                                       const std::vector<std::string>& options) {
  const std::string campaign = write_file("campaign.yaml", text).string();
  const CliResult whole = nnfi({"run", campaign, "--out", path("whole").string(), "-q"});
  ASSERT_EQ(whole.code, 0) << whole.err;
  EXPECT_NE(whole.out.find("golden accuracy:"), std::string::npos) << whole.out;

  const std::filesystem::path killed = path("killed");
  std::vector<std::string> args = {NNFI_BINARY_PATH, "run",           campaign,
                                   "--out",          killed.string(), "-q"};
  args.insert(args.end(), options.begin(), options.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    execv(NNFI_BINARY_PATH, argv.data());
    _exit(127);
  }
  // Kill it once a few batches are in, i.e. in the middle of a later one.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (batches_done(killed / "results.sqlite") < 3 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before it could be killed";
  const int64_t done_when_killed = batches_done(killed / "results.sqlite");
  EXPECT_GE(done_when_killed, 3);
  EXPECT_LT(done_when_killed, batches);

  std::vector<std::string> resume = {"run", campaign, "--out", killed.string()};
  resume.insert(resume.end(), options.begin(), options.end());
  const CliResult resumed = nnfi(resume);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming:"), std::string::npos) << resumed.err;
  const nlohmann::json a = summary_of(path("whole"));
  const nlohmann::json b = summary_of(killed);
  ASSERT_FALSE(a.is_discarded());
  ASSERT_FALSE(b.is_discarded());
  EXPECT_EQ(a["experiments"], b["experiments"]);
  EXPECT_EQ(a["golden"], b["golden"]);
  EXPECT_TRUE(b["complete"].get<bool>());
}

TEST_F(RunCli, KilledRunResumesToTheSameSummary) {
  expect_killed_run_resumes(fashion_campaign(256), 16, {});  // batches of 16
}

// One thread and few survivors a batch (one conv layer, batches of 4): the
// batches run one after another and the survivors' tails of four of them
// wait in a stash (tail_stash.h) before they are committed together; a run
// killed with batches in the stash redoes them when resumed.
TEST_F(RunCli, KilledSingleThreadRunWithStashedTailsResumes) {
  std::string text = fashion_campaign(256);
  text = text.substr(0, text.find("seed:")) +
         "seed: 6\nbatch: 4\n"
         "experiments:\n"
         "  - name: conv\n"
         "    target: {layers: [/net/features/features.6/Conv]}\n"
         "    fault: {model: bitflip, bits: \"23..30\"}\n"
         "    probability: 1.0\n";
  expect_killed_run_resumes(text, 64, {"--threads", "1"});
}

// The summary table's group column fits the layer names: it once cut them
// at 28 characters (fits at 24), and "features.1/Relu" and "features.10/
// MaxPool" then printed alike.
TEST_F(RunCli, SummaryPrintsWholeLayerNames) {
  const std::string campaign = write_file("campaign.yaml", fashion_campaign(32)).string();
  const CliResult run = nnfi({"run", campaign, "--out", path("out").string(), "-q"});
  ASSERT_EQ(run.code, 0) << run.err;
  for (const char* line :
       {"  /net/features/features.10/MaxPool ", "  /net/features/features.1/Relu ",
        "  fit /net/features/features.10/MaxPool ",
        "  fit /net/classifier/classifier.0/Flatten "}) {
    EXPECT_NE(run.out.find(line), std::string::npos) << line << "\n" << run.out;
  }
}

TEST_F(RunCli, RunsAndReplaysAFault) {
  const std::string campaign = write_file("campaign.yaml", fashion_campaign(32)).string();
  const CliResult run = nnfi({"run", campaign, "--out", path("out").string(), "-q"});
  ASSERT_EQ(run.code, 0) << run.err;
  for (const char* file : {"summary.json", "settings.csv", "repetitions.csv", "results.sqlite"}) {
    EXPECT_TRUE(std::filesystem::exists(path("out") / file)) << file;
  }
  const CliResult replay = nnfi({"replay", path("out").string(), "--fault", "1"});
  ASSERT_EQ(replay.code, 0) << replay.err;
  EXPECT_NE(replay.out.find("fault 1: experiment 'sweep'"), std::string::npos) << replay.out;
  EXPECT_NE(replay.out.find("output: top-1"), std::string::npos) << replay.out;
  EXPECT_TRUE(is_cli_error(nnfi({"replay", path("out").string(), "--fault", "99999999"}), 1,
                           {"no fault with id 99999999"}));
  EXPECT_TRUE(is_cli_error(nnfi({"replay", path("nowhere").string(), "--fault", "1"}), 1,
                           {"no results here"}));
}

TEST_F(RunCli, ConfigErrorsNameFileLineAndKey) {
  const std::string campaign =
      write_file("bad.yaml", fashion_campaign(32) + "    metric: top5\n").string();
  EXPECT_TRUE(is_cli_error(nnfi({"run", campaign, "--out", path("out").string()}), 1,
                           {"bad.yaml:11", "experiments[0].metric",
                            "expected one of ground_truth, golden, got 'top5'"}));
}

TEST_F(RunCli, RefusesAChangedCampaign) {
  const std::string campaign = write_file("campaign.yaml", fashion_campaign(16)).string();
  ASSERT_EQ(nnfi({"run", campaign, "--out", path("out").string(), "-q"}).code, 0);
  write_file("campaign.yaml", fashion_campaign(32));
  EXPECT_TRUE(is_cli_error(nnfi({"run", campaign, "--out", path("out").string()}), 1,
                           {"holds results of another campaign", "changed"}));
}

TEST_F(RunCli, UsageErrors) {
  const std::string campaign = write_file("campaign.yaml", fashion_campaign(16)).string();
  EXPECT_TRUE(is_cli_error(nnfi({"run", path("missing.yaml").string()}), 1, {"cannot open"}));
  EXPECT_TRUE(is_cli_error(nnfi({"run", campaign, "--engine", "turbo"}), 2, {"--engine"}));
  EXPECT_TRUE(is_cli_error(nnfi({"run", campaign, "--resize", "30x30"}), 1,
                           {"has its own data section", "only --data, --limit and --offset"}));
  EXPECT_TRUE(
      is_cli_error(nnfi({"run", campaign, "--data", "idx:a,b", "--out", path("out").string()}), 1,
                   {"no such file"}));
}

}  // namespace
}  // namespace nnfi
