#include "voxseg/training/Dataset.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"
#include "voxseg/core/NnUNetLabels.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace voxseg::training {

RawDataset readRawDataset(const std::string& folder) {
  RawDataset d;
  d.folder = folder;
  const fs::path root(folder);
  const std::string jsonPath = (root / "dataset.json").string();
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw inputError(folder, fs::exists(root, ec)
                                 ? "not a folder: a dataset is a folder with dataset.json, imagesTr/ and "
                                   "labelsTr/"
                                 : "no such dataset folder");
  std::ifstream in(jsonPath);
  if (!in) throw inputError(jsonPath, "missing: an nnU-Net raw dataset has dataset.json, imagesTr/ and labelsTr/");
  const auto j = nlohmann::ordered_json::parse(in, nullptr, false); // the labels' order matters for regions
  if (j.is_discarded() || !j.is_object()) throw inputError(jsonPath, "not valid JSON");
  using Json = nlohmann::ordered_json;
  const auto need = [&](const char* key, bool (Json::*is)() const noexcept, const char* what) {
    if (!j.contains(key) || !(j[key].*is)())
      throw inputError(jsonPath, std::string("needs \"") + key + "\" (" + what + ")");
    return j[key];
  };
  const auto channels = need("channel_names", &Json::is_object, "an object: index -> name");
  need("labels", &Json::is_object, "an object: name -> value");
  d.fileEnding = need("file_ending", &Json::is_string, "e.g. \".nii.gz\"").get<std::string>();
  const int numTraining = need("numTraining", &Json::is_number_integer, "an integer").get<int>();
  d.name = j.value("name", root.filename().string());
  for (std::size_t c = 0; c < channels.size(); ++c) {
    const std::string key = std::to_string(c);
    if (!channels.contains(key) || !channels[key].is_string())
      throw inputError(jsonPath, "channel_names must map \"0\".." + std::to_string(channels.size() - 1) + " to names");
    d.channelNames.push_back(channels[key].get<std::string>());
  }
  if (d.channelNames.empty()) throw inputError(jsonPath, "channel_names is empty");
  const NnUNetLabels parsed = readNnUNetLabels(j, jsonPath, 255, ExitCode::Input, "training holds labels in bytes");
  const bool regionBased = parsed.regionBased(); // nnU-Net's rule: an entry lists more than one label
  d.listedEntries = parsed.entries;
  std::set<int> values;
  std::map<int, std::string> nameOf;
  std::map<std::vector<int>, std::string> regionOf;
  for (const NnUNetLabelEntry& e : parsed.entries) {
    const std::string& name = e.name;
    std::vector<int> entry = e.values;
    std::sort(entry.begin(), entry.end());
    if (std::adjacent_find(entry.begin(), entry.end()) != entry.end())
      throw inputError(jsonPath, "label \"" + name + "\" lists a value twice");
    d.labelEntries.emplace_back(name, entry);
    values.insert(entry.begin(), entry.end());
    if (entry.size() == 1) d.labels[name] = entry.front();
    if (!regionBased || name == "ignore") {
      // one name per value: nnU-Net would make one output per value, voxseg one per name
      if (const auto [at, fresh] = nameOf.emplace(entry.front(), name); !fresh)
        throw inputError(jsonPath, "labels \"" + at->second + "\" and \"" + name + "\" both have the value " +
                                       std::to_string(at->first));
      continue;
    }
    if (e.background()) continue;
    if (entry.front() == 0)
      throw inputError(jsonPath, "region \"" + name + "\" holds the background (0) beside labels");
    if (const auto [at, fresh] = regionOf.emplace(entry, name); !fresh)
      throw inputError(jsonPath, "regions \"" + at->second + "\" and \"" + name + "\" hold the same labels");
    d.regions.emplace_back(name, entry);
    d.regionKeys.push_back(e.key());
  }
  // nnU-Net's LabelManager refuses a dataset without it: a model trained on one would not load there
  if (const auto bg = d.labels.find("background"); bg == d.labels.end() || bg->second != 0)
    throw inputError(jsonPath, "labels need \"background\": 0 (nnU-Net's name for the background)");
  // a plain dataset's values are its outputs, 0..N; a region-based one's only make up its regions (nnU-Net allows
  // gaps there, e.g. BraTS's 1, 2, 4)
  if (values.size() < 2 || (!regionBased && *values.rbegin() != int(values.size()) - 1))
    throw inputError(jsonPath, "labels must be 0 (background), 1, ..., N without gaps");
  d.maxLabel = *values.rbegin();
  d.values.assign(values.begin(), values.end());
  // nnU-Net's ignore label (sparse annotations): its voxels are not annotated and leave the loss; readNnUNetLabels
  // checked that it is the highest value, one above the others
  if (const auto ignore = d.labels.find("ignore"); ignore != d.labels.end()) {
    if (ignore->second < 2)
      throw inputError(jsonPath, "the ignore label leaves no class to learn beside the background");
    d.ignoreLabel = ignore->second;
  }
  if (regionBased) {
    // the value each region writes at inference, in order (later regions overwrite earlier ones)
    if (!j.contains("regions_class_order") || parsed.regionsClassOrder.size() != d.regions.size())
      throw inputError(jsonPath,
                       "a region-based dataset (an entry lists several labels) needs \"regions_class_order\", "
                       "one label value per region (" +
                           std::to_string(d.regions.size()) + " regions)");
    d.regionsClassOrder = parsed.regionsClassOrder;
    for (int v : d.regionsClassOrder)
      if (!values.count(v))
        logWarning(jsonPath + ": regions_class_order writes " + std::to_string(v) +
                   ", a value none of the labels has: segmentations will hold it");
  }
  const fs::path images = root / "imagesTr", labelDir = root / "labelsTr";
  if (!fs::is_directory(labelDir)) throw inputError(labelDir.string(), "missing");
  if (!fs::is_directory(images)) throw inputError(images.string(), "missing");
  for (const auto& e : fs::directory_iterator(labelDir)) {
    const std::string name = e.path().filename().string();
    if (name.size() <= d.fileEnding.size() ||
        name.compare(name.size() - d.fileEnding.size(), d.fileEnding.size(), d.fileEnding) != 0)
      continue;
    TrainingCase c;
    c.id = name.substr(0, name.size() - d.fileEnding.size());
    c.labels = e.path().string();
    for (std::size_t ch = 0; ch < d.channelNames.size(); ++ch) {
      char suffix[32];
      std::snprintf(suffix, sizeof suffix, "_%04zu", ch);
      const fs::path img = images / (c.id + suffix + d.fileEnding);
      if (!fs::exists(img))
        throw inputError(img.string(), "missing: channel " + std::to_string(ch) + " of case " + c.id);
      c.images.push_back(img.string());
    }
    d.cases.push_back(c);
  }
  std::sort(d.cases.begin(), d.cases.end(), [](const TrainingCase& a, const TrainingCase& b) { return a.id < b.id; });
  // An image whose case has no label map would be left out silently (nnU-Net refuses such a dataset too).
  std::set<std::string> labelled;
  for (const auto& c : d.cases) labelled.insert(c.id);
  std::vector<std::string> unlabelled, extra;
  for (const auto& e : fs::directory_iterator(images)) {
    const std::string name = e.path().filename().string();
    const std::size_t suffix = 5 + d.fileEnding.size(); // "_0000" + ending
    if (name.size() <= suffix || name.compare(name.size() - d.fileEnding.size(), d.fileEnding.size(), d.fileEnding))
      continue;
    const std::string id = name.substr(0, name.size() - suffix);
    const std::string channel = name.substr(id.size(), 5);
    if (channel[0] != '_' || channel.find_first_not_of("0123456789", 1) != std::string::npos) continue;
    if (!labelled.count(id))
      unlabelled.push_back(name);
    else if (std::stoul(channel.substr(1)) >= d.channelNames.size()) // nnU-Net would not read it: a channel_names slip?
      extra.push_back(name);
  }
  if (!extra.empty()) {
    std::sort(extra.begin(), extra.end());
    throw inputError(
        (images / extra.front()).string(),
        "channel " + extra.front().substr(extra.front().size() - 4 - d.fileEnding.size(), 4) + " of a case, but " +
            jsonPath + " declares " + std::to_string(d.channelNames.size()) + " channel(s) in channel_names" +
            (extra.size() > 1 ? " (and " + std::to_string(extra.size() - 1) + " other such image(s))" : std::string()) +
            "; declare every channel, or remove the image");
  }
  if (!unlabelled.empty()) {
    std::sort(unlabelled.begin(), unlabelled.end());
    const std::string id = unlabelled.front().substr(0, unlabelled.front().size() - 5 - d.fileEnding.size());
    throw inputError((images / unlabelled.front()).string(),
                     "no label map " + (labelDir / (id + d.fileEnding)).string() + " for this image" +
                         (unlabelled.size() > 1
                              ? " (and " + std::to_string(unlabelled.size() - 1) + " other image(s) without one)"
                              : std::string()) +
                         "; every training image needs its label map");
  }
  if (d.cases.empty()) throw inputError(labelDir.string(), "no label file ending in " + d.fileEnding);
  if (numTraining != int(d.cases.size()))
    throw inputError(jsonPath, "numTraining is " + std::to_string(numTraining) + " but labelsTr holds " +
                                   std::to_string(d.cases.size()) + " cases");
  return d;
}

} // namespace voxseg::training
