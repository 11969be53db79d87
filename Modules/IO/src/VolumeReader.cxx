#include "voxseg/io/VolumeIO.h"

#include "ItkError.h"
#include "MultiFrame.h"
#include "NiftiPlacement.h"
#include "NiftiTwo.h"
#include "PayloadCheck.h"
#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"
#include "voxseg/core/Log.h"
#include "voxseg/io/DicomSeg.h"
#include "voxseg/io/DicomSeries.h"

#include <itkGDCMImageIO.h>
#include <itkImageFileReader.h>
#include <itkImageIOFactory.h>
#include <itkImageSeriesReader.h>
#include <itkNiftiImageIO.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <optional>

namespace fs = std::filesystem;

namespace voxseg::io {
namespace {

// Direction columns: unit length and pairwise orthogonal within this (cosines; 1e-4 is 0.006 degrees).
constexpr double kOrthonormalTolerance = 1e-4;
constexpr const char* kFormats = "NIfTI .nii/.nii.gz, NRRD .nrrd/.nhdr, MetaImage .mha/.mhd, DICOM";

// Voxel type read from a header. 64-bit integers are read as float64 and narrowed afterwards.
struct HeaderType {
  PixelType type = PixelType::Float32;
  bool wide = false; ///< 64-bit integers in the file
};

HeaderType headerType(const itk::ImageIOBase& io, const std::string& path) {
  using C = itk::IOComponentEnum;
  switch (io.GetComponentType()) {
  case C::UCHAR: return {PixelType::UInt8};
  case C::CHAR: return {PixelType::Int8};
  case C::USHORT: return {PixelType::UInt16};
  case C::SHORT: return {PixelType::Int16};
  case C::UINT: return {PixelType::UInt32};
  case C::INT: return {PixelType::Int32};
  case C::FLOAT: return {PixelType::Float32};
  case C::DOUBLE: return {PixelType::Float64};
  case C::LONG:
  case C::ULONG:
  case C::LONGLONG:
  case C::ULONGLONG: return {PixelType::Float64, true};
  default: break;
  }
  throw inputError(path, "unsupported voxel type '" +
                             itk::ImageIOBase::GetComponentTypeAsString(io.GetComponentType()) + "'");
}

void checkHeader(const itk::ImageIOBase& io, const std::string& path, const ReadOptions& options) {
  const unsigned dims = io.GetNumberOfDimensions();
  std::string shape;
  std::uint64_t voxels = 1;
  bool zero = false;
  for (unsigned i = 0; i < dims; ++i) {
    shape += (i ? "x" : "") + std::to_string(io.GetDimensions(i));
    zero = zero || io.GetDimensions(i) == 0;
    const std::uint64_t d = io.GetDimensions(i);
    voxels = (d != 0 && voxels > std::numeric_limits<std::uint64_t>::max() / d)
                 ? std::numeric_limits<std::uint64_t>::max()
                 : voxels * d;
  }
  if (dims < 3) throw inputError(path, std::to_string(dims) + "D image (" + shape + "); voxseg needs a 3D volume");
  for (unsigned i = 3; i < dims; ++i)
    if (io.GetDimensions(i) > 1)
      throw inputError(path, std::to_string(dims) + "D image (" + shape + ", " + std::to_string(io.GetDimensions(i)) +
                                 " volumes); voxseg needs a 3D volume");
  if (zero) throw inputError(path, "header gives a zero-size dimension (" + shape + ")");
  if (io.GetNumberOfComponents() != 1)
    throw inputError(path, std::to_string(io.GetNumberOfComponents()) +
                               " components per voxel (RGB or vector image); voxseg needs scalar volumes");
  if (voxels > options.maxVoxels)
    throw inputError(path, "header claims " + shape + " = " + std::to_string(voxels) +
                               " voxels, more than the limit of " + std::to_string(options.maxVoxels) +
                               " (corrupt header, or raise the limit)");
  const bool dicom = dynamic_cast<const itk::GDCMImageIO*>(&io) != nullptr;
  for (unsigned i = 0; i < 3; ++i) {
    // GDCM gives a negative slice spacing for multi-frame files whose frames run against the
    // normal; readFile turns that into a positive spacing and a reversed direction column.
    const double s = (dicom && i == 2) ? std::fabs(io.GetSpacing(i)) : io.GetSpacing(i);
    if (!std::isfinite(s) || s <= 0)
      throw inputError(path, "invalid voxel spacing " + std::to_string(s) + " along axis " + std::to_string(i));
    if (!std::isfinite(io.GetOrigin(i))) throw inputError(path, "non-finite origin in header");
    if (std::fabs(io.GetOrigin(i)) > detail::kMaxOriginMm)
      throw inputError(path, "origin " + std::to_string(io.GetOrigin(i)) + " mm along axis " + std::to_string(i) +
                                 " is beyond 1000 km (corrupt header?)");
  }
  // NRRD and MetaImage take any direction matrix; NIfTI (ITK refuses it), the resampling and every writer
  // assume orthonormal axes, so a sheared grid would come out with another direction. DICOM's is built
  // from ImageOrientationPatient (checked there).
  if (dicom) return;
  const auto column = [&](unsigned c) { return io.GetDirection(c); };
  for (unsigned a = 0; a < 3; ++a) {
    double norm = 0;
    for (unsigned r = 0; r < 3; ++r) norm += column(a)[r] * column(a)[r];
    if (!std::isfinite(norm) || std::fabs(std::sqrt(norm) - 1.0) > kOrthonormalTolerance)
      throw inputError(path, "direction of axis " + std::to_string(a) + " is not a unit vector (length " +
                                 std::to_string(std::sqrt(norm)) + ")");
    for (unsigned b = a + 1; b < 3; ++b) {
      double dot = 0;
      for (unsigned r = 0; r < 3; ++r) dot += column(a)[r] * column(b)[r];
      if (std::fabs(dot) > kOrthonormalTolerance)
        throw inputError(path, "sheared grid: axes " + std::to_string(a) + " and " + std::to_string(b) + " are " +
                                   std::to_string(std::acos(std::clamp(dot, -1.0, 1.0)) * 180.0 / M_PI) +
                                   " degrees apart; voxseg needs orthogonal axes (resample the volume first)");
    }
  }
}

template <typename T> itk::ImageBase<3>::Pointer readTyped(itk::ImageIOBase* io, const std::string& path) {
  using ImageType = itk::Image<T, 3>;
  auto reader = itk::ImageFileReader<ImageType>::New();
  reader->SetImageIO(io);
  reader->SetFileName(path);
  reader->Update();
  typename ImageType::Pointer out = reader->GetOutput();
  out->DisconnectPipeline();
  return out.GetPointer();
}

// 64-bit integer files: read as float64, stored as int32 when every value fits.
void narrowWide(Volume& v) {
  auto src = v.as<double>();
  const double* p = src->GetBufferPointer();
  const std::size_t n = v.geometry().voxelCount();
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] != std::floor(p[i]) || p[i] < std::numeric_limits<std::int32_t>::min() ||
        p[i] > std::numeric_limits<std::int32_t>::max())
      throw inputError(v.source, "64-bit integer voxels outside the int32 range are not supported");
  Volume out = makeVolume(PixelType::Int32, v.geometry());
  std::int32_t* d = out.as<std::int32_t>()->GetBufferPointer();
  for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<std::int32_t>(p[i]);
  v.image = out.image;
  v.pixelType = PixelType::Int32;
  v.warnings.push_back("64-bit integer voxels stored as int32 (all values fit)");
}

