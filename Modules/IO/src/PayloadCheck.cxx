#include "PayloadCheck.h"
#include "RawBytes.h"

#include "voxseg/core/Error.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

namespace voxseg::io::detail {
namespace {

template <typename T> T load(const unsigned char* p, bool swap) { return loadBytes<T>(p, swap); }

std::string trimmed(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return std::string(v);
}

std::string lowerCase(std::string v) {
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v;
}

// Inflates a zlib or gzip stream from `data`'s position to its end: the bytes it holds. Throws Error(Input) naming
// `path` for a damaged or truncated stream.
std::uint64_t inflatedLength(std::istream& data, const std::string& path) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) throw inputError(path, "cannot inflate the voxel data (zlib)"); // zlib or gzip
  std::vector<unsigned char> inBuf(1 << 17), outBuf(1 << 18);
  std::uint64_t inflated = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (z.avail_in == 0) {
      data.read(reinterpret_cast<char*>(inBuf.data()), std::streamsize(inBuf.size()));
      z.next_in = inBuf.data();
      z.avail_in = static_cast<uInt>(data.gcount());
      if (z.avail_in == 0) break; // the stream ends early
    }
    z.next_out = outBuf.data();
    z.avail_out = static_cast<uInt>(outBuf.size());
    rc = inflate(&z, Z_NO_FLUSH);
    inflated += outBuf.size() - z.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END) break;
  }
  const std::string why = z.msg ? z.msg : (rc == Z_STREAM_END ? "" : "unexpected end of stream");
  inflateEnd(&z);
  if (rc != Z_STREAM_END) throw inputError(path, "corrupt or truncated compressed data (" + why + ")");
  return inflated;
}

} // namespace

NiftiOneHeader readNiftiOneHeader(const std::string& path, std::array<unsigned char, 348>& hdr, bool& swap) {
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) return NiftiOneHeader::Unopened;
  if (gzread(f.get(), hdr.data(), static_cast<unsigned>(hdr.size())) != int(hdr.size())) return NiftiOneHeader::Other;
  swap = load<std::int32_t>(hdr.data(), false) != 348;
  return load<std::int32_t>(hdr.data(), swap) == 348 ? NiftiOneHeader::Read : NiftiOneHeader::Other;
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool isNiftiPath(const std::string& path) {
  return endsWith(path, ".nii") || endsWith(path, ".nii.gz") || endsWith(path, ".NII") || endsWith(path, ".NII.GZ");
}

