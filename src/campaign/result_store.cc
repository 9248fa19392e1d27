#include "campaign/result_store.h"

namespace nnfi::campaign {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS campaign(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings(
  experiment INTEGER, setting INTEGER, experiment_name TEXT, group_name TEXT, group_kind TEXT,
  group_class TEXT, group_index INTEGER, shape TEXT, probability REAL, metric TEXT, sites TEXT,
  site_elements INTEGER, PRIMARY KEY(experiment, setting));
CREATE TABLE IF NOT EXISTS batches(
  batch INTEGER PRIMARY KEY, first INTEGER, images INTEGER, skipped INTEGER,
  golden_correct INTEGER, golden_seconds REAL);
CREATE TABLE IF NOT EXISTS units(
  experiment INTEGER, setting INTEGER, repetition INTEGER, batch INTEGER, images INTEGER,
  faulted INTEGER, faults INTEGER, correct INTEGER, agree INTEGER, masked INTEGER,
  benign INTEGER, sdc INTEGER, nonfinite INTEGER,
  PRIMARY KEY(experiment, setting, repetition, batch));
CREATE TABLE IF NOT EXISTS faults(
  id INTEGER PRIMARY KEY, experiment INTEGER, setting INTEGER, repetition INTEGER,
  image INTEGER, site TEXT, site_key INTEGER, element INTEGER, before INTEGER, after INTEGER,
  bit INTEGER, outcome INTEGER);
)sql";

int64_t column_int(sqlite3_stmt* statement, int column) {
  return sqlite3_column_int64(statement, column);
}

std::string column_text(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  return text != nullptr ? reinterpret_cast<const char*>(text) : "";
}

}  // namespace

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kMasked: return "masked";
    case Outcome::kBenign: return "benign";
    case Outcome::kSdc: return "sdc";
    case Outcome::kNonFinite: return "non_finite";
  }
  return "?";
}

ResultStore::~ResultStore() {
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  sqlite3_close(db_);
}

Status ResultStore::error(const std::string& what) {
  return io_error(file_.string() + ": " + what + ": " + sqlite3_errmsg(db_));
}

Status ResultStore::exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return io_error(file_.string() + ": " + text);
  }
  return Status::ok();
}

Expected<sqlite3_stmt*> ResultStore::statement(const std::string& sql) {
  auto found = statements_.find(sql);
  if (found != statements_.end()) {
    sqlite3_reset(found->second);
    sqlite3_clear_bindings(found->second);
    return found->second;
  }
  sqlite3_stmt* prepared = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &prepared, nullptr) != SQLITE_OK) {
    return error("cannot prepare a statement");
  }
  statements_[sql] = prepared;
  return prepared;
}

Expected<std::unique_ptr<ResultStore>> ResultStore::open_existing(
    const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) {
    return not_found(file.string() + ": no results here (expected a folder written by nnfi run)");
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return io_error(file.string() + ": " + message);
  }
  std::unique_ptr<ResultStore> store(new ResultStore(db, file));
  sqlite3_busy_timeout(db, 5000);
  NNFI_RETURN_IF_ERROR(
      store->exec(kSchema).with_context(file.string() + " is not an nnfi result store"));
  return store;
}

Expected<std::unique_ptr<ResultStore>> ResultStore::open(const std::filesystem::path& file,
                                                         const CampaignIdentity& identity) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return io_error(file.string() + ": " + message);
  }
  std::unique_ptr<ResultStore> store(new ResultStore(db, file));
  sqlite3_busy_timeout(db, 5000);
  // WAL: a commit survives the process being killed; NORMAL sync is enough
  // for that (only a power loss could drop the last transactions).
  NNFI_RETURN_IF_ERROR(store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  NNFI_RETURN_IF_ERROR(store->exec(kSchema));

  const std::pair<const char*, const std::string*> fields[] = {
      {"config", &identity.config},
      {"model_hash", &identity.model_hash},
      {"data_hash", &identity.data_hash},
      {"seed", &identity.seed},
  };
  for (const auto& [key, value] : fields) {
    NNFI_ASSIGN_OR_RETURN(std::string stored, store->campaign_value(key));
    if (stored.empty()) continue;
    if (stored != *value) {
      const std::string what = std::string(key) == "config"       ? "the campaign configuration"
                               : std::string(key) == "model_hash" ? "the model file"
                               : std::string(key) == "data_hash"  ? "the data set"
                                                                  : "the seed";
      return invalid_argument(file.parent_path().string() +
                              " holds results of another campaign: " + what +
                              " changed since they were written. Use a new --out folder "
                              "(or delete this one) instead of mixing results");
    }
  }
  NNFI_RETURN_IF_ERROR(store->begin());
  sqlite3_stmt* insert = nullptr;
  const std::pair<const char*, const std::string*> all_fields[] = {
      {"config", &identity.config},
      {"model_hash", &identity.model_hash},
      {"data_hash", &identity.data_hash},
      {"seed", &identity.seed},
      {"nnfi_version", &identity.nnfi_version}};
  for (const auto& [key, value] : all_fields) {
    NNFI_ASSIGN_OR_RETURN(
        insert, store->statement("INSERT OR IGNORE INTO campaign(key, value) VALUES(?, ?)"));
    sqlite3_bind_text(insert, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, value->c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(insert) != SQLITE_DONE) return store->error("cannot write the campaign");
  }
  NNFI_RETURN_IF_ERROR(store->commit());
  return store;
}

