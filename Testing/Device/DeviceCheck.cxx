// CUDA against CPU on the fixture networks: fp32 within 1e-4 (relative to the largest output), and
// float16/bfloat16 autocast within 1e-2 with the same argmax on >= 99.9% of voxels.
//   voxsegDeviceCheck <data folder> [--device cuda] [--threads N]
// The data folder holds monai/{cases.json, net_*.pt, img_*.npy} and nnunet/{network_fold0.pt, phantom*.npy}.
#include "voxseg/inference/SlidingWindow.h"
#include "voxseg/testing/Npy.h"
#include "voxseg/testing/Strf.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

using namespace voxseg;
using namespace voxseg::inference;

namespace {

using voxseg::testing::strf;

struct Case {
  std::string name, network;
  bool native = false; ///< network is an nnU-Net model folder, rebuilt natively from fold 0 (voxseg segment --nnunet)
  std::vector<float> input;
  Shape3 shape;
  EngineOptions options;
};

std::vector<float> run(const Network& net, const Case& c, const std::string& precision, double& seconds,
                       RunStats& stats) {
  InputVolume in;
  in.zyx = c.shape;
  in.channels = {c.input.data()};
  EngineOptions o = c.options;
  o.precision = precision;
  LogitCollector out;
  const auto t0 = std::chrono::steady_clock::now();
  stats = slidingWindow({&net}, in, AxisOrder::ZYX, o, out);
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out.logits;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: voxsegDeviceCheck <data folder> [--device cuda] [--threads N]\n";
    return 2;
  }
  const std::string data = argv[1];
  std::string device = "cuda";
  int threads = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--device") device = argv[i + 1];
    if (std::string(argv[i]) == "--threads") threads = std::stoi(argv[i + 1]);
  }
  std::cout << std::unitbuf; // every row reaches the file even when `timeout` stops the program
  setThreads(threads);
  if (!cudaAvailable()) std::cerr << "warning: no CUDA device visible; comparing " << device << " with cpu\n";

  std::vector<Case> cases;
  std::ifstream casesFile(data + "/monai/cases.json");
  if (!casesFile) {
    std::cout << "parity: " << data << "/monai/cases.json cannot be read (run Testing/Device/prepare.sh and carry "
              << data << ")\n";
    return 1;
  }
  const auto j = nlohmann::json::parse(casesFile);
  for (const auto& c : j["cases"]) {
    Case k;
    k.name = c["id"];
    k.network = data + "/monai/" + c["network"].get<std::string>();
    const auto img = voxseg::testing::readNpy(data + "/monai/" + c["input"].get<std::string>());
    k.input = img.data;
    k.shape = {img.shape[2], img.shape[3], img.shape[4]};
    const auto& p = c["params"];
    for (int a = 0; a < 3; ++a) k.options.patch[std::size_t(a)] = p["roi_size"][a];
    k.options.tiling.rule = Tiling::Rule::Monai;
    k.options.tiling.overlap = p["overlap"];
    k.options.importance.type =
        p["mode"] == "gaussian" ? ImportanceMap::Type::GaussianMonai : ImportanceMap::Type::Constant;
    k.options.importance.sigmaScale = p["sigma_scale"];
    k.options.swBatch = p["sw_batch_size"];
    cases.push_back(k);
  }
  // The same phantoms through the natively rebuilt nnU-Net network (the path `voxseg segment --nnunet` takes),
  // float32 accumulators.
  for (const char* phantom : {"phantomA", "phantomB", "phantomC"})
    for (bool mirror : {false, true}) {
      Case k;
      k.name = std::string("nnunet_native_") + phantom + (mirror ? "_mirror" : "");
      k.network = data + "/nnunet/nnUNetTrainer__nnUNetPlans__3d_fullres";
      k.native = true;
      const auto pre = voxseg::testing::readNpy(data + "/nnunet/" + phantom + ".npy");
      k.input = pre.data;
      k.shape = {pre.shape[1], pre.shape[2], pre.shape[3]};
      k.options.patch = {20, 48, 48};
      k.options.importance.type = ImportanceMap::Type::GaussianNnUNet;
      if (mirror) k.options.mirrorAxes = {0, 1, 2};
      cases.push_back(k);
    }
  // nnU-Net accumulates in float16 ("acc16", its own numerics, which CPU and GPU round differently where
  // the Gaussian weights are float16 subnormals); "acc32" runs the same network with float32 accumulators.
  for (const char* phantom : {"phantomA", "phantomB", "phantomC"})
    for (bool mirror : {false, true})
      for (bool half : {true, false}) {
        Case k;
        k.name = std::string("nnunet_") + phantom + (mirror ? "_mirror" : "") + (half ? "_acc16" : "_acc32");
        k.network = data + "/nnunet/network_fold0.pt";
        const auto pre = voxseg::testing::readNpy(data + "/nnunet/" + phantom + ".npy");
        k.input = pre.data;
        k.shape = {pre.shape[1], pre.shape[2], pre.shape[3]};
        k.options.patch = {20, 48, 48};
        k.options.importance.type = ImportanceMap::Type::GaussianNnUNet;
        k.options.halfAccumulation = half;
        if (mirror) k.options.mirrorAxes = {0, 1, 2};
        cases.push_back(k);
      }

  std::map<std::string, std::unique_ptr<Network>> cpuNets, gpuNets;
  int passed = 0, failed = 0;
  std::int64_t slabs = 0, staged = 0; // device runs: slabs copied on the copy stream (SlabTransfer)
  std::cout << strf("%-62s %-9s %11s %10s %9s %9s  %s\n", "case", "precision", "rel. diff", "argmax ok", "cpu s",
                    "device s", "result");
  for (const auto& c : cases) try { // a case that throws is a failed case; the others still run
      if (!cpuNets.count(c.network)) {
        const auto load = [&](const std::string& dev) {
          return std::make_unique<Network>(c.native ? Network::loadNnUNetFold(c.network, 0, "final", DeviceSpec{dev})
                                                    : Network::loadTorchScript(c.network, DeviceSpec{dev}));
        };
        cpuNets[c.network] = load("cpu");
        gpuNets[c.network] = load(device);
      }
      double cpuSeconds = 0;
      RunStats st;
      const auto ref = run(*cpuNets[c.network], c, "float32", cpuSeconds, st);
      const std::size_t n = ref.size();
      const std::size_t k = c.name.rfind("nnunet", 0) == 0 ? 3 : (c.name.rfind("segresnet", 0) == 0 ? 2 : 3);
      const std::size_t voxels = n / k;
      double maxRef = 0;
      for (float v : ref) maxRef = std::max(maxRef, double(std::fabs(v)));
      for (const std::string precision : {"float32", "float16", "bfloat16"}) {
        double s = 0;
        const auto got = run(*gpuNets[c.network], c, precision, s, st);
        slabs += st.slabs;
        staged += st.overlappedSlabs;
        double d = 0;
        for (std::size_t i = 0; i < n; ++i) d = std::max(d, double(std::fabs(got[i] - ref[i])));
        std::size_t same = 0;
        for (std::size_t v = 0; v < voxels; ++v) {
          std::size_t a = 0, b = 0;
          for (std::size_t ch = 1; ch < k; ++ch) {
            if (ref[ch * voxels + v] > ref[a * voxels + v]) a = ch;
            if (got[ch * voxels + v] > got[b * voxels + v]) b = ch;
          }
          same += a == b;
        }
        const double rel = d / std::max(maxRef, 1e-12), agree = double(same) / double(voxels);
        const bool reduced = precision != "float32" || c.options.halfAccumulation; // float16/bfloat16 somewhere
        const bool ok = reduced ? (rel <= 1e-2 && agree >= 0.999) : rel <= 1e-4;
        (ok ? passed : failed)++;
        std::cout << strf("%-62s %-9s %11.2e %9.3f%% %9.3f %9.3f  %s\n", c.name.c_str(), precision.c_str(), rel,
                          100.0 * agree, cpuSeconds, s, ok ? "ok" : "FAIL");
      }
    } catch (const std::exception& e) {
      ++failed;
      std::string what = e.what();
      what = what.substr(0, what.find('\n'));
      std::cout << strf("%-62s %-9s FAIL (%s)\n", c.name.c_str(), "-", what.c_str());
    }
  std::cout << strf("parity: %d passed, %d failed (%lld of %lld slabs staged on the copy stream)\n", passed, failed,
                    (long long)staged, (long long)slabs);
  return failed == 0 ? 0 : 1;
}