NrrdSpace checkNrrdHeader(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(4, '\0');
  NrrdSpace found;
  if (!in.read(head.data(), 4) || head != "NRRD") return found; // other formats: four bytes read, nothing else
  // The header up to its blank line (headers are small), at most 4 MiB: a line running past that is too
  // long anyway.
  std::array<char, 1 << 16> chunk{};
  while (in && head.size() < (std::size_t{4} << 20) && head.find("\n\n") == std::string::npos &&
         head.find("\n\r\n") == std::string::npos) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    head.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  constexpr std::size_t kMaxFieldLine = 900;
  std::size_t start = 0;
  for (int number = 1; start < head.size(); ++number) {
    std::size_t end = head.find('\n', start);
    if (end == std::string::npos) end = head.size();
    std::string_view line(head.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break; // end of the header (an attached payload follows)
    start = end + 1;
    if (line[0] == '#' || line.find(":=") != std::string_view::npos) continue;
    if (line.size() >= kMaxFieldLine)
      throw inputError(path, "NRRD header line " + std::to_string(number) + " is " + std::to_string(line.size()) +
                                 " bytes long, not a NRRD field (refused: ITK's NRRD reader overflows a buffer on it)");
    const std::size_t colon = line.find(": ");
    if (colon == std::string_view::npos) continue;
    std::string key; // teem compares field names ignoring case and spaces ("Space Units", "spaceunits")
    for (const char c : line.substr(0, colon))
      if (c != ' ' && c != '\t') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = lowerCase(trimmed(line.substr(colon + 2)));
    if (key == "space") {
      found.space = value;
    } else if (key == "spaceunits") {
      std::istringstream units(value);
      for (std::string unit; units >> std::quoted(unit);) found.units.push_back(unit);
    }
  }
  for (const auto& unit : found.units)
    if (!unit.empty() && unit != "mm" && unit != "millimeter" && unit != "millimeters" && unit != "millimetre" &&
        unit != "millimetres")
      throw inputError(path, "NRRD space units '" + unit + "': voxseg reads spacing and origin in millimetres only " +
                                 "(ITK would read these numbers as mm)");
  return found;
}

bool nrrdSpaceMirroredByItk(const std::string& space) {
  return space == "left-anterior-superior" || space == "las" || space == "left-anterior-superior-time" ||
         space == "last";
}

bool nrrdSpaceWithoutAnatomy(const std::string& space) {
  return space.rfind("scanner-xyz", 0) == 0 || space.rfind("3d-right-handed", 0) == 0 ||
         space.rfind("3d-left-handed", 0) == 0;
}

NonFinitePayload checkNiftiFile(const std::string& path, bool inflateData) {
  // gzopen reads uncompressed files transparently.
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) throw inputError(path, "cannot open file");
  gzbuffer(f.get(), 1 << 17);
  std::array<unsigned char, 540> hdr{};
  const int got = gzread(f.get(), hdr.data(), static_cast<unsigned>(hdr.size()));
  if (got < 348) {
    int err = Z_OK;
    const char* msg = gzerror(f.get(), &err);
    if (err != Z_OK && err != Z_STREAM_END) // zlib inflates ahead: damage anywhere in its first block shows here
      throw inputError(path, std::string("corrupt or truncated compressed data (") + msg + ")");
    throw inputError(path, "truncated NIfTI header");
  }
  std::uint64_t total = static_cast<std::uint64_t>(got);

  const std::int32_t size = load<std::int32_t>(hdr.data(), false);
  const bool swap = size != 348 && size != 540;
  const std::int32_t sizeHdr = load<std::int32_t>(hdr.data(), swap);
  std::uint64_t voxOffset = 0;
  std::array<std::int64_t, 8> dim{};
  std::int64_t bitpix = 0;
  // A .nii file is one NIfTI-1 ("n+1") or NIfTI-2 ("n+2") file; anything else (Analyze 7.5, a
  // .hdr/.img header "ni1") would be read by ITK without NIfTI's orientation, so it is refused.
  const auto magicIs = [&](std::size_t at, const char* m) { return std::memcmp(hdr.data() + at, m, 4) == 0; };
  const auto magicText = [&](std::size_t at) {
    std::string m;
    for (std::size_t i = at; i < at + 3; ++i) m += std::isprint(hdr[i]) ? static_cast<char>(hdr[i]) : '?';
    return m;
  };
  if (sizeHdr == 348) {
    if (!magicIs(344, "n+1\0"))
      throw inputError(path, "not a single-file NIfTI-1: the header's magic is '" + magicText(344) +
                                 "', not 'n+1' (Analyze 7.5 and .hdr/.img pairs are not read)");
    bitpix = load<std::int16_t>(hdr.data() + 72, swap);
    for (int i = 0; i < 8; ++i) dim[i] = load<std::int16_t>(hdr.data() + 40 + 2 * i, swap);
    const float off = load<float>(hdr.data() + 108, swap);
    if (!(off < 1e12f)) throw inputError(path, "invalid NIfTI vox_offset " + std::to_string(off));
    voxOffset = off > 0 ? static_cast<std::uint64_t>(off) : 352;
  } else if (sizeHdr == 540 && got == 540) {
    if (!magicIs(4, "n+2\0"))
      throw inputError(path, "header size 540 (NIfTI-2) but the magic is '" + magicText(4) + "', not 'n+2'");
    bitpix = load<std::int16_t>(hdr.data() + 14, swap);
    for (int i = 0; i < 8; ++i) dim[i] = load<std::int64_t>(hdr.data() + 16 + 8 * i, swap);
    const std::int64_t off = load<std::int64_t>(hdr.data() + 168, swap);
    if (off > (std::int64_t{1} << 40)) throw inputError(path, "invalid NIfTI vox_offset " + std::to_string(off));
    voxOffset = static_cast<std::uint64_t>(std::max<std::int64_t>(off, 544));
  } else {
    throw inputError(path, "not a NIfTI file (header size field " + std::to_string(size) + ", expected 348 or 540)");
  }
  if (dim[0] < 1 || dim[0] > 7) throw inputError(path, "invalid NIfTI dim[0] = " + std::to_string(dim[0]));
  for (int i = 1; i <= dim[0]; ++i)
    if (dim[i] < 1)
      throw inputError(path, "header gives a zero-size dimension (dim[" + std::to_string(i) +
                                 "] = " + std::to_string(dim[i]) + ")");

  if (bitpix <= 0 || bitpix % 8 != 0) throw inputError(path, "invalid NIfTI bitpix " + std::to_string(bitpix));
  std::uint64_t payloadBytes = static_cast<std::uint64_t>(bitpix / 8);
  for (int i = 1; i <= dim[0]; ++i)
    if (__builtin_mul_overflow(payloadBytes, static_cast<std::uint64_t>(dim[i]), &payloadBytes))
      throw inputError(path, "header dimensions overflow a 64-bit byte count");
  std::uint64_t need = 0;
  if (__builtin_add_overflow(voxOffset, payloadBytes, &need))
    throw inputError(path, "header dimensions overflow a 64-bit byte count");
  // float voxels: NaN and infinities counted as the data pass (nifticlib reads them as 0: NiftiNonFinite.h)
  NonFiniteScan scan(voxOffset, payloadBytes, load<std::int16_t>(hdr.data() + (sizeHdr == 348 ? 70 : 12), swap), swap);
  scan.feed(hdr.data(), std::size_t(got), 0);
  if (gzdirect(f.get()) && !(inflateData && scan.wanted())) { // not compressed: the file's size says it
    std::error_code ec;
    total = std::filesystem::file_size(path, ec);
    if (ec) throw inputError(path, "cannot read the file's size: " + ec.message());
  } else if (inflateData) {
    std::vector<unsigned char> buf(1 << 20);
    while (total < need) {
      const int n = gzread(f.get(), buf.data(), static_cast<unsigned>(buf.size()));
      if (n <= 0) break;
      scan.feed(buf.data(), std::size_t(n), total);
      total += static_cast<std::uint64_t>(n);
    }
  } else {
    return {};
  }
  int err = Z_OK;
  const char* msg = gzerror(f.get(), &err);
  if (err != Z_OK && err != Z_STREAM_END)
    throw inputError(path, std::string("corrupt or truncated compressed data (") + msg + ")");
  if (total < need)
    throw inputError(path, "truncated: the header needs " + std::to_string(need) + " bytes, the file holds " +
                               std::to_string(total));
  NonFinitePayload out{scan.count(), voxOffset, scan.valueBytes(), swap, 0, 0};
  if (out.count > 0) { // ITK scales by them: the values put back are scaled the same way
    const bool one = sizeHdr == 348;
    out.slope = one ? load<float>(hdr.data() + 112, swap) : load<double>(hdr.data() + 176, swap);
    out.inter = one ? load<float>(hdr.data() + 116, swap) : load<double>(hdr.data() + 184, swap);
  }
  return out;
}