Expected<std::string> ResultStore::campaign_value(const std::string& key) {
  NNFI_ASSIGN_OR_RETURN(sqlite3_stmt * select,
                        statement("SELECT value FROM campaign WHERE key = ?"));
  sqlite3_bind_text(select, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  const int step = sqlite3_step(select);
  if (step == SQLITE_ROW) return column_text(select, 0);
  if (step == SQLITE_DONE) return std::string();
  return error("cannot read the campaign");
}

Status ResultStore::set_campaign_value(const std::string& key, const std::string& value) {
  NNFI_ASSIGN_OR_RETURN(sqlite3_stmt * insert,
                        statement("INSERT OR REPLACE INTO campaign(key, value) VALUES(?, ?)"));
  sqlite3_bind_text(insert, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(insert, 2, value.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(insert) != SQLITE_DONE) return error("cannot write the campaign");
  return Status::ok();
}

Status ResultStore::begin() { return exec("BEGIN IMMEDIATE"); }
Status ResultStore::commit() { return exec("COMMIT"); }
Status ResultStore::rollback() { return exec("ROLLBACK"); }

Status ResultStore::put_setting(const SettingRow& row) {
  NNFI_ASSIGN_OR_RETURN(
      sqlite3_stmt * insert,
      statement("INSERT OR REPLACE INTO settings VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  sqlite3_bind_int64(insert, 1, row.experiment);
  sqlite3_bind_int64(insert, 2, row.setting);
  sqlite3_bind_text(insert, 3, row.experiment_name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(insert, 4, row.group.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(insert, 5, row.group_kind.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(insert, 6, row.group_class.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(insert, 7, row.group_index);
  sqlite3_bind_text(insert, 8, row.shape.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(insert, 9, row.probability);
  sqlite3_bind_text(insert, 10, row.metric.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(insert, 11, row.sites.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(insert, 12, row.site_elements);
  if (sqlite3_step(insert) != SQLITE_DONE) return error("cannot write a setting");
  return Status::ok();
}

Status ResultStore::put_batch(const BatchRow& row) {
  NNFI_ASSIGN_OR_RETURN(sqlite3_stmt * insert,
                        statement("INSERT OR REPLACE INTO batches VALUES(?, ?, ?, ?, ?, ?)"));
  sqlite3_bind_int64(insert, 1, row.batch);
  sqlite3_bind_int64(insert, 2, row.first);
  sqlite3_bind_int64(insert, 3, row.images);
  sqlite3_bind_int64(insert, 4, row.skipped);
  sqlite3_bind_int64(insert, 5, row.golden_correct);
  sqlite3_bind_double(insert, 6, row.golden_seconds);
  if (sqlite3_step(insert) != SQLITE_DONE) return error("cannot write a batch");
  return Status::ok();
}

Status ResultStore::put_unit(const UnitRow& row) {
  NNFI_ASSIGN_OR_RETURN(
      sqlite3_stmt * insert,
      statement("INSERT OR REPLACE INTO units VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  const int64_t values[] = {row.experiment, row.setting, row.repetition, row.batch, row.images,
                            row.faulted,    row.faults,  row.correct,    row.agree, row.masked,
                            row.benign,     row.sdc,     row.nonfinite};
  for (int i = 0; i < 13; ++i) sqlite3_bind_int64(insert, i + 1, values[i]);
  if (sqlite3_step(insert) != SQLITE_DONE) return error("cannot write a unit");
  return Status::ok();
}

Status ResultStore::put_fault(const FaultRow& row) {
  NNFI_ASSIGN_OR_RETURN(
      sqlite3_stmt * insert,
      statement("INSERT INTO faults(experiment, setting, repetition, image, site, site_key, "
                "element, before, after, bit, outcome) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  sqlite3_bind_int64(insert, 1, row.experiment);
  sqlite3_bind_int64(insert, 2, row.setting);
  sqlite3_bind_int64(insert, 3, row.repetition);
  sqlite3_bind_int64(insert, 4, row.image);
  sqlite3_bind_text(insert, 5, row.site.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(insert, 6, row.site_key);
  sqlite3_bind_int64(insert, 7, row.element);
  // Bits are stored as signed 64-bit integers (SQLite has no unsigned type).
  sqlite3_bind_int64(insert, 8, static_cast<int64_t>(row.before));
  sqlite3_bind_int64(insert, 9, static_cast<int64_t>(row.after));
  sqlite3_bind_int64(insert, 10, row.bit);
  sqlite3_bind_int64(insert, 11, static_cast<int>(row.outcome));
  if (sqlite3_step(insert) != SQLITE_DONE) return error("cannot write a fault");
  return Status::ok();
}

Expected<std::vector<SettingRow>> ResultStore::settings() {
  NNFI_ASSIGN_OR_RETURN(sqlite3_stmt * select,
                        statement("SELECT * FROM settings ORDER BY experiment, setting"));
  std::vector<SettingRow> rows;
  int step;
  while ((step = sqlite3_step(select)) == SQLITE_ROW) {
    SettingRow row;
    row.experiment = column_int(select, 0);
    row.setting = column_int(select, 1);
    row.experiment_name = column_text(select, 2);
    row.group = column_text(select, 3);
    row.group_kind = column_text(select, 4);
    row.group_class = column_text(select, 5);
    row.group_index = column_int(select, 6);
    row.shape = column_text(select, 7);
    row.probability = sqlite3_column_double(select, 8);
    row.metric = column_text(select, 9);
    row.sites = column_text(select, 10);
    row.site_elements = column_int(select, 11);
    rows.push_back(std::move(row));
  }
  if (step != SQLITE_DONE) return error("cannot read the settings");
  return rows;
}

Expected<std::vector<BatchRow>> ResultStore::batches() {
  NNFI_ASSIGN_OR_RETURN(sqlite3_stmt * select, statement("SELECT * FROM batches ORDER BY batch"));
  std::vector<BatchRow> rows;
  int step;
  while ((step = sqlite3_step(select)) == SQLITE_ROW) {
    rows.push_back({column_int(select, 0), column_int(select, 1), column_int(select, 2),
                    column_int(select, 3), column_int(select, 4),
                    sqlite3_column_double(select, 5)});
  }
  if (step != SQLITE_DONE) return error("cannot read the batches");
  return rows;
}

Expected<std::vector<UnitRow>> ResultStore::units() {
  NNFI_ASSIGN_OR_RETURN(
      sqlite3_stmt * select,
      statement("SELECT * FROM units ORDER BY experiment, setting, repetition, batch"));
  std::vector<UnitRow> rows;
  int step;
  while ((step = sqlite3_step(select)) == SQLITE_ROW) {
    UnitRow row;
    int64_t* fields[] = {&row.experiment, &row.setting, &row.repetition, &row.batch, &row.images,
                         &row.faulted,    &row.faults,  &row.correct,    &row.agree, &row.masked,
                         &row.benign,     &row.sdc,     &row.nonfinite};
    for (int i = 0; i < 13; ++i) *fields[i] = column_int(select, i);
    rows.push_back(row);
  }
  if (step != SQLITE_DONE) return error("cannot read the units");
  return rows;
}

Expected<std::optional<FaultRow>> ResultStore::fault(int64_t id) {
  NNFI_ASSIGN_OR_RETURN(
      sqlite3_stmt * select,
      statement("SELECT id, experiment, setting, repetition, image, site, site_key, element, "
                "before, after, bit, outcome FROM faults WHERE id = ?"));
  sqlite3_bind_int64(select, 1, id);
  const int step = sqlite3_step(select);
  if (step == SQLITE_DONE) return std::optional<FaultRow>();
  if (step != SQLITE_ROW) return error("cannot read fault " + std::to_string(id));
  FaultRow row;
  row.id = column_int(select, 0);
  row.experiment = column_int(select, 1);
  row.setting = column_int(select, 2);
  row.repetition = column_int(select, 3);
  row.image = column_int(select, 4);
  row.site = column_text(select, 5);
  row.site_key = column_int(select, 6);
  row.element = column_int(select, 7);
  row.before = static_cast<uint64_t>(column_int(select, 8));
  row.after = static_cast<uint64_t>(column_int(select, 9));
  row.bit = static_cast<int>(column_int(select, 10));
  row.outcome = static_cast<Outcome>(column_int(select, 11));
  return std::optional<FaultRow>(row);
}

Expected<int64_t> ResultStore::fault_count() {
  NNFI_ASSIGN_OR_RETURN(sqlite3_stmt * select, statement("SELECT COUNT(*) FROM faults"));
  if (sqlite3_step(select) != SQLITE_ROW) return error("cannot count the faults");
  return column_int(select, 0);
}

}  // namespace nnfi::campaign
