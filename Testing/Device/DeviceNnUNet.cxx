// `voxseg segment`'s nnU-Net path on an in-memory volume, for the GPU machine, whose build has no ITK and
// so no `voxseg segment` (issue [9]: the large volume end to end against nnU-Net's predictor). The
// trained-model folder is loaded as the command loads it (loadNnUNetModel); the synthetic volume is cropped
// to its non-zero box (nonzeroBox, crop) and handed to predictCropped, which segmentNnUNet calls too:
// normalization, resampling to the configuration's spacing, the sliding window with nnU-Net's settings
// (Gaussian, float16 accumulators), the export to labels on the host. Not here: reading and writing
// files and the ITK image copies around them. nnunet_reference.py runs nnU-Net's own predictor on the
// same array (run.sh's nnunet step) and compares the labels written by --labels-out (uint8, z y x).
//   voxsegDeviceNnUNet --folder F --volume 600x512x512 [--device cuda] [--precision float16] [--reps 2]
//       [--tta 0] [--step 0.5] [--threads N] [--cudnn-benchmark 0] [--labels-out F] [--scale 1 --offset 0]
//       [--device-labels 1]
// --device-labels 0 makes the labels on the host (the export before 2026-11-28); 2 on the CPU too.
// --scale/--offset map the volume's values (about -2.5..2.5) to another range, in float: e.g. to a CT model's.
// Every run is timed from the array to the labels; the first includes the one-time costs (cuDNN, LibTorch).
#include "BenchSupport.h"
#include "NnUNetPredict.h"
#include "Synthetic.h"
#include "voxseg/core/Memory.h"
#include "voxseg/testing/Strf.h"

#include <torch/cuda.h>

#include <array>
#include <fstream>
#include <iostream>

using namespace voxseg;
using voxseg::testing::strf;

int run(int argc, char** argv) {
  const bench::Args args(argc, argv,
                         {"--folder", "--volume", "--device", "--precision", "--reps", "--tta", "--step", "--threads",
                          "--cudnn-benchmark", "--labels-out", "--scale", "--offset", "--device-labels"},
                         {});
  const std::string folder = args.get("--folder"), device = args.get("--device", "cuda"),
                    precision = args.get("--precision", "float16"), labelsOut = args.get("--labels-out");
  if (folder.empty()) throw std::runtime_error("--folder is required");
  const processing::Shape3 shape = args.getShape("--volume", "600x512x512");
  const int reps = args.getInt("--reps", 2);
  pipeline::NnUNetRunSettings settings;
  settings.precision = precision;
  settings.cudnnBenchmark = args.getInt("--cudnn-benchmark", 0) != 0;
  const int deviceLabels = args.getInt("--device-labels", 1);
  settings.deviceLabels = deviceLabels == 0   ? inference::DeviceLabels::Off
                          : deviceLabels == 2 ? inference::DeviceLabels::Always
                                              : inference::DeviceLabels::Device;
  std::cout << std::unitbuf;

  pipeline::NnUNetOptions options;
  options.folder = folder;
  options.folds = {0}; // the fold nnU-Net's predictor runs in the comparison
  options.step = args.getDouble("--step", 0.5);
  options.tta = args.getInt("--tta", 0) != 0;
  const pipeline::NnUNetModel model =
      pipeline::loadNnUNetModel(options, inference::DeviceSpec{device}, args.getInt("--threads", 0));
  // What segmentNnUNet does around predictCropped and this program does not: several channels, the mask for
  // normalization (ITK fills its holes), transpose_forward, labels above 255.
  if (model.dataset["channel_names"].size() != 1 || model.configuration["use_mask_for_norm"][0].get<bool>() ||
      model.transposeForward != std::array<int, 3>{0, 1, 2} || model.maxLabel > 255)
    throw std::runtime_error(folder + ": this program takes one channel without use_mask_for_norm, no "
                                      "transpose_forward and labels up to 255 only");
  const bool cuda = device.rfind("cuda", 0) == 0;
  std::vector<float> volume = device::syntheticVolume(shape);
  const auto scale = float(args.getDouble("--scale", 1.0)), offset = float(args.getDouble("--offset", 0.0));
  for (float& v : volume) v = v * scale + offset;
  std::cout << strf("nnU-Net folder %s, volume %lldx%lldx%lld, device %s, LibTorch %s, precision %s, tta %d, "
                    "step %.2f, cudnn benchmark %d\n",
                    folder.c_str(), (long long)shape[0], (long long)shape[1], (long long)shape[2], device.c_str(),
                    inference::torchVersion().c_str(), precision.c_str(), int(options.tta), options.step,
                    int(settings.cudnnBenchmark));
  std::cout << strf("%-13s %4s %8s %6s %10s %8s %7s %7s %8s %7s\n", "run", "rep", "seconds", "crop", "preprocess",
                    "engine", "windows", "upload", "consume", "labels");
  std::vector<std::uint8_t> labels;
  for (int rep = 0; rep <= reps; ++rep) {
    labels.assign(volume.size(), 0);
    double cropSeconds = 0, predictSeconds = 0;
    pipeline::NnUNetPrediction p;
    const double total = bench::secondsOf([&] {
      pipeline::NnUNetCropped in;
      cropSeconds = bench::secondsOf([&] {
        in.box = processing::nonzeroBox({volume.data()}, shape);
        in.channels.push_back(processing::crop(volume.data(), shape, in.box));
      });
      const auto storage = [&] {
        pipeline::LabelBuffer out;
        out.u8 = labels.data();
        return out;
      };
      predictSeconds = bench::secondsOf([&] {
        p = pipeline::predictCropped(model, std::move(in), shape, {1.0, 1.0, 1.0}, "synthetic", settings, storage);
        if (cuda) torch::cuda::synchronize();
      });
    });
    std::cout << strf("%-13s %4d %8.2f %6.2f %10.2f %8.2f %7lld %7.2f %8.2f %7s\n", "voxseg-nnunet", rep, total,
                      cropSeconds, predictSeconds - p.stats.seconds, p.stats.seconds, (long long)p.stats.windows,
                      p.stats.uploadSeconds, p.stats.consumeSeconds,
                      p.stats.deviceLabelSlabs == 0               ? "host"
                      : p.stats.deviceLabelSlabs == p.stats.slabs ? "device"
                                                                  : "mixed");
  }
  if (!labelsOut.empty())
    std::ofstream(labelsOut, std::ios::binary)
        .write(reinterpret_cast<const char*>(labels.data()), std::streamsize(labels.size()));
  return 0;
}

int main(int argc, char** argv) {
  voxseg::tuneHeapForInference(); // as the voxseg command does: large buffers reused, not mapped and unmapped
  return bench::runMain("voxsegDeviceNnUNet", "Testing/Device/DeviceNnUNet.cxx", [&] { return run(argc, argv); });
}