bool checkNiftiGeometryFields(const std::string& path, const std::string& name) {
  std::array<unsigned char, 348> hdr{};
  bool swap = false;
  const NiftiOneHeader read = readNiftiOneHeader(path, hdr, swap);
  if (read == NiftiOneHeader::Unopened) throw inputError(name, "cannot open file");
  if (read == NiftiOneHeader::Other) return true; // short, or not NIfTI-1: checkNiftiFile says what it is
  const auto fieldAt = [&](std::size_t at) { return load<float>(hdr.data() + at, swap); };
  const auto refuse = [&](const std::string& field, float v,
                          const std::string& why = "the voxel grid cannot be placed") {
    std::ostringstream os;
    os << v;
    throw inputError(name, "invalid NIfTI " + field + " = " + os.str() + " (" + why + ")");
  };
  const std::int16_t qformCode = load<std::int16_t>(hdr.data() + 252, swap);
  const std::int16_t sformCode = load<std::int16_t>(hdr.data() + 254, swap);
  for (int i = 1; i <= 3; ++i) {
    const float d = fieldAt(76 + 4 * std::size_t(i));
    // Without qform and sform the spacing is pixdim alone; nifticlib would read 0 or a negative one as 1 mm.
    if (!std::isfinite(d) || (qformCode <= 0 && sformCode <= 0 && d <= 0))
      refuse("pixdim[" + std::to_string(i) + "]", d);
    // ITK 5.2 reads a negative one as a negative spacing (with a qform) or calls the sform "not orthonormal".
    if (d < 0)
      refuse("pixdim[" + std::to_string(i) + "]", d,
             "a voxel size must be positive: nibabel reads its absolute value, ITK 5.2 cannot read it; store "
             "the absolute value");
  }
  if (qformCode > 0) {
    static const char* names[] = {"quatern_b", "quatern_c", "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z"};
    for (std::size_t i = 0; i < 6; ++i)
      if (!std::isfinite(fieldAt(256 + 4 * i)) || (i >= 3 && std::fabs(fieldAt(256 + 4 * i)) > kMaxOriginMm))
        refuse(names[i], fieldAt(256 + 4 * i));
  }
  if (sformCode > 0)
    for (std::size_t r = 0; r < 3; ++r)
      for (std::size_t c = 0; c < 4; ++c)
        if (!std::isfinite(fieldAt(280 + 16 * r + 4 * c)) ||
            (c == 3 && std::fabs(fieldAt(280 + 16 * r + 12)) > kMaxOriginMm))
          refuse(std::string("srow_") + "xyz"[r] + "[" + std::to_string(c) + "]", fieldAt(280 + 16 * r + 4 * c));
  return qformCode > 0 || sformCode > 0;
}