// The payload checks of compressed NIfTI and MetaImage files inflate the whole file, as ITK's reader does
// again: they run on a thread of their own beside ITK's read (or NIfTI-2's copy). Their error wins: a
// corrupt or truncated payload explains a failing read better than ITK's words.
class PayloadCheck {
public:
  PayloadCheck() = default;
  PayloadCheck(const PayloadCheck&) = delete;
  PayloadCheck& operator=(const PayloadCheck&) = delete;
  ~PayloadCheck() {
    if (check_.valid()) check_.wait(); // an earlier error is on its way: this one is dropped
  }
  void start(const std::string& path) {
    const bool nifti = detail::isNiftiPath(path), meta = detail::isMetaImagePath(path);
    if (!nifti && !meta) return;
    // The header part first, here: the voxel-count limit and the header's own fields come before any read.
    check(path, nifti, false);
    check_ = std::async(std::launch::async, [path, nifti] { return check(path, nifti, true); });
  }
  /// The NaN and infinite voxels of a float NIfTI payload (count 0 for other files).
  detail::NonFinitePayload finish() { return check_.valid() ? check_.get() : detail::NonFinitePayload{}; }

private:
  static detail::NonFinitePayload check(const std::string& path, bool nifti, bool inflate) {
    try {
      if (nifti) return detail::checkNiftiFile(path, inflate);
      detail::checkMetaImageFile(path, inflate);
      return {};
    } catch (const std::logic_error&) { // std::stoull on a malformed number
      throw inputError(path, "malformed header field");
    }
  }
  std::future<detail::NonFinitePayload> check_;
};

