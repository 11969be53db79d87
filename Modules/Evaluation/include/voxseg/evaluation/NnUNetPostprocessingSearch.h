#pragma once
// nnU-Net's determine_postprocessing (nnunetv2/postprocessing/remove_connected_components.py), number for number:
// which "keep the largest component" steps improve the mean Dice of a set of predictions, written as nnU-Net's
// postprocessing.json (what `segment --nnunet-postprocessing` and nnU-Net's apply step read).
//
// First the foreground (every foreground label as one mask): kept when the foreground mean Dice rises and no label's
// or region's mean Dice falls. Then, when more than one label or region is scored, each in turn on the predictions
// as far as they are post-processed: kept when its own mean Dice rises.

#include "voxseg/evaluation/NnUNetSummary.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/processing/Components.h"

#include <string>
#include <vector>

namespace voxseg::evaluation {

struct PostprocessingSearchCase {
  std::string prediction, reference; ///< label map files on one grid
};

struct PostprocessingSearchOptions {
  std::vector<std::string> keys;         ///< summary.json's key of each target
  std::vector<std::vector<int>> targets; ///< the labels (one value) or regions (as dataset.json lists them) scored
  std::vector<int> foregroundLabels;     ///< the first step's mask (nnU-Net: LabelManager.foreground_labels)
  int ignoreLabel = -1;                  ///< the references' ignore label, -1: none
  int threads = 0;                       ///< labels at once; 0: one per hardware thread
  io::ReadOptions read;                  ///< how the files are read (DICOM series choice...)
  /// Label maps held in memory between the steps (2 bytes a voxel, reference and prediction): the cases read first
  /// are held while they fit, the others read again for each step. 0: a quarter of the machine's memory.
  std::size_t cacheBytes = 0;
};

struct PostprocessingSearch {
  std::vector<processing::LargestComponentOfUnion> steps; ///< those kept, in order
  NnUNetSummary before, after;                            ///< the predictions as given; with the steps applied
  std::vector<std::string> log; ///< each step tried, with the Dice before and after (nnU-Net prints the same)
  std::string json;             ///< postprocessing.json's text, as nnU-Net writes it
  /// postprocessing.pkl's bytes (what nnUNetv2_apply_postprocessing -pp_pkl_file and the inference instructions of
  /// nnUNetv2_find_best_configuration read): the tuple (functions, kwargs) of save_pickle, pickle protocol 2, the
  /// function referenced as nnunetv2.postprocessing.remove_connected_components's; the foreground as a list of
  /// labels, a region as a tuple, a label as a number, as nnU-Net pickles them (its labels are numpy integers there,
  /// plain integers here: the same in nnU-Net's use of them).
  std::string pickle;
  std::size_t casesHeld = 0;    ///< cases held in memory between the steps (the others were read for each)
};

/// Runs the search over `cases` (nnU-Net's case order: by prediction file name). Reads every case once, and again for
/// each step tried when it does not fit in `cacheBytes` (nnU-Net writes and reads every post-processed case again).
/// Throws Error(Input) naming a file that cannot be read or a prediction not on its reference's grid.
PostprocessingSearch determineNnUNetPostprocessing(const std::vector<PostprocessingSearchCase>& cases,
                                                   const PostprocessingSearchOptions& options);

} // namespace voxseg::evaluation