std::string niftiSformAgainstPixdim(const std::string& path) {
  std::array<unsigned char, 348> hdr{};
  bool swap = false;
  if (readNiftiOneHeader(path, hdr, swap) != NiftiOneHeader::Read) return {};
  const auto fieldAt = [&](std::size_t at) { return double(load<float>(hdr.data() + at, swap)); };
  if (load<std::int16_t>(hdr.data() + 254, swap) <= 0 || load<std::int16_t>(hdr.data() + 252, swap) > 0) return {};
  // ITK 5.2 turns pixdim into mm but not the sform: in metres or micrometres the two never agree for it.
  const int units = hdr[123] & 7;
  if (units == 1 || units == 3)
    return std::string("an sform in ") + (units == 1 ? "metres" : "micrometres") +
           " (xyzt_units) and no qform: ITK 5.2 scales pixdim to mm but not the sform, and cannot read it (store "
           "the header in mm, or add a qform)";
  const auto element = [&](std::size_t r, std::size_t c) { return fieldAt(280 + 16 * r + 4 * c); };
  std::ostringstream lengths, pixdims;
  bool differ = false;
  std::array<double, 3> norms{};
  for (std::size_t c = 0; c < 3; ++c) {
    for (std::size_t r = 0; r < 3; ++r) norms[c] += element(r, c) * element(r, c);
    norms[c] = std::sqrt(norms[c]);
    if (!(norms[c] > 0)) return {}; // singular: ITK's own words
    const double pixdim = std::fabs(fieldAt(80 + 4 * c));
    differ = differ || std::fabs(norms[c] - pixdim) > 1e-4 * std::max(norms[c], pixdim);
    lengths << (c ? "/" : "") << norms[c];
    pixdims << (c ? "/" : "") << pixdim;
  }
  for (std::size_t a = 0; a < 3; ++a) // sheared: ITK's own words
    for (std::size_t b = a + 1; b < 3; ++b) {
      double dot = 0;
      for (std::size_t r = 0; r < 3; ++r) dot += element(r, a) * element(r, b);
      if (std::fabs(dot) > 1e-4 * norms[a] * norms[b]) return {};
    }
  if (!differ) return {};
  return "the sform's axes are " + lengths.str() + " mm long but pixdim[1..3] says " + pixdims.str() +
         " mm, and there is no qform: ITK 5.2 cannot read that (set pixdim to the sform's axis lengths, e.g. "
         "nibabel's header.set_zooms)";
}

bool isMetaImagePath(const std::string& path) { return endsWith(path, ".mha") || endsWith(path, ".mhd"); }