// What a DICOM SEG becomes: the label map of its segments (readVolume), or an error (readImage: it is no image).
enum class SegRead { LabelMap, Refused };

// A DICOM SEG is a label map: its segments decoded on the grid its frames span (as `convert seg.dcm` does), not
// its 1-bit frames read as a 0/255 image.
Volume dicomSegLabels(const std::string& path, const ReadOptions& options) {
  DicomSegContent seg = readDicomSeg(path, "", options);
  if (!seg.overlaps.empty())
    throw inputError(path, "a DICOM SEG whose segments overlap (" + seg.overlaps.front() +
                               "): a label map holds one label per voxel ('voxseg convert' writes one mask per "
                               "segment beside it)");
  std::string names;
  for (const auto& l : seg.segments) names += (names.empty() ? "" : ", ") + std::to_string(l.value) + " " + l.name;
  logInfo(path + ": a DICOM SEG, read as the label map of its segments (" + names + ")");
  seg.labels.source = path;
  return std::move(seg.labels);
}

void placeFrames(Volume& v, const std::string& path, const ReadOptions& options); // below

Volume readFile(const std::string& path, const ReadOptions& options, SegRead seg) {
  std::error_code ec;
  if (fs::file_size(path, ec) == 0 && !ec) throw inputError(path, "empty file");
  if (std::ifstream probe(path, std::ios::binary); !probe) // not "unknown format or corrupt" (a cluster's ACLs)
    throw inputError(path, std::string("cannot open it: ") + std::strerror(errno));
  const detail::NrrdSpace nrrd = detail::checkNrrdHeader(path);
  PayloadCheck payload;
  // ITK 5.2 reads NIfTI-1 only: a NIfTI-2 file is read through a NIfTI-1 copy.
  std::optional<detail::NiftiTwoAsOne> niftiTwo;
  if (detail::isNiftiPath(path) && detail::isNiftiTwo(path)) {
    if (const std::uint64_t voxels = detail::niftiTwoVoxelCount(path); voxels > options.maxVoxels)
      throw inputError(path, "NIfTI-2 header claims " + std::to_string(voxels) + " voxels, more than the limit of " +
                                 std::to_string(options.maxVoxels) + " (corrupt header, or raise the limit)");
    payload.start(path);
    try {
      niftiTwo.emplace(path);
    } catch (const Error&) {
      payload.finish();
      throw;
    }
  }
  std::optional<detail::NiftiAlias> alias; // X.nii.gz beside an X.nii: ITK would read the X.nii
  if (!niftiTwo && detail::niftiHasUncompressedTwin(path)) alias.emplace(path);
  const std::string itkPath = niftiTwo ? niftiTwo->path() : alias ? alias->path() : path;
  itk::ImageIOBase::Pointer io = itk::ImageIOFactory::CreateImageIO(itkPath.c_str(), itk::IOFileModeEnum::ReadMode);
  if (!io)
    throw inputError(path, std::string("not a readable image: unknown format or corrupt header (readable: ") +
                               kFormats + ")");
  // ITK's NIfTI reader also takes .hdr/.img pairs (Analyze or NIfTI-1), which none of the checks here cover.
  if (dynamic_cast<itk::NiftiImageIO*>(io.GetPointer()) && !detail::isNiftiPath(path))
    throw inputError(path, "a .hdr/.img pair (Analyze or NIfTI-1): voxseg reads NIfTI as one .nii or .nii.gz file "
                           "(convert the pair, e.g. with nibabel: nib.save(nib.load('x.hdr'), 'x.nii.gz'))");
  if (dynamic_cast<itk::GDCMImageIO*>(io.GetPointer()) && isDicomSegFile(path)) {
    if (seg == SegRead::Refused)
      throw inputError(path, "a DICOM SEG holds a label map, not an image to segment (give the series it segments)");
    return dicomSegLabels(path, options);
  }
  io->SetFileName(itkPath);
  const bool placed = !detail::isNiftiPath(path) || detail::checkNiftiGeometryFields(itkPath, path); // NaN aborts ITK
  try {
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    if (detail::isNiftiPath(path))
      if (const std::string why = detail::niftiSformAgainstPixdim(itkPath); !why.empty()) throw inputError(path, why);
    throw inputError(path, "cannot read header: " + detail::itkMessage(e));
  }
  checkHeader(*io, path, options);
  if (!niftiTwo) payload.start(path); // a NIfTI-2 file's check started above
  const bool dicom = dynamic_cast<itk::GDCMImageIO*>(io.GetPointer()) != nullptr;
  if (dicom && !hasPatientGeometry(path))
    throw inputError(path, "DICOM file has no patient geometry (no ImageOrientationPatient, also not in functional "
                           "groups): cannot place it in the world");
  const HeaderType ht = headerType(*io, path);
  Volume v;
  v.source = path;
  v.pixelType = ht.type;
  try {
    v.image = visitPixelType(ht.type, [&](auto tag) { return readTyped<typename decltype(tag)::type>(io, itkPath); });
  } catch (const itk::ExceptionObject& e) {
    payload.finish();
    throw inputError(path, "cannot read voxel data (truncated or corrupt file?): " + detail::itkMessage(e));
  }
  const detail::NonFinitePayload nonFinite = payload.finish();
  if (ht.wide) narrowWide(v);
  if (nonFinite.count) detail::restoreNiftiNonFinite(path, nonFinite, v); // nifticlib read them as 0
  if (dicom && v.geometry().size[2] == 1) // one slice: no second position to measure the spacing from
    v.warnings.push_back(
        fmt::format("a single DICOM slice: its spacing along the slice normal is not known and is taken as "
                    "{:g} mm (label volumes and surfaces on it depend on that)",
                    std::fabs(v.image->GetSpacing()[2])));
  if (dicom && v.image->GetSpacing()[2] < 0) {
    Geometry g = v.geometry();
    g.spacing[2] = -g.spacing[2];
    for (int r = 0; r < 3; ++r) g.direction[3 * r + 2] = -g.direction[3 * r + 2];
    setGeometry(*v.image, g);
  }
  if (dicom && v.geometry().size[2] > 1) placeFrames(v, path, options);
  if (detail::nrrdSpaceMirroredByItk(nrrd.space)) { // ITK negated L->R (x); A->P (y) was due: undo, then do
    Geometry g = v.geometry();
    for (int r = 0; r < 2; ++r) {
      g.origin[r] = -g.origin[r];
      for (int c = 0; c < 3; ++c) g.direction[3 * r + c] = -g.direction[3 * r + c];
    }
    setGeometry(*v.image, g);
  }
  if (detail::isNiftiPath(path)) {
    Geometry g = v.geometry();
    auto placement = std::make_shared<NiftiPlacement>(detail::readNiftiPlacement(itkPath, path, g));
    // ITK 5.2 turns a spacing in metres or micrometres into mm but leaves the origin in the file's unit.
    if (const double mm = detail::niftiMillimetresPerUnit(placement->spaceUnits); mm != 1.0 && placed) {
      for (double& o : g.origin) o *= mm;
      setGeometry(*v.image, g);
      placement->grid = g;
    }
    // A NIfTI-2 file's fields were rounded to float32 in its NIfTI-1 copy: its NIfTI-1 outputs state the grid
    // as read instead (a qform alone, decoded by nibabel, would move by up to 1e-3 mm).
    if (const std::string why = detail::niftiFormsDisagreement(*placement); !why.empty())
      v.warnings.push_back(why + (niftiTwo ? "; NIfTI outputs state that grid in both forms"
                                           : "; NIfTI outputs on its grid keep both forms as they are, so each tool "
                                             "places them as it places this file"));
    if (!niftiTwo) v.niftiPlacement = std::move(placement);
  }
  if (!placed)
    v.warnings.push_back("neither qform nor sform is set: the file has no world orientation; it is placed as ITK does "
                         "(axes along LPS, origin 0); NIfTI outputs keep the header's fields (no orientation either), "
                         "other formats state that placement");
  if (detail::nrrdSpaceWithoutAnatomy(nrrd.space))
    v.warnings.push_back("NRRD space '" + nrrd.space +
                         "' has no anatomical orientation: its axes are taken as LPS, as ITK does");
  return v;
}

