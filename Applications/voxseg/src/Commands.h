#pragma once
// voxseg subcommands as functions: main.cxx parses the command line into these structs, and
// tests call the functions directly. Each returns a process exit code or throws voxseg::Error.

#include "voxseg/io/VolumeIO.h"

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

} // namespace voxseg::cli