namespace {

// A file name of a MetaImage pattern: exactly one printf conversion %[0][width](d|i), width at most 20, and no other
// '%' (ITK hands the pattern to its own printf: "%s%s" crashed it, "%n" aborted, a width of 1200 read garbage);
// nullopt for anything else.
std::optional<std::string> patternName(const std::string& pattern, int index) {
  const auto pct = pattern.find('%');
  if (pct == std::string::npos || pattern.find('%', pct + 1) != std::string::npos) return std::nullopt;
  std::size_t i = pct + 1;
  const bool zero = i < pattern.size() && pattern[i] == '0';
  if (zero) ++i;
  std::size_t width = 0, digitsRead = 0;
  while (i < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[i])) && digitsRead++ < 2)
    width = width * 10 + std::size_t(pattern[i++] - '0');
  if (width > 20 || i >= pattern.size() || (pattern[i] != 'd' && pattern[i] != 'i')) return std::nullopt;
  std::string digits = std::to_string(index); // index >= 0
  if (digits.size() < width) digits.insert(0, width - digits.size(), zero ? '0' : ' ');
  return pattern.substr(0, pct) + digits + pattern.substr(i + 1);
}

// A whole non-negative decimal integer below 10^9 (ITK reads these numbers with atoi/atof).
std::optional<int> smallCount(const std::string& word) {
  if (word.empty() || word.size() > 9 || word.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoi(word);
}

// The voxel bytes a MetaImage header describes (0: an element type left to ITK).
std::uint64_t metaImageVoxelBytes(std::map<std::string, std::string>& fields) {
  static const std::map<std::string, std::uint64_t> sizes{{"MET_CHAR", 1},       {"MET_UCHAR", 1}, {"MET_SHORT", 2},
                                                          {"MET_USHORT", 2},     {"MET_INT", 4},   {"MET_UINT", 4},
                                                          {"MET_LONG", 4},       {"MET_ULONG", 4}, {"MET_LONG_LONG", 8},
                                                          {"MET_ULONG_LONG", 8}, {"MET_FLOAT", 4}, {"MET_DOUBLE", 8}};
  const auto it = sizes.find(fields["ElementType"]);
  std::uint64_t raw = it == sizes.end() ? 0 : it->second;
  if (fields.count("ElementNumberOfChannels")) raw *= std::stoull(fields["ElementNumberOfChannels"]);
  std::istringstream dims(fields["DimSize"]);
  for (std::uint64_t d = 0; dims >> d;) raw *= d;
  return raw;
}

// ElementDataFile = LIST [ND] (file names on the lines after it) or "pattern first last step [ND]" (a pattern holds
// '%'): ITK 5.2 reads a missing or short slice file as whatever its buffer held, says so only on the console, and
// exits 0. Each file must be one slice of the last axis: as many files as DimSize's last entry, each at least its
// share of the raw size. Anything else is refused rather than left to ITK.
void checkMetaImageSliceFiles(const std::string& path, std::istream& rest, std::map<std::string, std::string>& fields,
                              const std::string& dataFile, bool compressed) {
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::vector<std::uint64_t> dims;
  {
    std::istringstream ds(fields["DimSize"]);
    for (std::uint64_t d = 0; ds >> d;) dims.push_back(d);
  }
  if (dims.empty()) throw inputError(path, "MetaImage header has no DimSize");
  if (dims.back() > 100000) throw inputError(path, "MetaImage with " + std::to_string(dims.back()) + " slice files");
  const std::string sliceDim = std::to_string(dims.size() - 1) + "D";
  std::vector<std::string> words;
  {
    std::istringstream ws(dataFile);
    for (std::string w; ws >> w;) words.push_back(w);
  }
  std::vector<std::string> files;
  const auto refuse = [&](const std::string& why) {
    throw inputError(path, "MetaImage ElementDataFile '" + dataFile + "': " + why);
  };
  if (words.front() == "LIST") {
    if (words.size() > 2 || (words.size() == 2 && words[1] != sliceDim))
      refuse("voxseg reads lists of " + sliceDim + " slice files only");
    for (std::string line; std::getline(rest, line);) { // one name per line, as ITK takes them (no trimming)
      if (!line.empty() && line.back() == '\r') line.pop_back();
      files.push_back(line);
    }
    while (!files.empty() && files.back().empty()) files.pop_back(); // the newline ending the file
  } else {
    if (words.size() < 4 || words.size() > 5)
      refuse("a file pattern needs its first, last and step numbers (and at most the slice dimension)");
    const auto first = smallCount(words[1]), last = smallCount(words[2]), step = smallCount(words[3]);
    if (!first || !last || !step || *step == 0 || *last < *first)
      refuse("first, last and step must be whole numbers, step above 0 and last not below first");
    if (words.size() == 5 && words[4] != sliceDim) refuse("voxseg reads patterns of " + sliceDim + " slice files only");
    if ((*last - *first) / *step + 1 != static_cast<long long>(dims.back()))
      refuse("names " + std::to_string((*last - *first) / *step + 1) + " files for " + std::to_string(dims.back()) +
             " slices");
    for (int i = *first; i <= *last; i += *step) {
      const auto name = patternName(words[0], i);
      if (!name) refuse("the pattern must hold one %d (or %0<width>d) and no other '%'");
      files.push_back(*name);
      if (*last - i < *step) break; // no overflow past last
    }
  }
  if (files.size() != dims.back())
    refuse(std::to_string(files.size()) + " file(s) for " + std::to_string(dims.back()) + " slices");
  const std::uint64_t each = compressed ? 0 : metaImageVoxelBytes(fields) / files.size();
  for (const auto& f : files) {
    const std::string p = (dir / f).string();
    std::error_code ec;
    const std::uint64_t size = std::filesystem::file_size(p, ec);
    if (ec)
      throw inputError(path, "MetaImage data file '" + p + "' (of " + std::to_string(files.size()) + ") is missing");
    if (size < each)
      throw inputError(path, "truncated: MetaImage data file '" + p + "' holds " + std::to_string(size) +
                                 " bytes, a slice needs " + std::to_string(each));
  }
}

} // namespace

