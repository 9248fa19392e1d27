// gtsrb: data sets. The official test layout: GT-final_test.csv (';'-separated:
// Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId) beside or above the images (PPM);
// and Kaggle's: Test.csv (','-separated, a Path column relative to DIR, PNG images).
#include <algorithm>

#include "data/file_source.h"

namespace nnfi::data {
namespace {

// Where the CSV is: the spec names it, or DIR holds one of the known names.
Expected<std::filesystem::path> find_csv(const std::filesystem::path& location) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(location, ec)) return location;
  if (!std::filesystem::is_directory(location, ec)) {
    return not_found(location.string() + ": no such directory (gtsrb:DIR)");
  }
  for (const char* name : {"GT-final_test.csv", "Test.csv", "Images/GT-final_test.csv",
                           "Final_Test/Images/GT-final_test.csv"}) {
    if (std::filesystem::is_regular_file(location / name, ec)) return location / name;
  }
  // Any single GT-*.csv (the official per-class training folders use GT-00000.csv ...).
  std::vector<std::filesystem::path> found;
  for (const auto& item : std::filesystem::directory_iterator(location, ec)) {
    const std::string name = item.path().filename().string();
    if (name.rfind("GT-", 0) == 0 && item.path().extension() == ".csv") found.push_back(item);
  }
  if (found.size() == 1) return found[0];
  return not_found(location.string() +
                   ": no GTSRB ground-truth CSV (expected GT-final_test.csv with "
                   "Filename;...;ClassId, or Kaggle's Test.csv with ...,ClassId,Path)");
}

int column(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

Expected<std::unique_ptr<ImageSource>> open_gtsrb_source(const std::filesystem::path& location,
                                                         const DatasetOptions& options) {
  NNFI_ASSIGN_OR_RETURN(std::filesystem::path csv, find_csv(location));
  const std::string where = csv.string();
  const char delimiter = guess_delimiter(first_line_of(csv));
  NNFI_ASSIGN_OR_RETURN(std::vector<TextRow> rows,
                        read_table(csv, delimiter == 0 ? ';' : delimiter));
  if (rows.empty()) return invalid_argument(where + ": empty CSV (expected a header line)");
  const std::vector<std::string>& header = rows[0].fields;
  const int filename = column(header, "Filename"), path = column(header, "Path");
  const int class_id = column(header, "ClassId");
  const int width = column(header, "Width"), height = column(header, "Height");
  const int roi[4] = {column(header, "Roi.X1"), column(header, "Roi.Y1"), column(header, "Roi.X2"),
                      column(header, "Roi.Y2")};
  if ((filename < 0 && path < 0) || class_id < 0) {
    return invalid_argument(where + " line " + std::to_string(rows[0].line) +
                            ": the header needs a Filename (or Path) column and a ClassId "
                            "column, found '" +
                            first_line_of(csv) + "'");
  }
  const bool has_roi =
      width >= 0 && height >= 0 && std::all_of(roi, roi + 4, [](int c) { return c >= 0; });
  if (options.roi_crop && !has_roi) {
    return invalid_argument(where +
                            ": the ROI crop needs the columns Width, Height, Roi.X1, "
                            "Roi.Y1, Roi.X2 and Roi.Y2");
  }
  // Official: Filename relative to the CSV's folder (or its Images/); Kaggle: Path from DIR.
  const std::filesystem::path base = csv.parent_path();
  std::error_code ec;
  const bool images_below =
      filename >= 0 && std::filesystem::is_directory(base / "Images", ec) && rows.size() > 1 &&
      static_cast<size_t>(filename) < rows[1].fields.size() &&
      !std::filesystem::exists(base / rows[1].fields[static_cast<size_t>(filename)], ec);

  std::vector<FileEntry> entries;
  entries.reserve(rows.size() - 1);
  for (size_t r = 1; r < rows.size(); ++r) {
    const TextRow& row = rows[r];
    FileEntry e;
    e.origin = where + " line " + std::to_string(row.line);
    auto field = [&](int index) -> const std::string& {
      static const std::string kNone;
      return index >= 0 && static_cast<size_t>(index) < row.fields.size()
                 ? row.fields[static_cast<size_t>(index)]
                 : kNone;
    };
    if (row.fields.size() != header.size()) {
      e.error = e.origin + ": " + std::to_string(row.fields.size()) + " fields, expected " +
                std::to_string(header.size()) + " as in the header";
    }
    const std::string& name = field(filename >= 0 ? filename : path);
    e.image = filename >= 0 ? (images_below ? base / "Images" / name : base / name) : base / name;
    if (e.error.empty() && name.empty()) e.error = e.origin + ": no image file name";
    if (e.error.empty() && !parse_integer(field(class_id), &e.label)) {
      e.error = e.origin + ": ClassId '" + field(class_id) + "' is not an integer";
    }
    if (e.error.empty() && has_roi) {
      int64_t values[6];
      const int columns[6] = {width, height, roi[0], roi[1], roi[2], roi[3]};
      const char* names[6] = {"Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2"};
      for (int i = 0; i < 6 && e.error.empty(); ++i) {
        if (!parse_integer(field(columns[i]), &values[i]) || values[i] < 0) {
          e.error = e.origin + ": " + names[i] + " '" + field(columns[i]) +
                    "' is not a non-negative integer";
        }
      }
      if (e.error.empty()) {
        e.has_roi = true;
        e.csv_width = values[0], e.csv_height = values[1];
        e.roi_x1 = values[2], e.roi_y1 = values[3], e.roi_x2 = values[4], e.roi_y2 = values[5];
        if (options.roi_crop &&
            (e.csv_width == 0 || e.csv_height == 0 || e.roi_x2 < e.roi_x1 || e.roi_y2 < e.roi_y1 ||
             e.roi_x2 >= e.csv_width || e.roi_y2 >= e.csv_height)) {
          e.error = e.origin + ": the ROI (" + field(roi[0]) + "," + field(roi[1]) + ")-(" +
                    field(roi[2]) + "," + field(roi[3]) + ") does not lie in the " + field(width) +
                    "x" + field(height) + " image";
        }
      }
    }
    if (e.error.empty()) e.error = missing_file_error(e.image, e.origin);
    entries.push_back(std::move(e));
  }
  return make_file_source("gtsrb", location.string(), std::move(entries), {csv}, options.roi_crop);
}

}  // namespace nnfi::data
