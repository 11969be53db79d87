#include "NiftiTwo.h"
#include "PayloadCheck.h"
#include "RawBytes.h"

#include "voxseg/core/Error.h"

#include <zlib.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

namespace voxseg::io::detail {
namespace {

template <typename T> T get(const unsigned char* p, bool swap) { return loadBytes<T>(p, swap); }
template <typename T> void put(unsigned char* p, T v, bool swap) { storeBytes<T>(p, v, swap); }

std::unique_ptr<gzFile_s, GzCloser> openGz(const std::string& path) {
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb")); // reads plain files too
  if (!f) throw inputError(path, "cannot open file");
  gzbuffer(f.get(), 1 << 17);
  return f;
}

// NIfTI-2 (540 bytes) -> NIfTI-1 (348 bytes + the 4-byte extension flag), same byte order.
std::array<unsigned char, 352> toNiftiOne(const std::array<unsigned char, 540>& h, bool swap,
                                          const std::string& source) {
  std::array<unsigned char, 352> o{};
  const auto i16 = [&](std::size_t at, std::int64_t v, const char* what) {
    if (v < -32768 || v > 32767)
      throw inputError(source, std::string("NIfTI-2 ") + what + " = " + std::to_string(v) +
                                   " does not fit NIfTI-1's 16 bits, which ITK 5.2 reads (not supported)");
    put<std::int16_t>(o.data() + at, static_cast<std::int16_t>(v), swap);
  };
  const auto f32 = [&](std::size_t at, std::size_t from) {
    put<float>(o.data() + at, static_cast<float>(get<double>(h.data() + from, swap)), swap);
  };
  put<std::int32_t>(o.data(), 348, swap);
  o[38] = 'r';    // regular
  o[39] = h[524]; // dim_info
  for (std::size_t i = 0; i < 8; ++i) i16(40 + 2 * i, get<std::int64_t>(h.data() + 16 + 8 * i, swap), "dim");
  f32(56, 80); // intent_p1..p3
  f32(60, 88);
  f32(64, 96);
  i16(68, get<std::int32_t>(h.data() + 504, swap), "intent_code");
  i16(70, get<std::int16_t>(h.data() + 12, swap), "datatype");
  i16(72, get<std::int16_t>(h.data() + 14, swap), "bitpix");
  i16(74, get<std::int64_t>(h.data() + 224, swap), "slice_start");
  for (std::size_t i = 0; i < 8; ++i) f32(76 + 4 * i, 104 + 8 * i); // pixdim
  put<float>(o.data() + 108, 352.0f, swap);                         // vox_offset
  f32(112, 176);                                                    // scl_slope, scl_inter
  f32(116, 184);
  i16(120, get<std::int64_t>(h.data() + 232, swap), "slice_end");
  o[122] = static_cast<unsigned char>(get<std::int32_t>(h.data() + 496, swap)); // slice_code
  o[123] = static_cast<unsigned char>(get<std::int32_t>(h.data() + 500, swap)); // xyzt_units
  f32(124, 192); // cal_max, cal_min, slice_duration, toffset
  f32(128, 200);
  f32(132, 208);
  f32(136, 216);
  std::memcpy(o.data() + 148, h.data() + 240, 80); // descrip
  std::memcpy(o.data() + 228, h.data() + 320, 24); // aux_file
  i16(252, get<std::int32_t>(h.data() + 344, swap), "qform_code");
  i16(254, get<std::int32_t>(h.data() + 348, swap), "sform_code");
  for (std::size_t i = 0; i < 6; ++i) f32(256 + 4 * i, 352 + 8 * i);  // quatern_b..d, qoffset_x..z
  for (std::size_t i = 0; i < 12; ++i) f32(280 + 4 * i, 400 + 8 * i); // srow_x, srow_y, srow_z
  std::memcpy(o.data() + 328, h.data() + 508, 16);                    // intent_name
  std::memcpy(o.data() + 344, "n+1\0", 4);
  return o; // bytes 348..351: no extensions
}

// "$TMPDIR/<kind>-<host>-<pid>-XXXXXX" for mkstemps/mkdtemp, after removing what processes of this host
// killed with SIGKILL (no clean-up ran) left under that kind; host and pid in the name say whose (a shared
// $TMPDIR holds other hosts' live scratch files, whose pids mean nothing here).
std::string scratchTemplate(const std::string& kind) {
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  const std::filesystem::path scratch = ec ? std::filesystem::path("/tmp") : dir;
  const std::string prefix = kind + "-" + hostTag() + "-";
  removeStaleTemporaries(scratch.string(), prefix);
  return (scratch / (prefix + std::to_string(::getpid()) + "-XXXXXX")).string();
}

} // namespace

bool isNiftiTwo(const std::string& path) {
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) return false;
  unsigned char b[4];
  if (gzread(f.get(), b, 4) != 4) return false;
  return get<std::int32_t>(b, false) == 540 || get<std::int32_t>(b, true) == 540;
}