// Linear interpolation of the slices onto an even grid at `spacing` along the normal.
Volume resampleSlices(const Volume& in, const std::vector<double>& positions, double spacing) {
  const Geometry g = in.geometry();
  const double extent = positions.back() - positions.front();
  const std::size_t nOut = static_cast<std::size_t>(std::floor(extent / spacing + 1e-6)) + 1;
  Geometry og = g;
  og.size[2] = nOut;
  og.spacing[2] = spacing;
  Volume out = makeVolume(PixelType::Float32, og);
  out.source = in.source;
  out.warnings = in.warnings;
  const auto src = in.toFloat();
  const float* s = src->GetBufferPointer();
  float* d = out.as<float>()->GetBufferPointer();
  const std::size_t slice = g.size[0] * g.size[1];
  std::size_t lo = 0;
  for (std::size_t k = 0; k < nOut; ++k) {
    const double t = positions.front() + double(k) * spacing;
    while (lo + 2 < positions.size() && positions[lo + 1] < t) ++lo;
    const double span = positions[lo + 1] - positions[lo];
    const double w = span > 0 ? std::clamp((t - positions[lo]) / span, 0.0, 1.0) : 0.0;
    const float* a = s + lo * slice;
    const float* b = s + (lo + 1) * slice;
    float* o = d + k * slice;
    for (std::size_t i = 0; i < slice; ++i) o[i] = static_cast<float>((1.0 - w) * a[i] + w * b[i]);
  }
  return out;
}

