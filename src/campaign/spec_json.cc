// A campaign as it was run (file plus command-line overrides) in JSON, stored
// in results.sqlite so that `nnfi replay` and `nnfi report` rebuild exactly
// the same model, data set and settings.
#include <nlohmann/json.hpp>

#include "nnfi/campaign.h"

namespace nnfi {

std::string campaign_spec_to_json(const CampaignSpec& spec) {
  const DatasetOptions& data = spec.data;
  const Preprocessing& pre = data.preprocessing;
  nlohmann::json preprocessing = {{"resize_height", pre.resize_height},
                                  {"resize_width", pre.resize_width},
                                  {"resize_method", static_cast<int>(pre.resize_method)},
                                  {"central_crop", pre.central_crop},
                                  {"scale", pre.scale},
                                  {"mean", pre.mean},
                                  {"std", pre.std},
                                  {"bgr", pre.bgr},
                                  {"grayscale", pre.grayscale},
                                  {"layout", static_cast<int>(pre.layout)},
                                  {"preset", pre.preset}};
  nlohmann::json json = {{"source", spec.source.string()},
                         {"text", spec.text},
                         {"model", spec.model.string()},
                         {"feed", spec.feed},
                         {"fetch", spec.fetch},
                         {"data_given", spec.data_given},
                         {"data",
                          {{"spec", data.spec},
                           {"preprocessing", preprocessing},
                           {"offset", data.offset},
                           {"limit", data.limit},
                           {"sample", data.sample},
                           {"sample_seed", data.sample_seed},
                           {"label_offset", data.label_offset},
                           {"num_classes", data.num_classes},
                           {"roi_crop", data.roi_crop},
                           {"on_error", static_cast<int>(data.on_error)},
                           {"label_from", static_cast<int>(data.label_from)},
                           {"list_file", data.list_file},
                           {"labels_file", data.labels_file}}}};
  return json.dump();
}

Expected<CampaignSpec> campaign_spec_from_json(const std::string& text) {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return invalid_argument("the stored campaign is not valid JSON (was results.sqlite edited?)");
  }
  try {
    NNFI_ASSIGN_OR_RETURN(CampaignSpec spec, parse_campaign(json.at("text").get<std::string>(),
                                                            json.at("source").get<std::string>()));
    spec.model = json.at("model").get<std::string>();
    spec.feed = json.at("feed").get<std::string>();
    spec.fetch = json.at("fetch").get<std::string>();
    spec.data_given = json.at("data_given").get<bool>();
    const nlohmann::json& data = json.at("data");
    const nlohmann::json& pre = data.at("preprocessing");
    DatasetOptions& options = spec.data;
    options.spec = data.at("spec").get<std::string>();
    options.preprocessing.resize_height = pre.at("resize_height").get<int64_t>();
    options.preprocessing.resize_width = pre.at("resize_width").get<int64_t>();
    options.preprocessing.resize_method =
        static_cast<ResizeMethod>(pre.at("resize_method").get<int>());
    options.preprocessing.central_crop = pre.at("central_crop").get<double>();
    options.preprocessing.scale = pre.at("scale").get<double>();
    options.preprocessing.mean = pre.at("mean").get<std::vector<double>>();
    options.preprocessing.std = pre.at("std").get<std::vector<double>>();
    options.preprocessing.bgr = pre.at("bgr").get<bool>();
    options.preprocessing.grayscale = pre.at("grayscale").get<bool>();
    options.preprocessing.layout = static_cast<DataLayout>(pre.at("layout").get<int>());
    options.preprocessing.preset = pre.at("preset").get<std::string>();
    options.offset = data.at("offset").get<int64_t>();
    options.limit = data.at("limit").get<int64_t>();
    options.sample = data.at("sample").get<int64_t>();
    options.sample_seed = data.at("sample_seed").get<uint64_t>();
    options.label_offset = data.at("label_offset").get<int64_t>();
    options.num_classes = data.at("num_classes").get<int64_t>();
    options.roi_crop = data.at("roi_crop").get<bool>();
    options.on_error = static_cast<OnError>(data.at("on_error").get<int>());
    options.label_from = static_cast<LabelSource>(data.at("label_from").get<int>());
    options.list_file = data.at("list_file").get<std::string>();
    options.labels_file = data.at("labels_file").get<std::string>();
    return spec;
  } catch (const nlohmann::json::exception& error) {
    return invalid_argument(std::string("the stored campaign is incomplete: ") + error.what());
  }
}

}  // namespace nnfi