std::uint64_t niftiTwoVoxelCount(const std::string& path) {
  auto in = openGz(path);
  std::array<unsigned char, 540> h{};
  if (gzread(in.get(), h.data(), static_cast<unsigned>(h.size())) != 540) return 0;
  const bool swap = get<std::int32_t>(h.data(), false) != 540;
  const std::int64_t rank = get<std::int64_t>(h.data() + 16, swap);
  if (rank < 1 || rank > 7) return 0;
  std::uint64_t n = 1;
  for (std::int64_t i = 1; i <= rank; ++i) {
    const std::int64_t d = get<std::int64_t>(h.data() + 16 + 8 * i, swap);
    if (d < 1) return 0;
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n)) return UINT64_MAX;
  }
  return n;
}

bool niftiHasUncompressedTwin(const std::string& path) {
  if (!endsWith(path, ".nii.gz")) return false;
  std::error_code ec;
  return std::filesystem::exists(path.substr(0, path.size() - 3), ec);
}

NiftiAlias::NiftiAlias(const std::string& source) {
  std::string name = scratchTemplate("voxseg-nifti");
  if (!::mkdtemp(name.data()))
    throw inputError(source,
                     "cannot create a scratch folder in the temporary folder (" + name + "): " + std::strerror(errno));
  folder_.emplace(name);
  std::error_code ec;
  const std::filesystem::path target = std::filesystem::absolute(source, ec);
  const std::string link = name + "/image.nii.gz";
  if (ec || ::symlink(target.c_str(), link.c_str()) != 0)
    throw inputError(source, "cannot link to it from the scratch folder " + name + ": " + std::strerror(errno));
  link_.emplace(link);
}

NiftiTwoAsOne::NiftiTwoAsOne(const std::string& source) {
  auto in = openGz(source);
  std::array<unsigned char, 540> h{};
  if (gzread(in.get(), h.data(), static_cast<unsigned>(h.size())) != 540)
    throw inputError(source, "truncated NIfTI-2 header");
  const bool swap = get<std::int32_t>(h.data(), false) != 540;
  const auto header = toNiftiOne(h, swap, source);
  std::int64_t voxOffset = std::max<std::int64_t>(get<std::int64_t>(h.data() + 168, swap), 544);
  std::uint64_t bytes = static_cast<std::uint64_t>(get<std::int16_t>(h.data() + 14, swap) / 8);
  const std::int64_t rank = get<std::int64_t>(h.data() + 16, swap);
  for (std::int64_t i = 1; i <= rank && i <= 7; ++i)
    bytes *= static_cast<std::uint64_t>(get<std::int64_t>(h.data() + 16 + 8 * i, swap));

  // A new file of our own (O_EXCL, random name: no planted file or link is followed), registered for clean-up.
  std::string name = scratchTemplate("voxseg-nifti2") + ".nii";
  const int fd = ::mkstemps(name.data(), 4);
  if (fd < 0)
    throw inputError(source,
                     "cannot create its NIfTI-1 copy in the temporary folder (" + name + "): " + std::strerror(errno));
  file_.emplace(name);
  std::unique_ptr<FILE, int (*)(FILE*)> out(::fdopen(fd, "wb"), &std::fclose);
  if (!out) {
    ::close(fd);
    throw inputError(source, "cannot write its NIfTI-1 copy (" + name + "): " + std::strerror(errno));
  }
  bool written = std::fwrite(header.data(), 1, header.size(), out.get()) == header.size();
  std::vector<char> buf(1 << 20);
  for (std::int64_t skip = voxOffset - 540; skip > 0;) { // extensions are dropped
    const int n = gzread(in.get(), buf.data(), static_cast<unsigned>(std::min<std::int64_t>(skip, 1 << 20)));
    if (n <= 0) break;
    skip -= n;
  }
  while (bytes > 0 && written) {
    const int n = gzread(in.get(), buf.data(), static_cast<unsigned>(std::min<std::uint64_t>(bytes, buf.size())));
    if (n <= 0) break;
    written = std::fwrite(buf.data(), 1, std::size_t(n), out.get()) == std::size_t(n);
    bytes -= static_cast<std::uint64_t>(n);
  }
  written = std::fclose(out.release()) == 0 && written;
  if (!written) throw inputError(source, "cannot write its NIfTI-1 copy (" + name + "): disk full?");
  if (bytes > 0) throw inputError(source, "truncated NIfTI-2 voxel data");
}

} // namespace voxseg::io::detail