void checkMetaImageFile(const std::string& path, bool inflateData) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw inputError(path, "cannot open file");
  std::map<std::string, std::string> fields;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto key = line.substr(0, eq);
    auto value = line.substr(eq + 1);
    const auto trimSpaces = [](std::string& t) {
      t.erase(0, t.find_first_not_of(" \t\r"));
      t.erase(t.find_last_not_of(" \t\r") + 1);
    };
    trimSpaces(key);
    trimSpaces(value);
    fields[key] = value;
    if (key == "ElementDataFile") break; // the last header field
  }
  if (!fields.count("ElementDataFile")) throw inputError(path, "MetaImage header has no ElementDataFile");
  const std::string dataFile = fields["ElementDataFile"];
  const bool compressed = fields["CompressedData"] == "True" || fields["CompressedData"] == "true";
  std::string dataPath = path;
  std::uint64_t dataStart = 0, available = 0;
  if (dataFile == "LOCAL") {
    dataStart = static_cast<std::uint64_t>(in.tellg());
    available = std::filesystem::file_size(path) - dataStart;
  } else if (dataFile == "LIST" || dataFile.rfind("LIST ", 0) == 0 || dataFile.find('%') != std::string::npos) {
    checkMetaImageSliceFiles(path, in, fields, dataFile, compressed);
    return;
  } else {
    dataPath = (std::filesystem::path(path).parent_path() / dataFile).string();
    std::error_code ec;
    available = std::filesystem::file_size(dataPath, ec);
    if (ec) throw inputError(path, "MetaImage data file '" + dataPath + "' is missing");
  }
  const std::uint64_t raw = metaImageVoxelBytes(fields);
  if (!compressed) {
    if (available < raw)
      throw inputError(path, "truncated: the header needs " + std::to_string(raw) +
                                 " bytes of voxel data, the file holds " + std::to_string(available));
    return;
  }
  if (!fields.count("CompressedDataSize") && dataFile == "LOCAL") // ITK 5.2 reads zeros from it, exit 0
    throw inputError(path, "compressed MetaImage without CompressedDataSize: its voxel data cannot be found "
                           "(store it with the field, or in a separate data file)");
  if (fields.count("CompressedDataSize") && available < std::stoull(fields["CompressedDataSize"]))
    throw inputError(path, "truncated: the header needs " + fields["CompressedDataSize"] +
                               " bytes of voxel data, the file holds " + std::to_string(available));
  if (!inflateData) return;
  // ITK's MetaImage reader reports a damaged deflate stream only on the console and keeps the garbage.
  std::ifstream data(dataPath, std::ios::binary);
  data.seekg(static_cast<std::streamoff>(dataStart));
  const std::uint64_t inflated = inflatedLength(data, path);
  if (raw != 0 && inflated != raw)
    throw inputError(path, "compressed voxel data inflate to " + std::to_string(inflated) +
                               " bytes, the header needs " + std::to_string(raw));
}

