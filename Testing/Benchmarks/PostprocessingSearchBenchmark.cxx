// nnU-Net's post-processing search (`evaluate --determine-postprocessing`, evaluation::determineNnUNetPostprocessing)
// with the label maps held in memory between the steps against every case read again for each step (nnU-Net's
// way, and voxseg's until 2026-11-29), in the same run on the same files; both must write the same
// postprocessing.json (exit 1 otherwise).
//   voxsegBenchPostprocessingSearch [--cases 10] [--volume 160x256x256] [--threads 2] [--folder DIR]
// Cases: three spheres (labels 1..3) per reference; the prediction flips 0.2% of the voxels to a random label and
// adds six stray 4^3 blocks, so the searched steps have something to remove. They are written as .nii.gz to
// --folder (default: a folder under the system's temporary folder, removed at the end).
#include "BenchArgs.h"
#include "voxseg/evaluation/NnUNetPostprocessingSearch.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Strf.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <random>

namespace fs = std::filesystem;
using namespace voxseg;

namespace {

void writeCase(const fs::path& folder, int k, const std::array<std::int64_t, 3>& zyx) {
  Geometry g;
  g.size = {std::size_t(zyx[2]), std::size_t(zyx[1]), std::size_t(zyx[0])};
  g.spacing = {0.8, 0.8, 1.5};
  io::Volume gt = io::makeVolume(PixelType::UInt8, g), pred = io::makeVolume(PixelType::UInt8, g);
  std::uint8_t* r = gt.as<std::uint8_t>()->GetBufferPointer();
  std::uint8_t* p = pred.as<std::uint8_t>()->GetBufferPointer();
  std::mt19937 rng(std::uint32_t(1000 + k));
  const double nx = double(g.size[0]), ny = double(g.size[1]), nz = double(g.size[2]);
  const double spheres[3][4] = {{0.5, 0.4, 0.5, 0.16}, {0.5, 0.66, 0.5, 0.12}, {0.3, 0.5, 0.62, 0.1}}; // z y x r
  const double shift = std::uniform_real_distribution<double>(-0.04, 0.04)(rng);
  for (std::size_t z = 0; z < g.size[2]; ++z)
    for (std::size_t y = 0; y < g.size[1]; ++y)
      for (std::size_t x = 0; x < g.size[0]; ++x) {
        std::uint8_t v = 0;
        for (int l = 0; l < 3; ++l) {
          const double dz = z / nz - spheres[l][0] - shift, dy = y / ny - spheres[l][1], dx = x / nx - spheres[l][2];
          if (dz * dz + dy * dy + dx * dx < spheres[l][3] * spheres[l][3]) v = std::uint8_t(l + 1);
        }
        r[(z * g.size[1] + y) * g.size[0] + x] = v;
      }
  std::copy(r, r + g.voxelCount(), p);
  std::uniform_real_distribution<double> u(0, 1);
  std::uniform_int_distribution<int> label(0, 3), blockLabel(1, 3);
  for (std::size_t i = 0; i < g.voxelCount(); ++i)
    if (u(rng) < 0.002) p[i] = std::uint8_t(label(rng));
  for (int b = 0; b < 6; ++b) {
    const std::size_t x0 = std::size_t(u(rng) * double(g.size[0] - 4)),
                      y0 = std::size_t(u(rng) * double(g.size[1] - 4)),
                      z0 = std::size_t(u(rng) * double(g.size[2] - 4));
    const auto v = std::uint8_t(blockLabel(rng));
    for (std::size_t z = z0; z < z0 + 4; ++z)
      for (std::size_t y = y0; y < y0 + 4; ++y)
        for (std::size_t x = x0; x < x0 + 4; ++x) p[(z * g.size[1] + y) * g.size[0] + x] = v;
  }
  io::WriteOptions w;
  w.overwrite = true;
  io::writeVolume(gt, (folder / testing::strf("ref%02d.nii.gz", k)).string(), w);
  io::writeVolume(pred, (folder / testing::strf("pred%02d.nii.gz", k)).string(), w);
}

} // namespace

int main(int argc, char** argv) {
  return bench::runMain("voxsegBenchPostprocessingSearch", __FILE__, [&] {
    const bench::Args args(argc, argv, {"--cases", "--volume", "--threads", "--folder"});
    const int n = args.getInt("--cases", 10);
    const auto shape = args.getShape("--volume", "160x256x256");
    const bool own = !args.has("--folder");
    const fs::path folder = own ? fs::temp_directory_path() / ("voxseg-bench-pps-" + std::to_string(::getpid()))
                                : fs::path(args.get("--folder"));
    fs::create_directories(folder);
    std::vector<evaluation::PostprocessingSearchCase> cases;
    const double tWrite = bench::secondsOf([&] {
      for (int k = 0; k < n; ++k) {
        writeCase(folder, k, shape);
        cases.push_back({(folder / testing::strf("pred%02d.nii.gz", k)).string(),
                         (folder / testing::strf("ref%02d.nii.gz", k)).string()});
      }
    });
    evaluation::PostprocessingSearchOptions o;
    o.keys = {"1", "2", "3"};
    o.targets = {{1}, {2}, {3}};
    o.foregroundLabels = {1, 2, 3};
    o.threads = args.getInt("--threads", 2);
    evaluation::PostprocessingSearch held, reread;
    o.cacheBytes = 1; // nothing fits: every case read for each step
    const double tReread = bench::secondsOf([&] { reread = evaluation::determineNnUNetPostprocessing(cases, o); });
    o.cacheBytes = 0; // a quarter of the machine's memory
    const double tHeld = bench::secondsOf([&] { held = evaluation::determineNnUNetPostprocessing(cases, o); });
    if (own) fs::remove_all(folder);
    const double mb = double(shape[0] * shape[1] * shape[2]) * 4 * n / 1e6;
    std::cout << n << " cases of " << shape[0] << "x" << shape[1] << "x" << shape[2] << " (z y x) written in "
              << testing::strf("%.2f", tWrite) << " s; " << held.log.size() << " steps tried, " << held.steps.size()
              << " kept; " << o.threads << " thread(s)\n"
              << "mode                seconds  cases held  memory held\n"
              << testing::strf("read for each step  %7.2f  %10zu  %8.0f MB\n", tReread, reread.casesHeld, 0.0)
              << testing::strf("held in memory      %7.2f  %10zu  %8.0f MB\n", tHeld, held.casesHeld,
                               mb * double(held.casesHeld) / n)
              << testing::strf("speed-up            %6.2fx\n", tReread / tHeld);
    if (held.json != reread.json) {
      std::cerr << "the two searches wrote different postprocessing.json files\n";
      return 1;
    }
    return 0;
  });
}