// A stack whose slices are not evenly spaced (or sheared): refused under --nonuniform error (and a tilt under
// resample), else read with the warning added. `where` names it (a folder or a file), `what` prefixes the problem.
void applySpacingPolicy(const SliceSpacingCheck& check, const ReadOptions& options, const std::string& where,
                        const std::string& what, std::vector<std::string>& warnings) {
  if (!check.gridProblem.empty()) throw inputError(where, what + check.gridProblem);
  if (check.uniform) return;
  const bool tilt = check.tiltDegrees > 0.05 && check.maxDeviation <= std::max(0.01 * check.medianSpacing, 1e-3);
  if (options.nonUniform == SliceSpacingPolicy::Error)
    throw inputError(where, what + check.problem + (tilt ? "" : " (--nonuniform accept|resample to read it anyway)"));
  if (tilt && options.nonUniform == SliceSpacingPolicy::Resample)
    throw inputError(where, what + check.problem + "; resampling does not undo a tilt");
  warnings.push_back(check.problem);
}

// The stack's grid: the first slice's corner, its row and column directions, the normal (or against it, when the
// slices go that way: `normalSign` -1), the spacing along it (the median, or the mean of an uneven stack; resampled
// to the median under --nonuniform resample at `positions`, ascending mm along the stack).
void placeStack(Volume& v, const SliceSpacingCheck& check, const Vec3& origin, const Vec3& row, const Vec3& column,
                double normalSign, const std::vector<double>& positions, const ReadOptions& options) {
  Geometry g = v.geometry();
  const Vec3 normal = cross(row, column);
  for (int r = 0; r < 3; ++r) {
    g.direction[3 * r + 0] = row[r];
    g.direction[3 * r + 1] = column[r];
    g.direction[3 * r + 2] = normalSign * normal[r];
  }
  g.origin = origin;
  g.spacing[2] = check.uniform ? check.medianSpacing : check.meanSpacing;
  setGeometry(*v.image, g);
  if (!check.uniform && options.nonUniform == SliceSpacingPolicy::Resample) {
    v = resampleSlices(v, positions, check.medianSpacing);
    v.warnings.push_back("resampled to " + std::to_string(v.geometry().size[2]) + " slices at " +
                         std::to_string(check.medianSpacing) + " mm");
  } else if (!check.uniform) {
    v.warnings.push_back("slice spacing set to the mean " + std::to_string(check.meanSpacing) + " mm");
  }
}

