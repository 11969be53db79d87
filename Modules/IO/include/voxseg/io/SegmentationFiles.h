#pragma once
// Segmentation files for viewers: 3D Slicer segmentations (.seg.nrrd) and color tables for
// label maps (Slicer .ctbl and .csv, ITK-SNAP label descriptions .txt/.label).
// Documentation/io-and-geometry.md, "Segmentation files for viewers".

#include "voxseg/core/ModelCard.h"
#include "voxseg/io/VolumeIO.h"

#include <string>
#include <vector>

namespace voxseg::io {

/// True for a 3D Slicer segmentation's name (".seg.nrrd"), which writeSegNrrd requires.
bool isSegNrrdPath(const std::string& path);

/// Checks, before any work, that `labels` can be stored in the file `path` names: for a .seg.nrrd or a
/// color table (.ctbl, .csv, .txt, .label) the checks writeSegNrrd and writeColorTable make (values, colors,
/// characters the format cannot hold); for a DICOM SEG or RT Structure Set (.dcm) no backslash in names and
/// codes (DICOM's value separator); nothing for other names. Throws Error(Usage) naming the path.
void checkLabelsWritable(const std::vector<LabelInfo>& labels, const std::string& path);

/// The DICOM rules of checkLabelsWritable, whatever `path`'s name: the SEG and RT Structure Set writers call it.
void checkDicomLabels(const std::vector<LabelInfo>& labels, const std::string& path);

/// Writes `labels` (an integer label map, kept in its voxel type) as a 3D Slicer segmentation:
/// one NRRD (gzip unless !options.compress) with the volume's geometry (LPS) and, for each entry of
/// `segments` except value 0, the Segment<i>_* keys Slicer 5 writes for a labelmap segmentation
/// with all segments in layer 0. The name must end in .seg.nrrd. Written atomically.
/// Throws Error(Usage) for a bad name, a non-integer volume or invalid segments (duplicate,
/// negative or out-of-range values, colors outside 0..255, codes containing '~', '^' or '|'),
/// Error(Output) when the file exists without options.overwrite or cannot be written.
void writeSegNrrd(const Volume& labels, const std::vector<LabelInfo>& segments, const std::string& path,
                  const WriteOptions& options = {});

/// The segments of a .seg.nrrd (any NRRD with Slicer's Segment<i>_* keys), read from its header
/// only: value, name, color (0..255) and the category/type codes of its terminology entry.
/// Throws Error(Input) naming the file when it is missing, not NRRD, has no segmentation keys,
/// or keeps segments in several layers (overlapping segments).
std::vector<LabelInfo> readSegNrrdSegments(const std::string& path);

/// File name endings writeColorTable accepts: ".ctbl", ".csv", ".txt", ".label".
const std::vector<std::string>& colorTableExtensions();

/// Writes a color table for `labels`, in the format the file name asks for:
///  - .ctbl: 3D Slicer color table ("value name r g b a", spaces in names become '_');
///  - .csv: 3D Slicer 5.10 CSV color table, with the category/type terminology columns;
///  - .txt, .label: ITK-SNAP label description file (label 0 is always "Clear Label").
/// Atomically; an existing file is replaced only with `overwrite`. Throws Error(Usage) for an
/// unknown extension or invalid labels, Error(Output) when it cannot write.
void writeColorTable(const std::vector<LabelInfo>& labels, const std::string& path, bool overwrite = false);

/// Slicer's serialized terminology entry for a label's category/type codes
/// ("Segmentation category and type - 3D Slicer General Anatomy list~SCT^...^...~..."), or ""
/// when the label has neither code.
std::string slicerTerminologyEntry(const LabelInfo& label);

} // namespace voxseg::io
