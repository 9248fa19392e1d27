// Image files listed with their labels, decoded on demand; text tables.
#include "data/file_source.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>

namespace nnfi::data {
namespace {

class FileImageSource : public ImageSource {
 public:
  FileImageSource(std::string kind, std::string location, std::vector<FileEntry> entries,
                  std::vector<std::filesystem::path> metadata, bool roi_crop)
      : kind_(std::move(kind)),
        location_(std::move(location)),
        entries_(std::move(entries)),
        metadata_(std::move(metadata)),
        roi_crop_(roi_crop) {}

  int64_t size() const override { return static_cast<int64_t>(entries_.size()); }
  int64_t label(int64_t index) const override { return entry(index).label; }
  std::string entry_error(int64_t index) const override { return entry(index).error; }

  Status load(int64_t index, Image& image, bool* fatal) override {
    *fatal = false;
    const FileEntry& e = entry(index);
    Expected<Image> decoded = decode_image_file(e.image);
    if (!decoded) {
      return e.origin.empty() ? decoded.status() : decoded.status().with_context(e.origin);
    }
    image = std::move(decoded).value();
    if (!roi_crop_ || !e.has_roi) return Status::ok();
    // The ROI is given for the original csv_width x csv_height image; scale it to this one.
    const int64_t w = image.width, h = image.height;
    const int64_t left = e.roi_x1 * w / e.csv_width, top = e.roi_y1 * h / e.csv_height;
    const int64_t right = std::min(w, ((e.roi_x2 + 1) * w + e.csv_width - 1) / e.csv_width);
    const int64_t bottom = std::min(h, ((e.roi_y2 + 1) * h + e.csv_height - 1) / e.csv_height);
    if (right <= left || bottom <= top) {
      return invalid_argument(where(index) + ": the ROI is empty on the " + std::to_string(w) +
                              "x" + std::to_string(h) + " image");
    }
    image = crop_image(image, top, left, bottom - top, right - left);
    return Status::ok();
  }

  std::string where(int64_t index) const override {
    const FileEntry& e = entry(index);
    return e.origin.empty() ? e.image.string() : e.origin + " (" + e.image.string() + ")";
  }
  std::string kind() const override { return kind_; }
  std::string location() const override { return location_; }
  std::vector<std::filesystem::path> files() const override {
    std::vector<std::filesystem::path> files = metadata_;
    for (const FileEntry& e : entries_) files.push_back(e.image);
    return files;
  }

 private:
  const FileEntry& entry(int64_t index) const { return entries_[static_cast<size_t>(index)]; }

  std::string kind_, location_;
  std::vector<FileEntry> entries_;
  std::vector<std::filesystem::path> metadata_;
  bool roi_crop_;
};

std::string trim(const std::string& text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

std::vector<std::string> split_line(const std::string& line, char delimiter) {
  std::vector<std::string> fields;
  if (delimiter == 0) {
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      if (i >= line.size()) break;
      const size_t start = i;
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      fields.push_back(line.substr(start, i - start));
    }
    return fields;
  }
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == delimiter) {
      fields.push_back(trim(field));
      field.clear();
    } else {
      field += c;
    }
  }
  fields.push_back(trim(field));
  return fields;
}

}  // namespace

std::unique_ptr<ImageSource> make_file_source(std::string kind, std::string location,
                                              std::vector<FileEntry> entries,
                                              std::vector<std::filesystem::path> metadata,
                                              bool roi_crop) {
  return std::make_unique<FileImageSource>(std::move(kind), std::move(location), std::move(entries),
                                           std::move(metadata), roi_crop);
}

Expected<std::vector<TextRow>> read_table(const std::filesystem::path& path, char delimiter) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found(path.string() + ": no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(path.string() + ": cannot open");
  std::vector<TextRow> rows;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    if (line.find('\0') != std::string::npos) {
      return invalid_argument(path.string() + " line " + std::to_string(number) +
                              ": binary data in a text file");
    }
    rows.push_back({number, split_line(line, delimiter)});
  }
  if (in.bad()) return io_error(path.string() + ": read error");
  return rows;
}

char guess_delimiter(const std::string& first_line) {
  for (char c : {';', ',', '\t'}) {
    if (first_line.find(c) != std::string::npos) return c;
  }
  return 0;
}

std::string first_line_of(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line)) return std::string();
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

bool parse_integer(const std::string& text, int64_t* value) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, error] = std::from_chars(begin, end, *value);
  return !text.empty() && error == std::errc() && ptr == end;
}

bool has_image_extension(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* known : {".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".pnm", ".bmp"}) {
    if (extension == known) return true;
  }
  return false;
}

std::string missing_file_error(const std::filesystem::path& path, const std::string& origin) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return std::string();
  return (origin.empty() ? std::string() : origin + ": ") + path.string() +
         (std::filesystem::exists(path, ec) ? ": not a file" : ": no such image file");
}

}  // namespace nnfi::data
