#pragma once
// Shared by the training tests: a small run's options and a file's bytes.

#include "voxseg/training/Train.h"

#include <fstream>
#include <iterator>
#include <string>

namespace voxseg::training {

/// A small CPU run on the toy dataset: 12 epochs of 8 iterations, 3 stages of 8..32 features, seed 7, one thread.
inline TrainOptions small(const std::string& dataset, const std::string& out) {
  TrainOptions o;
  o.dataset = dataset;
  o.output = out;
  o.epochs = 12;
  o.iterationsPerEpoch = 8;
  o.batch = 2;
  o.baseFeatures = 8;
  o.maxFeatures = 32;
  o.maxStages = 3;
  o.validateEvery = 4;
  o.checkpointEvery = 4;
  o.threads = 1;
  o.seed = 7;
  o.device = "cpu";
  return o;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

} // namespace voxseg::training
