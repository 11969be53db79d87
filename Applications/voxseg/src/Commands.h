#pragma once
// voxseg subcommands as functions: main.cxx parses the command line into these structs, and
// tests call the functions directly. Each returns a process exit code or throws voxseg::Error.

#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/NnUNet.h"
#include "voxseg/pipeline/Segmenter.h"

#include <iosfwd>
#include <string>

namespace voxseg::cli {

struct InfoArgs {
  std::string input;
  bool json = false;
  io::ReadOptions read;
};
int runInfo(const InfoArgs& args, std::ostream& out);

struct ConvertArgs {
  std::string input;
  std::string output;
  std::string orient; ///< empty: keep the input's index order
  bool force = false;
  io::ReadOptions read;
};
int runConvert(const ConvertArgs& args);

struct SegmentArgs {
  std::vector<std::string> models; ///< several: an ensemble (folds), averaged in logit space
  std::string card;                ///< a card file replacing the embedded one
  std::vector<std::string> inputs;
  std::string output;
  std::string saveLogits;
  std::string saveProbabilities;
  pipeline::CardOverrides overrides;
  std::string nnunet; ///< an nnU-Net v2 trained-model folder instead of --model
  pipeline::NnUNetOptions nnunetOptions;
  pipeline::SegmenterOptions options;
  bool force = false;
  io::ReadOptions read;
};
int runSegment(const SegmentArgs& args);

struct ModelPackArgs {
  std::string network;
  std::string card;
  std::string output;
  bool force = false;
};
int runModelPack(const ModelPackArgs& args);

struct ModelInspectArgs {
  std::string model;
  bool json = false;
};
int runModelInspect(const ModelInspectArgs& args, std::ostream& out);

} // namespace voxseg::cli
