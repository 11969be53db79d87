#pragma once
// Integrity checks that ITK's readers do not make: its NIfTI and MetaImage readers silently
// zero-fill truncated voxel data, and NIfTI turns zero-size dimensions into 1.

#include "NiftiNonFinite.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace voxseg::io::detail {

/// Suffix test, case-sensitive: ITK's MetaImage IO accepts lower-case extensions only, nifticlib lower or upper
/// case but not mixed (isNiftiPath), and NRRD is known by its content.
bool endsWith(const std::string& s, const std::string& suffix);

/// True for .nii and .nii.gz names, and .NII and .NII.GZ, which nifticlib reads too (mixed case it refuses).
bool isNiftiPath(const std::string& path);

/// The first 348 bytes of a NIfTI-1 file (plain or gzip) and whether they are in the other byte order (`swap`).
/// Unopened: the file cannot be opened; Other: short, or not NIfTI-1 (other checks say what).
enum class NiftiOneHeader { Read, Unopened, Other };
NiftiOneHeader readNiftiOneHeader(const std::string& path, std::array<unsigned char, 348>& hdr, bool& swap);

/// Checks the header's dimensions (each >= 1) and that the (decompressed) file holds
/// vox_offset + dim[1] * ... * dim[dim[0]] * bitpix / 8 bytes. Throws Error(Input) naming the file.
/// An uncompressed file is judged by its size. A compressed one is inflated once, to its end (the gzip
/// check sum), unless `inflateData` is false: then only its header is checked.
/// Call it after the header passed the voxel-count limit. Returns the NaN and infinite voxels of a float payload read
/// to its end (count 0 otherwise), and where they are: an uncompressed float file is read for that too.
NonFinitePayload checkNiftiFile(const std::string& path, bool inflateData = true);

/// An origin farther than this (mm, 1000 km) from the world's origin is a corrupt header.
constexpr double kMaxOriginMm = 1e9;

/// Reads `path`'s NIfTI-1 header (nothing for other files) and refuses geometry fields that ITK's reader
/// cannot take: a non-finite pixdim[1..3], quatern/qoffset when qform_code > 0 or srow when sform_code > 0
/// (NaN there aborts the process inside ITK's direction computation; an offset beyond kMaxOriginMm gives a
/// misleading ITK error), a spacing of 0 or less when neither qform nor sform is set (nifticlib would
/// read it as 1 mm), and a negative spacing whatever the forms (ITK fails on it in two different ways). Errors name
/// `name`. Returns false when neither qform_code nor sform_code is set (the file does not place itself in the world).
bool checkNiftiGeometryFields(const std::string& path, const std::string& name);

/// The NRRD header fields that ITK 5.2 reads wrongly or ignores, lower case and trimmed.
struct NrrdSpace {
  std::string space;              ///< the "space" field ("" when absent)
  std::vector<std::string> units; ///< the "space units" field, one per axis (quotes removed)
};

/// For a NIfTI-1 file with an sform and no qform whose sform axis lengths differ from pixdim[1..3], or that is in
/// metres or micrometres: why ITK 5.2 refuses it (it calls such a file "not orthonormal"); "" otherwise. For the
/// message of ITK's refusal.
std::string niftiSformAgainstPixdim(const std::string& path);

/// For a file that starts with NRRD's magic: refuses header lines that ITK 5.2's NRRD reader (teem)
/// cannot take. A field line (neither a "#" comment nor a "key:=value" pair) of 900 bytes or more
/// overflows a fixed buffer in its error path and aborts the process, so it is refused here first.
/// Refuses space units other than millimetres (ITK reads every number as mm). Returns the space fields;
/// nothing for other files. Throws Error(Input) naming the file and the line.
NrrdSpace checkNrrdHeader(const std::string& path);

/// ITK 5.2 converts a "left-anterior-superior" NRRD to LPS by negating x instead of y: the grid it reads
/// is turned 180 degrees about z. True when `space` (a NrrdSpace::space) is such a space.
bool nrrdSpaceMirroredByItk(const std::string& space);

/// True when `space` has no anatomical meaning (scanner-xyz, 3D-right-handed, 3D-left-handed and their
/// -time forms): ITK takes it as LPS.
bool nrrdSpaceWithoutAnatomy(const std::string& space);

/// True for .mha and .mhd names.
bool isMetaImagePath(const std::string& path);

/// Checks that a MetaImage's voxel data (in the .mha, or the .mhd's data file) is all there:
/// CompressedDataSize bytes when compressed, else DimSize * element size. With `inflateData`, compressed
/// data must also inflate without a zlib error to exactly DimSize * element size (one pass over it).
/// A compressed .mha without CompressedDataSize is refused (ITK 5.2 cannot find its data).
void checkMetaImageFile(const std::string& path, bool inflateData = true);

/// Checks that an attached NRRD payload is all there: raw, the sizes times the type's bytes; gzip, a stream that
/// inflates without error to exactly that. Other encodings, detached data and skips are not judged. Throws
/// Error(Input) naming the file.
void checkNrrdFile(const std::string& path);

/// After an ITK writer ran on `temp` (the temporary of `finalPath`): ITK's NIfTI and MetaImage
/// writers report a short write (disk full, a file size limit) only on the console, and its NRRD writer not at
/// all, so the written file is checked like an input (header, payload length, gzip stream). Throws Error(Output)
/// naming `finalPath`.
void checkWrittenFile(const std::string& temp, const std::string& finalPath);

} // namespace voxseg::io::detail
