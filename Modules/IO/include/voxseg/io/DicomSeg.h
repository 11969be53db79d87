#pragma once
// DICOM Segmentation objects (binary SEG, DCMTK dcmseg): label map -> SEG against its source series,
// SEG -> label map on the referenced series' grid.

#include "voxseg/core/ModelCard.h"
#include "voxseg/io/Volume.h"
#include "voxseg/io/VolumeIO.h"

#include <string>
#include <vector>

namespace voxseg::io {

struct DicomSegOptions {
  std::string seriesDescription = "voxseg segmentation";
  std::string seriesNumber = "300";
  std::string contentLabel = "SEGMENTATION"; ///< DICOM CS: upper case, digits, space, underscore
  std::string contentCreator;                ///< person name, may be empty
  std::string algorithmName = "voxseg";
  std::string algorithmVersion; ///< default: voxseg's version
  std::string seriesUid;        ///< source series when its folder holds several
};

/// Writes `labels` (a label map on the grid of a DICOM series in `sourceFolder`) as a binary DICOM
/// SEG: one segment per non-zero label present (numbers 1..N in label order), 1-bit frames, one frame
/// per segment and slice, empty frames skipped; patient, study and frame of reference copied from the
/// source; per frame the source image it derives from; ReferencedSeriesSequence; per segment label,
/// category/type codes (the label's, else SCT 85756007 "Tissue"), algorithm AUTOMATIC with name,
/// version and family, recommended display CIELab from the color. Throws Error(Input) when the label
/// map is not on the series' grid, Error(Usage) when no label is present, Error(Output) for the file.
void writeDicomSeg(const Volume& labels, const std::vector<LabelInfo>& known, const std::string& sourceFolder,
                   const std::string& path, const DicomSegOptions& options, bool overwrite);

/// Checks, before any work, that a label map on `image`'s grid can be written as a DICOM SEG or RT Structure
/// Set of the series in `sourceFolder` (`seriesUid` when it holds several): one source image per slice, the
/// same rows, columns and in-plane orientation. Throws Error(Input) as writeDicomSeg would, naming the image;
/// `what` names the object in the message ("DICOM SEG", "RT Structure Set"). When any of `ownText` (label and
/// model names the object will hold) is not ASCII, checks it as checkSourceText does. `offSlicesHint` ends the
/// message when a slice matches no source image (e.g. why the caller's grid differs from the series' slices).
/// Returns the source file the writers copy text from (for checkSourceText).
std::string checkOnSeriesGrid(const Volume& image, const std::string& sourceFolder, const std::string& seriesUid,
                              const std::string& what, const std::vector<std::string>& ownText = {},
                              const std::string& offSlicesHint = {});

/// True when every byte of `text` is 7-bit ASCII (DICOM's default repertoire).
bool isAscii(const std::string& text);

/// When any of `ownText` is not ASCII the object becomes UTF-8, and the text copied from `sourceFile` must convert:
/// Error(Input) naming the file if it cannot. Reads one header; nothing when all of `ownText` is ASCII.
void checkSourceText(const std::string& sourceFile, const std::vector<std::string>& ownText, const std::string& what);

struct DicomSegContent {
  Volume labels;                     ///< uint16 label map: voxel = segment's label value
  std::vector<LabelInfo> segments;   ///< value = segment number; name, color, codes from the SEG
  std::vector<Volume> masks;         ///< one uint8 mask per segment when segments overlap, else empty
  std::vector<std::string> overlaps; ///< "segment 1 and 2: 120 voxels" per overlapping pair
  std::string referencedSeriesUid;
  std::string frameOfReferenceUid;
};

/// Reads a binary (or fractional, thresholded at half) SEG. With `referenceFolder` the label map lies
/// on the referenced series' grid (found there by its Series Instance UID); without it, on the grid
/// the SEG's frames span (its plane orientation, pixel spacing and positions). `options`: the reference series'
/// reading (--nonuniform), and the voxel limit, which the grid the frames span must keep too. Throws Error(Input)
/// naming the file for anything else than a readable SEG whose frames fit that grid (pixel spacing included).
/// Memory: the label map, plus the SEG's own frames unpacked (and one mask per segment when segments overlap).
DicomSegContent readDicomSeg(const std::string& path, const std::string& referenceFolder = "",
                             const ReadOptions& options = {});

/// True when the file is a DICOM Segmentation Storage object (SOP class 1.2.840.10008.5.1.4.1.1.66.4).
bool isDicomSegFile(const std::string& path);

} // namespace voxseg::io