namespace {

// Bytes of one value of a NRRD "type" (teem's names); 0 for a name not known here.
std::uint64_t nrrdTypeBytes(const std::string& type) {
  // clang-format off
  static const std::map<std::string, std::uint64_t> bytes = {
      {"signed char", 1}, {"int8", 1}, {"int8_t", 1}, {"uchar", 1}, {"unsigned char", 1}, {"uint8", 1},
      {"uint8_t", 1}, {"short", 2}, {"short int", 2}, {"signed short", 2}, {"signed short int", 2}, {"int16", 2},
      {"int16_t", 2}, {"ushort", 2}, {"unsigned short", 2}, {"unsigned short int", 2}, {"uint16", 2},
      {"uint16_t", 2}, {"int", 4}, {"signed int", 4}, {"int32", 4}, {"int32_t", 4}, {"uint", 4},
      {"unsigned int", 4}, {"uint32", 4}, {"uint32_t", 4}, {"longlong", 8}, {"long long", 8},
      {"long long int", 8}, {"signed long long", 8}, {"signed long long int", 8}, {"int64", 8}, {"int64_t", 8},
      {"ulonglong", 8}, {"unsigned long long", 8}, {"unsigned long long int", 8}, {"uint64", 8}, {"uint64_t", 8},
      {"float", 4}, {"double", 8}};
  // clang-format on
  const auto it = bytes.find(type);
  return it == bytes.end() ? 0 : it->second;
}

} // namespace

void checkNrrdFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) == 0 && !ec) throw inputError(path, "empty file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw inputError(path, "cannot open file");
  std::string line;
  if (!std::getline(in, line) || line.rfind("NRRD", 0) != 0) throw inputError(path, "not a NRRD file (no magic)");
  std::map<std::string, std::string> fields; // teem's field names without spaces, lower case
  bool ended = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      ended = true;
      break;
    }
    const std::size_t colon = line.find(": ");
    if (line[0] == '#' || line.find(":=") != std::string::npos || colon == std::string::npos) continue;
    std::string key;
    for (const char c : line.substr(0, colon))
      if (c != ' ' && c != '\t') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    fields[key] = lowerCase(trimmed(std::string_view(line).substr(colon + 2)));
  }
  if (!ended) throw inputError(path, "truncated: its NRRD header has no end");
  // Judged: an attached payload of a known type, raw or gzip, with nothing to skip (what ITK writes)
  if (fields.count("datafile") || fields.count("lineskip") || fields.count("byteskip")) return;
  const std::uint64_t bytes = nrrdTypeBytes(fields["type"]);
  if (bytes == 0 || !fields.count("sizes")) return;
  std::uint64_t raw = bytes;
  std::istringstream sizes(fields["sizes"]);
  for (std::uint64_t n = 0; sizes >> n;) raw *= n;
  const std::string encoding = fields["encoding"];
  const auto dataStart = static_cast<std::uint64_t>(in.tellg());
  if (encoding == "raw") {
    const std::uint64_t available = std::filesystem::file_size(path) - dataStart;
    if (available < raw)
      throw inputError(path, "truncated: the header needs " + std::to_string(raw) +
                                 " bytes of voxel data, the file holds " + std::to_string(available));
  } else if (encoding == "gzip" || encoding == "gz") {
    const std::uint64_t inflated = inflatedLength(in, path);
    if (inflated != raw)
      throw inputError(path, "compressed voxel data inflate to " + std::to_string(inflated) +
                                 " bytes, the header needs " + std::to_string(raw));
  }
}

void checkWrittenFile(const std::string& temp, const std::string& finalPath) {
  try {
    if (isNiftiPath(finalPath)) checkNiftiFile(temp);
    if (isMetaImagePath(finalPath)) checkMetaImageFile(temp, false); // its length; ITK made the stream
    if (endsWith(finalPath, ".nrrd")) checkNrrdFile(temp);           // teem reports a short write nowhere
  } catch (const Error& e) {
    std::string why = e.what();
    if (why.rfind(temp + ": ", 0) == 0) why.erase(0, temp.size() + 2);
    throw outputError(finalPath, "incomplete after writing (disk full or a file size limit?): " + why);
  }
}

} // namespace voxseg::io::detail
