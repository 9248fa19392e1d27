// Image-file data sets (gtsrb:, folder:): a list of image files with labels, decoded on demand,
// and the small text-table parsing their CSV/TXT files need.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/image_dataset.h"

namespace nnfi::data {

struct FileEntry {
  std::filesystem::path image;
  int64_t label = 0;
  std::string origin;  // e.g. "DIR/GT-final_test.csv line 3"; empty: the image path says it all
  std::string error;   // why the entry is bad (bad row, missing file), known from listing
  // gtsrb: the ROI (inclusive corners) for an image of csv_width x csv_height.
  bool has_roi = false;
  int64_t roi_x1 = 0, roi_y1 = 0, roi_x2 = 0, roi_y2 = 0, csv_width = 0, csv_height = 0;
};

// A source over `entries`. `metadata` are the CSV/list/labels files (for fingerprints).
std::unique_ptr<ImageSource> make_file_source(std::string kind, std::string location,
                                              std::vector<FileEntry> entries,
                                              std::vector<std::filesystem::path> metadata,
                                              bool roi_crop);

// One line of a text table: its 1-based line number and its fields (trimmed).
struct TextRow {
  int64_t line = 0;
  std::vector<std::string> fields;
};

// Reads a text file into rows, skipping blank lines. A UTF-8 BOM and CRs are dropped; fields
// may be double-quoted. delimiter 0: whitespace-separated. Errors name the file.
Expected<std::vector<TextRow>> read_table(const std::filesystem::path& path, char delimiter);

// ';', ',' or '\t' when the line holds one (in that order), else 0 (whitespace).
char guess_delimiter(const std::string& first_line);
// The first line of a text file ("" when empty or unreadable).
std::string first_line_of(const std::filesystem::path& path);

// A whole decimal integer (optional sign), nothing else.
bool parse_integer(const std::string& text, int64_t* value);

// .jpg .jpeg .png .ppm .pgm .pnm .bmp, any case.
bool has_image_extension(const std::filesystem::path& path);

// "DIR/x.png" when `path` exists; an entry error saying it does not, otherwise.
std::string missing_file_error(const std::filesystem::path& path, const std::string& origin);

}  // namespace nnfi::data
