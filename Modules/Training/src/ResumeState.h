#pragma once
// A run's resume point (<model>/training/, or training/fold_K/): the network's and the optimizer's state, and
// state.json (epoch, history, random state, what the run was started with), which names the two state files.
//
// A checkpoint writes network-<epoch>.pt and optimizer-<epoch>.pt, each under a temporary name renamed when
// complete, then state.json the same way, then removes the state files state.json no longer names. An interrupt or
// a failed write at any point leaves state.json naming a complete pair of the same epoch (until 2026-11-29 the two
// files were written in place as network.pt and optimizer.pt: a Ctrl-C while saving could leave a broken file, or
// one epoch's network beside the previous epoch's state.json). Runs written that way still resume.

#include "UNet.h"

#include <nlohmann/json.hpp>
#include <torch/optim/optimizer.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace voxseg::training {

/// Parses `folder`/state.json. Throws Error(Input) naming it when it is missing, not JSON, or lacks a field a resume
/// needs (epoch, losses, validation, rng).
nlohmann::json readResumeState(const std::filesystem::path& folder);

/// state.json's "losses" and "validation" (epoch, Dice per label): a NaN (a label absent from the validation
/// patches) is written as null and read back as NaN (it was refused: such a run could not be resumed).
std::vector<double> resumedLosses(const nlohmann::json& state);
std::vector<std::pair<int, std::vector<double>>> resumedValidation(const nlohmann::json& state);

/// Loads the network and optimizer state that `state` (readResumeState's) names. Throws Error(Input) naming a file
/// that is missing or not a readable LibTorch archive, and Error(Usage) when the run was started with another
/// optimizer than `optimizerName` (state.json keeps it since 2026-11-29).
void loadResumePoint(const std::filesystem::path& folder, const nlohmann::json& state, UNet& net,
                     torch::optim::Optimizer& optimizer, const std::string& optimizerName);

/// Writes the checkpoint after `epoch`: the two state files, then `state` (with their names, the epoch and
/// `optimizerName` added) as state.json; then removes the earlier state files. Throws Error(Output) naming the file
/// that cannot be written (the former resume point stays usable).
void saveResumePoint(const std::filesystem::path& folder, int epoch, UNet& net, torch::optim::Optimizer& optimizer,
                     const std::string& optimizerName, nlohmann::json state);

} // namespace voxseg::training