// GDCM applies the first frame's rescale to every frame of an enhanced image: undone, and each frame's own applied,
// in the type a series of such slices is read into (int32, or float64 for fractional values).
void rescaleFrames(Volume& v, const detail::MultiFrameLayout& layout) {
  const auto& slope = layout.slopes;
  const auto& intercept = layout.intercepts;
  const std::size_t frames = v.geometry().size[2], plane = v.geometry().size[0] * v.geometry().size[1];
  if (slope.size() != frames) return;
  bool varies = false, fractional = false;
  for (std::size_t k = 0; k < frames; ++k) {
    varies |= slope[k] != slope[0] || intercept[k] != intercept[0];
    fractional |= slope[k] != std::round(slope[k]) || intercept[k] != std::round(intercept[k]);
  }
  if (!varies) return;
  // values beyond int32 (a slope of 65536 on 16-bit data): float64, as a series of such slices
  visitPixelType(v.pixelType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = v.as<T>()->GetBufferPointer();
    for (std::size_t k = 0; k < frames && !fractional; ++k) {
      const auto [lo, hi] = std::minmax_element(in + k * plane, in + (k + 1) * plane);
      for (const double x : {double(*lo), double(*hi)}) {
        const double value = (x - intercept[0]) / slope[0] * slope[k] + intercept[k];
        fractional |= !(std::fabs(value) <= 2147483647.0);
      }
    }
  });
  Volume out = makeVolume(fractional ? PixelType::Float64 : PixelType::Int32, v.geometry());
  out.source = v.source;
  out.warnings = v.warnings;
  double* real = fractional ? out.as<double>()->GetBufferPointer() : nullptr;
  std::int32_t* whole = fractional ? nullptr : out.as<std::int32_t>()->GetBufferPointer();
  visitPixelType(v.pixelType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = v.as<T>()->GetBufferPointer();
    for (std::size_t k = 0; k < frames; ++k)
      for (std::size_t i = k * plane; i < (k + 1) * plane; ++i) {
        const double value = (double(in[i]) - intercept[0]) / slope[0] * slope[k] + intercept[k];
        if (real)
          real[i] = value;
        else
          whole[i] = static_cast<std::int32_t>(std::lround(value));
      }
  });
  logInfo(v.source + ": its frames rescale with different slopes/intercepts; read as " + pixelTypeName(out.pixelType));
  v = std::move(out);
}

// An enhanced multi-frame image: its frames placed where their functional groups say (GDCM stacks them in stored
// order at a spacing of its own; positions it could not make sense of gave 1 x 1 x 1 mm without a word), checked as
// a series' slices are (order, duplicates, even spacing, one grid) and rescaled frame by frame.
void placeFrames(Volume& v, const std::string& path, const ReadOptions& options) {
  const detail::MultiFrameLayout layout = detail::readMultiFrameLayout(path);
  if (!layout.problem.empty()) throw inputError(path, layout.problem);
  const std::size_t frames = v.geometry().size[2];
  if (layout.positions.empty()) return; // no per-frame positions (not an enhanced image): GDCM's placement stays
  if (layout.positions.size() != frames)
    throw inputError(path, std::to_string(layout.positions.size()) + " frame positions for " + std::to_string(frames) +
                               " frames");
  const Vec3 normal = cross(layout.row, layout.column);
  if (!(dot(normal, normal) > 0.5)) throw inputError(path, "no ImageOrientationPatient in its functional groups");
  DicomSeriesInfo s; // the frames as a series' slices, for the checks a series gets
  s.positionsKnown = true;
  s.rowCosine = layout.row;
  s.columnCosine = layout.column;
  s.pixelSpacing = {layout.rowSpacing, layout.columnSpacing};
  const double first = dot(normal, layout.positions.front());
  const double sign = dot(normal, layout.positions.back()) >= first ? 1.0 : -1.0; // stored along or against it
  for (std::size_t k = 0; k < frames; ++k) {
    const double along = sign * (dot(normal, layout.positions[k]) - first);
    if (k > 0 && std::fabs(along - s.slicePositions.back()) < 1e-3)
      throw inputError(path, "frames " + std::to_string(k) + " and " + std::to_string(k + 1) +
                                 " lie at the same position: several stacks, echoes or time points in one file");
    if (k > 0 && along < s.slicePositions.back())
      throw inputError(path, "its frames are not stored in order along the slice normal (frame " +
                                 std::to_string(k + 1) + " lies before frame " + std::to_string(k) + ")");
    s.slicePositions.push_back(along);
    s.positions.push_back(layout.positions[k]);
    s.files.push_back("frame " + std::to_string(k + 1));
  }
  const SliceSpacingCheck check = checkSliceSpacing(s);
  applySpacingPolicy(check, options, path, "", v.warnings);
  if (layout.rowSpacing > 0 && layout.columnSpacing > 0) {
    Geometry g = v.geometry();
    g.spacing[0] = layout.columnSpacing;
    g.spacing[1] = layout.rowSpacing;
    setGeometry(*v.image, g);
  }
  rescaleFrames(v, layout);
  placeStack(v, check, layout.positions.front(), layout.row, layout.column, sign, s.slicePositions, options);
}

