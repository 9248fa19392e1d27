// folder: data sets: class subfolders (ImageNet/Keras/PyTorch style), a flat folder with a
// "file,label" list, or a flat folder whose file names end in the label ("cifar10_03_0.png").
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

#include "data/file_source.h"

namespace nnfi::data {
namespace {

namespace fs = std::filesystem;

bool hidden(const fs::path& path) { return path.filename().string().rfind('.', 0) == 0; }

// Image files directly in (or, recursive, below) `directory`, sorted by path.
std::vector<fs::path> image_files(const fs::path& directory, bool recursive) {
  std::vector<fs::path> files;
  std::error_code ec;
  auto consider = [&](const fs::directory_entry& item) {
    if (item.is_regular_file(ec) && has_image_extension(item.path()) && !hidden(item.path())) {
      files.push_back(item.path());
    }
  };
  if (recursive) {
    for (const auto& item : fs::recursive_directory_iterator(directory, ec)) consider(item);
  } else {
    for (const auto& item : fs::directory_iterator(directory, ec)) consider(item);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<fs::path> subfolders(const fs::path& directory) {
  std::vector<fs::path> folders;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(directory, ec)) {
    if (item.is_directory(ec) && !hidden(item.path())) folders.push_back(item.path());
  }
  std::sort(folders.begin(), folders.end());
  return folders;
}

// Class names -> labels, from a labels file.
class LabelMap {
 public:
  Status load(const fs::path& path) {
    path_ = path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) return not_found(path_ + ": no such labels file");
    std::string line;
    int64_t index = 0;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (index == 0 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
      size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos) continue;
      // "N:name" and "N name" give the label; a bare name gets its line's (non-blank) index.
      int64_t label = index++;
      size_t digits = start;
      while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) {
        ++digits;
      }
      if (digits > start && digits < line.size() &&
          (line[digits] == ':' || line[digits] == ' ' || line[digits] == '\t') &&
          parse_integer(line.substr(start, digits - start), &label)) {
        start = line.find_first_not_of(" \t", digits + 1);
        if (start == std::string::npos) continue;
      }
      std::string name = line.substr(start);
      while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back())))
        name.pop_back();
      // The whole name, its first word ("n01440764 tench" -> "n01440764") and the part before
      // a comma ("tench, Tinca tinca" -> "tench") all find it; the first line wins.
      names_.emplace(name, label);
      names_.emplace(name.substr(0, name.find_first_of(" \t")), label);
      names_.emplace(name.substr(0, name.find(',')), label);
    }
    return Status::ok();
  }
  bool empty() const { return path_.empty(); }
  bool find(const std::string& name, int64_t* label) const {
    auto it = names_.find(name);
    if (it == names_.end()) return false;
    *label = it->second;
    return true;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::map<std::string, int64_t> names_;
};

// A label field: an integer, or a class name in the labels file. Sets `error` otherwise.
int64_t parse_label(const std::string& text, const LabelMap& names, const std::string& origin,
                    std::string* error) {
  int64_t label = 0;
  if (parse_integer(text, &label) || names.find(text, &label)) return label;
  *error = origin + ": label '" + text + "' is not an integer" +
           (names.empty() ? "" : " nor a class name in " + names.path());
  return 0;
}

// The digits after the last '_' of the file name's stem: "cifar10_03_0.png" -> 0.
bool suffix_label(const fs::path& path, int64_t* label) {
  const std::string stem = path.stem().string();
  const size_t underscore = stem.rfind('_');
  return underscore != std::string::npos && parse_integer(stem.substr(underscore + 1), label) &&
         *label >= 0 && stem[underscore + 1] != '+';
}

// A list file in `directory`: a .csv/.txt whose first data line names an image in it.
fs::path find_list_file(const fs::path& directory, const std::string& labels_file) {
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(directory, ec)) {
    const std::string extension = item.path().extension().string();
    if ((extension == ".csv" || extension == ".txt") && item.is_regular_file(ec) &&
        (labels_file.empty() || !fs::equivalent(item.path(), labels_file, ec))) {
      candidates.push_back(item.path());
    }
  }
  std::sort(candidates.begin(), candidates.end());
  for (const fs::path& candidate : candidates) {
    Expected<std::vector<TextRow>> rows =
        read_table(candidate, guess_delimiter(first_line_of(candidate)));
    if (!rows) continue;
    for (size_t r = 0; r < std::min<size_t>(rows->size(), 2); ++r) {
      const std::vector<std::string>& fields = (*rows)[r].fields;
      if (fields.size() >= 2 && has_image_extension(fields[0]) &&
          fs::is_regular_file(directory / fields[0], ec)) {
        return candidate;
      }
    }
  }
  return fs::path();
}

