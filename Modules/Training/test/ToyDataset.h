#pragma once
// A toy nnU-Net raw dataset for the training tests: one MR-like channel, a bright ball (label 1) and a
// darker box (label 2) on noise, 20 x 28 x 28 voxels, shifted a little from case to case. Sparse: only every
// third slice (z) annotated, the others nnU-Net's ignore label 3. Regions: the same label maps in a region-based
// dataset.json, regions "anything" (1, 2) and "ball" (1), written as 2 then 1 (so the labels come back as 1 and 2).

#include "voxseg/io/VolumeIO.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace voxseg::training {

enum class ToyLabels { Dense, Sparse, Regions };

// Case k: a bright ball (label 1) and a darker box (label 2) on noise, 20 x 28 x 28 voxels.
inline void writeToyCase(const std::string& folder, int k, bool sparse = false) {
  Geometry g;
  g.size = {28, 28, 20};
  g.spacing = {1.5, 1.5, 2.0};
  io::Volume image = io::makeVolume(PixelType::Float32, g), labels = io::makeVolume(PixelType::UInt8, g);
  float* p = image.as<float>()->GetBufferPointer();
  std::uint8_t* l = labels.as<std::uint8_t>()->GetBufferPointer();
  std::mt19937 rng(100 + k);
  std::normal_distribution<float> noise(0.f, 0.3f);
  const double cx = 9 + k, cy = 14, cz = 10 - k % 2;
  for (std::size_t z = 0; z < 20; ++z)
    for (std::size_t y = 0; y < 28; ++y)
      for (std::size_t x = 0; x < 28; ++x) {
        const std::size_t i = (z * 28 + y) * 28 + x;
        std::uint8_t v = 0;
        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) + 2.0 * (z - cz) * (z - cz) < 30) v = 1;
        if (x >= 18 && x <= 23 && y >= 6 + std::size_t(k) && y <= 12 + std::size_t(k) && z >= 6 && z <= 13) v = 2;
        l[i] = sparse && z % 3 != 0 ? 3 : v;
        p[i] = 1.0f + (v == 1 ? 3.0f : v == 2 ? 1.5f : 0.0f) + noise(rng);
      }
  char name[32];
  std::snprintf(name, sizeof name, "case%02d", k);
  io::WriteOptions w;
  io::writeVolume(image, folder + "/imagesTr/" + name + "_0000.nii.gz", w);
  io::writeVolume(labels, folder + "/labelsTr/" + std::string(name) + ".nii.gz", w);
}

inline std::string makeToyDataset(const std::string& root, int cases, ToyLabels kind = ToyLabels::Dense) {
  std::filesystem::create_directories(root + "/imagesTr");
  std::filesystem::create_directories(root + "/labelsTr");
  for (int k = 0; k < cases; ++k) writeToyCase(root, k, kind == ToyLabels::Sparse);
  std::ofstream(root + "/dataset.json")
      << R"({"channel_names": {"0": "MR"}, "labels": )"
      << (kind == ToyLabels::Regions
              ? R"({"background": 0, "anything": [2, 1], "ball": [1]}, "regions_class_order": [2, 1])"
          : kind == ToyLabels::Sparse ? R"({"background": 0, "ball": 1, "box": 2, "ignore": 3})"
                                      : R"({"background": 0, "ball": 1, "box": 2})")
      << R"(,
    "numTraining": )"
      << cases << R"(, "file_ending": ".nii.gz", "name": "Dataset001_Toy"})";
  return root;
}

} // namespace voxseg::training