Volume readSeries(const std::string& folder, const DicomSeriesInfo& s, const ReadOptions& options, SegRead seg) {
  const std::string& first = s.files.front();
  if (!s.fileProblem.empty()) throw inputError(folder, "series " + s.seriesUid + ": " + s.fileProblem);
  if (s.files.size() == 1) {
    Volume v = readFile(first, options, seg);
    v.source = folder;
    return v;
  }
  if (!s.positionsKnown) throw inputError(folder, "series " + s.seriesUid + ": " + s.stackProblem);
  const SliceSpacingCheck check = checkSliceSpacing(s);
  std::vector<std::string> warnings;
  if (s.localizersSetAside)
    warnings.push_back(std::to_string(s.localizersSetAside) + " localizer image(s) of series " + s.seriesUid +
                       " left out of the volume");
  applySpacingPolicy(check, options, folder, "series " + s.seriesUid + ": ", warnings);
  const std::uint64_t voxels = std::uint64_t(s.rows) * s.columns * s.files.size();
  if (voxels > options.maxVoxels)
    throw inputError(folder,
                     "series " + s.seriesUid + " has " + std::to_string(voxels) + " voxels, more than the limit");

  auto gdcmIO = itk::GDCMImageIO::New();
  gdcmIO->SetFileName(first);
  try {
    gdcmIO->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    throw inputError(first, "cannot read DICOM header: " + detail::itkMessage(e));
  }
  if (gdcmIO->GetNumberOfComponents() != 1)
    throw inputError(first, "colour DICOM images are not supported (" +
                                std::to_string(gdcmIO->GetNumberOfComponents()) + " components)");
  HeaderType ht = headerType(*gdcmIO, first);
  if (s.rescaleVaries && ht.type != PixelType::Float64) {
    // The first file's type would wrap or truncate slices rescaled with other values; each file is still
    // rescaled with its own (ImageSeriesReader reads every file's header).
    ht = {s.rescaleFractional || ht.type == PixelType::Float32 ? PixelType::Float64 : PixelType::Int32};
    logInfo(folder + ": series " + s.seriesUid + " rescales its slices with different slopes/intercepts; read as " +
            pixelTypeName(ht.type));
  }
  Volume v;
  v.source = folder;
  v.pixelType = ht.type;
  try {
    v.image = visitPixelType(ht.type, [&](auto tag) -> itk::ImageBase<3>::Pointer {
      using ImageType = itk::Image<typename decltype(tag)::type, 3>;
      auto reader = itk::ImageSeriesReader<ImageType>::New();
      reader->SetImageIO(gdcmIO);
      reader->SetFileNames(s.files);
      reader->Update();
      typename ImageType::Pointer img = reader->GetOutput();
      img->DisconnectPipeline();
      return img.GetPointer();
    });
  } catch (const itk::ExceptionObject& e) {
    throw inputError(folder, "cannot read series " + s.seriesUid + ": " + detail::itkMessage(e));
  }
  if (ht.wide) narrowWide(v);

  // The grid from the sorted slice positions: first slice's corner, the slice normal, even spacing.
  v.warnings = warnings;
  placeStack(v, check, s.positions.front(), s.rowCosine, s.columnCosine, 1.0, s.slicePositions, options);
  return v;
}

Volume readAny(const std::string& path, const ReadOptions& options, SegRead seg) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (path.empty() || !fs::exists(st)) throw inputError(path, "no such file or folder");
  Volume v = fs::is_directory(st)
                 ? readSeries(path, selectSeries(scanDicomFolder(path), options.seriesUid, path), options, seg)
                 : readFile(path, options, seg);
  for (const auto& w : v.warnings) spdlog::warn("{}: {}", path, w);
  return v;
}

} // namespace

Volume readVolume(const std::string& path, const ReadOptions& options) {
  return readAny(path, options, SegRead::LabelMap);
}

Volume readImage(const std::string& path, const ReadOptions& options) {
  return readAny(path, options, SegRead::Refused);
}

} // namespace voxseg::io