Expected<std::vector<FileEntry>> list_entries(const fs::path& list, const fs::path& directory,
                                              const LabelMap& names) {
  NNFI_ASSIGN_OR_RETURN(std::vector<TextRow> rows,
                        read_table(list, guess_delimiter(first_line_of(list))));
  std::vector<FileEntry> entries;
  for (size_t r = 0; r < rows.size(); ++r) {
    const TextRow& row = rows[r];
    FileEntry e;
    e.origin = list.string() + " line " + std::to_string(row.line);
    int64_t unused = 0;
    // A first line whose label is neither a number nor a class name is a header.
    if (r == 0 && row.fields.size() >= 2 && !parse_integer(row.fields[1], &unused) &&
        !names.find(row.fields[1], &unused)) {
      continue;
    }
    if (row.fields.size() != 2) {
      e.error =
          e.origin + ": " + std::to_string(row.fields.size()) + " fields, expected 2 (file, label)";
    } else {
      e.image = directory / row.fields[0];
      e.label = parse_label(row.fields[1], names, e.origin, &e.error);
      if (e.error.empty()) e.error = missing_file_error(e.image, e.origin);
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace

Expected<std::unique_ptr<ImageSource>> open_folder_source(const fs::path& directory,
                                                          const DatasetOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return not_found(directory.string() + ": no such directory (folder:DIR)");
  }
  LabelMap names;
  std::vector<fs::path> metadata;
  if (!options.labels_file.empty()) {
    NNFI_RETURN_IF_ERROR(names.load(options.labels_file));
    metadata.emplace_back(options.labels_file);
  }
  LabelSource mode = options.label_from;
  fs::path list;
  if (!options.list_file.empty()) {
    list = options.list_file;
    if (list.is_relative() && !fs::exists(list, ec)) list = directory / list;
    if (mode == LabelSource::kAuto) mode = LabelSource::kListFile;
  }
  const std::vector<fs::path> folders = subfolders(directory);
  if (mode == LabelSource::kAuto) {
    for (const fs::path& folder : folders) {
      if (!image_files(folder, true).empty()) {
        mode = LabelSource::kSubfolder;
        break;
      }
    }
  }
  if (mode == LabelSource::kAuto || (mode == LabelSource::kListFile && list.empty())) {
    list = find_list_file(directory, options.labels_file);
    if (mode == LabelSource::kListFile && list.empty()) {
      return not_found(directory.string() +
                       ": no list file (expected a .csv or .txt of 'file,label' lines; name it "
                       "with --list)");
    }
    mode = list.empty() ? LabelSource::kFilenameSuffix : LabelSource::kListFile;
  }

  std::vector<FileEntry> entries;
  if (mode == LabelSource::kSubfolder) {
    int64_t index = 0;
    for (const fs::path& folder : folders) {
      FileEntry e;
      const std::string name = folder.filename().string();
      e.label = index++;
      if (!names.empty() && !names.find(name, &e.label)) {
        e.error = folder.string() + ": class folder '" + name + "' is not named in " + names.path();
      }
      for (const fs::path& image : image_files(folder, true)) {
        e.image = image;
        entries.push_back(e);
      }
    }
  } else if (mode == LabelSource::kListFile) {
    NNFI_ASSIGN_OR_RETURN(entries, list_entries(list, directory, names));
    metadata.push_back(list);
  } else {
    for (const fs::path& image : image_files(directory, false)) {
      FileEntry e;
      e.image = image;
      if (!suffix_label(image, &e.label)) {
        e.error = image.string() +
                  ": the file name has no label suffix (expected NAME_LABEL.ext, e.g. "
                  "cat_3.png); for other layouts use class subfolders or a list file";
      }
      entries.push_back(std::move(e));
    }
  }
  if (entries.empty()) {
    return invalid_argument(directory.string() +
                            ": no images found (expected .jpg, .jpeg, .png, .ppm, .pgm, .pnm "
                            "or .bmp files, in class subfolders or listed in a list file)");
  }
  return make_file_source("folder", directory.string(), std::move(entries), std::move(metadata),
                          false);
}

}  // namespace nnfi::data
