#include "Batches.h"
#include "Loss.h"
#include "Prepare.h"
#include "ResumeState.h"
#include "Splits.h"
#include "UNet.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/JsonText.h"
#include "voxseg/core/Log.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/training/Train.h"

#include <ATen/autocast_mode.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace fs = std::filesystem;

namespace voxseg::training {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

torch::Device pickDevice(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available()) throw usageError("--device " + name + ": CUDA is not available");
    return torch::Device(name);
  }
  throw usageError("--device '" + name + "': expected auto, cpu, cuda or cuda:N");
}

Regions regionValues(const RawDataset& ds) {
  Regions r;
  for (const auto& [name, values] : ds.regions) r.push_back(values);
  return r;
}

// The model folder's dataset.json, in the raw dataset's label order (a region-based dataset's regions pair with
// regions_class_order in it).
nlohmann::ordered_json datasetJson(const RawDataset& ds) {
  nlohmann::ordered_json dataset = {{"channel_names", nlohmann::ordered_json::object()},
                                    {"labels", nlohmann::ordered_json::object()}};
  for (std::size_t c = 0; c < ds.channelNames.size(); ++c)
    dataset["channel_names"][std::to_string(c)] = ds.channelNames[c];
  for (const NnUNetLabelEntry& e : ds.listedEntries) // as the raw dataset lists them ([3, 2] stays [3, 2], [3] a list)
    dataset["labels"][e.name] = e.listed ? nlohmann::ordered_json(e.values) : nlohmann::ordered_json(e.values.front());
  if (ds.regionBased()) dataset["regions_class_order"] = ds.regionsClassOrder;
  dataset["numTraining"] = ds.cases.size();
  dataset["file_ending"] = ds.fileEnding;
  dataset["name"] = ds.name;
  return dataset;
}

// Where --fold's cases come from, as messages name it.
std::string splitSource(const TrainOptions& o) {
  return o.splits.empty() ? std::string("nnU-Net's 5-fold split") : o.splits;
}

// --fold's cases: nnU-Net's default 5-fold split of the sorted case ids, or fold K of --splits; every id there must
// be a case of the dataset.
Fold selectFold(const RawDataset& ds, const TrainOptions& o) {
  std::vector<std::string> ids;
  for (const auto& c : ds.cases) ids.push_back(c.id);
  const std::vector<Fold> folds = o.splits.empty() ? nnunetFolds(ids) : readSplits(o.splits);
  const std::string source = splitSource(o);
  const int k = *o.fold;
  if (std::size_t(k) >= folds.size())
    throw usageError("--fold " + std::to_string(k) + ": " + source + " has folds 0.." +
                     std::to_string(folds.size() - 1));
  const Fold& f = folds[std::size_t(k)];
  for (const auto* list : {&f.train, &f.val})
    for (const auto& id : *list)
      if (!std::binary_search(ids.begin(), ids.end(), id))
        throw inputError(source, "fold " + std::to_string(k) + " names case '" + id + "', which " + ds.folder +
                                     " does not have");
  if (f.train.empty()) throw inputError(source, "fold " + std::to_string(k) + " has no training case");
  for (const auto& id : f.val) // its validation would score a case the fold trained on
    if (std::find(f.train.begin(), f.train.end(), id) != f.train.end())
      throw inputError(source,
                       "fold " + std::to_string(k) + " lists case '" + id + "' both to train on and to validate on");
  return f;
}

// nnU-Net checkpoint: a pickled dict with network_weights (name -> tensor), trainer name, mirroring, and init_args'
// fold as nnU-Net writes it (the number, or "all").
void writeCheckpoint(UNet& net, const std::string& path, int fold, bool overwrite) {
  // nnU-Net's modules register each conv/norm twice (".all_modules.0/1") and the decoder keeps the
  // encoder (".decoder.encoder."): PyTorch's strict load_state_dict wants those names too.
  c10::Dict<std::string, at::Tensor> weights;
  auto alias = [](std::string name) {
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{".conv.", ".all_modules.0."}, {".norm.", ".all_modules.1."}}) {
      const auto at = name.rfind(from);
      if (at != std::string::npos && name.find(".convs.") != std::string::npos)
        return name.replace(at, from.size(), to);
    }
    return std::string();
  };
  for (const auto& p : net->named_parameters()) {
    const auto t = p.value().detach().to(torch::kCPU).contiguous();
    std::vector<std::string> names{p.key()};
    if (const auto a = alias(p.key()); !a.empty()) names.push_back(a);
    if (p.key().rfind("encoder.", 0) == 0)
      for (std::size_t i = 0, n = names.size(); i < n; ++i) names.push_back("decoder." + names[i]);
    for (const auto& name : names) weights.insert(name, t);
  }
  c10::impl::GenericDict cp(c10::StringType::get(), c10::AnyType::get());
  cp.insert("network_weights", weights);
  // nnU-Net's predictor rebuilds the network with its default trainer from plans.json (the same
  // PlainConvUNet), so the checkpoint names that trainer and the configuration as nnU-Net does.
  cp.insert("trainer_name", std::string("nnUNetTrainer"));
  c10::impl::GenericDict init(c10::StringType::get(), c10::AnyType::get());
  init.insert("configuration", std::string("3d_fullres"));
  if (fold == kFoldAll)
    init.insert("fold", std::string("all"));
  else
    init.insert("fold", std::int64_t(fold));
  cp.insert("init_args", init);
  cp.insert("inference_allowed_mirroring_axes", c10::List<std::int64_t>({0, 1, 2}));
  const std::vector<char> bytes = torch::pickle_save(cp);
  io::writeFileAtomically(path, std::string(bytes.begin(), bytes.end()), overwrite);
}

// Dice per foreground class (argmax), or per region (sigmoid > 0.5), on validation patches; voxels of the ignore
// label are left out.
std::vector<double> validate(UNet& net, const std::vector<PreparedCase>& cases, const std::vector<std::size_t>& pool,
                             const Plan& plan, const RawDataset& ds, torch::Device device, std::uint64_t seed) {
  torch::NoGradGuard noGrad;
  std::mt19937_64 rng(seed); // the same patches at every validation
  const Regions regions = regionValues(ds);
  const int first = regions.empty() ? 1 : 0, classes = plan.network.classes; // the background has no Dice
  std::vector<double> tp(classes, 0), fp(classes, 0), fn(classes, 0);
  for (std::size_t k = 0; k < pool.size(); ++k)
    for (int rep = 0; rep < 4; ++rep) {
      Batch b = sampleBatch(cases, {pool[k]}, plan.network.inputChannels, plan.patch, 1, rep < 2 ? 1.0 : 0.0, rng);
      const auto logits = net->forward(b.data.to(device)).front().to(torch::kCPU);
      const auto annotated = b.labels != ds.ignoreLabel;
      const auto truth = regions.empty() ? torch::Tensor() : regionMasks(b.labels, regions);
      const auto argmax = regions.empty() ? logits.argmax(1) : torch::Tensor();
      for (int c = first; c < classes; ++c) {
        const auto p = (regions.empty() ? argmax == c : logits.select(1, c) > 0) & annotated;
        const auto t = regions.empty() ? b.labels == c : truth.select(1, c);
        tp[c] += double((p & t).sum().item<std::int64_t>());
        fp[c] += double((p & ~t).sum().item<std::int64_t>());
        fn[c] += double((~p & t).sum().item<std::int64_t>());
      }
    }
  std::vector<double> dice;
  for (int c = first; c < classes; ++c)
    dice.push_back(tp[c] + fp[c] + fn[c] > 0 ? 2 * tp[c] / (2 * tp[c] + fp[c] + fn[c]) : std::nan(""));
  return dice;
}

} // namespace

namespace {

// Every option a run depends on, before anything is read or made (usage errors, exit 2).
void checkOptions(const TrainOptions& o) {
  if (o.epochs < 1 || o.iterationsPerEpoch < 1 || o.batch < 1)
    throw usageError("--epochs, --iterations and --batch must be >= 1");
  if (!o.splits.empty() && (!o.fold || *o.fold == kFoldAll))
    throw usageError("--splits needs --fold K: which of its folds to train");
  if (o.fold && *o.fold < 0 && *o.fold != kFoldAll)
    throw usageError("--fold " + std::to_string(*o.fold) + ": a fold number (0, 1, ...) or all");
  if (o.optimizer != "sgd" && o.optimizer != "adamw")
    throw usageError("--optimizer '" + o.optimizer + "': sgd or adamw");
  if (!(o.foregroundFraction >= 0 && o.foregroundFraction <= 1)) throw usageError("--foreground must be within [0, 1]");
  if (o.output.empty()) throw usageError("give the model folder (-o)");
  if (o.baseFeatures < 1 || o.maxFeatures < o.baseFeatures)
    throw usageError("--features must be >= 1 and --max-features at least --features (" +
                     std::to_string(o.baseFeatures) + ", " + std::to_string(o.maxFeatures) + ")");
  if (o.maxStages < 2) throw usageError("--max-stages must be >= 2 (a U-Net has an encoder and a decoder)");
  if (!(o.learningRate >= 0) || !std::isfinite(o.learningRate))
    throw usageError("--lr must be above 0 (or left out for the optimizer's default)");
  if (!(o.weightDecay >= 0) || !std::isfinite(o.weightDecay)) throw usageError("--weight-decay must be >= 0");
  if (!(o.validationFraction >= 0 && o.validationFraction < 1))
    throw usageError("--val-fraction must be within [0, 1)");
  if (o.validateEvery < 1 || o.checkpointEvery < 1)
    throw usageError("--validate-every and --checkpoint-every must be >= 1");
  if (o.maxPatchVoxels < 512) throw usageError("--max-patch-voxels must be >= 512 (8 x 8 x 8)");
  if (o.patch.size() == 3 && *std::max_element(o.patch.begin(), o.patch.end()) < 8)
    throw usageError("--patch: at least one axis of 8 voxels or more is needed for a second resolution stage");
}

// The network a run trains, as a resume must find it again.
nlohmann::json networkSignature(const Plan& plan) {
  const auto& n = plan.network;
  return {{"patch", plan.patch},
          {"features", n.features},
          {"strides", n.strides},
          {"classes", n.classes},
          {"input_channels", n.inputChannels},
          {"spacing", plan.spacing}};
}

// The ids of cases[indices], sorted (what state.json keeps of the held-out cases).
nlohmann::json caseIds(const std::vector<PreparedCase>& cases, const std::vector<std::size_t>& indices) {
  std::vector<std::string> ids;
  for (std::size_t i : indices) ids.push_back(cases[i].id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// A resumed run's held-out cases against those it was started with (state.json's "validation_cases").
void checkHeldOut(const nlohmann::json& state, const nlohmann::json& now, const std::string& stateJson,
                  const std::string& output) {
  if (!state.contains("validation_cases")) {
    logWarning(stateJson + ": written before 2026-11-28 without the held-out cases: not checked that this run holds "
                           "out the same ones");
    return;
  }
  const nlohmann::json& before = state.at("validation_cases");
  if (!before.is_array() || !std::all_of(before.begin(), before.end(), [](const auto& v) { return v.is_string(); }))
    throw inputError(stateJson, "\"validation_cases\" is not a list of case ids");
  if (before == now) return;
  const auto firstMissing = [](const nlohmann::json& a, const nlohmann::json& b) { // an id of a that b lacks
    for (const auto& id : a)
      if (std::find(b.begin(), b.end(), id) == b.end()) return id.get<std::string>();
    return std::string();
  };
  const std::string gone = firstMissing(before, now), added = firstMissing(now, before);
  throw usageError("--resume: the run in " + output + " validated on " + std::to_string(before.size()) +
                   " held-out case(s), these options on " + std::to_string(now.size()) + " (" +
                   (!added.empty()  ? added + " is among them now, not then"
                    : !gone.empty() ? gone + " was among them, not now"
                                    : "the same ids, listed otherwise") +
                   "); resume with the options it was started with (--val-fraction, --fold, --splits)");
}

} // namespace

TrainSummary train(const TrainOptions& o, const std::function<void(const EpochReport&)>& progress) {
  checkOptions(o);
  const RawDataset ds = readRawDataset(o.dataset);
  // --fold K: nnU-Net's cross-validation fold (or the --splits file's), trained into fold_K beside the other folds;
  // --fold all: every case, into fold_all. plans.json and dataset.json are shared and must come out the same for
  // every fold
  const bool crossValidation = o.fold && *o.fold >= 0, allFold = o.fold == kFoldAll;
  const Fold split = crossValidation ? selectFold(ds, o) : Fold{};
  const std::string foldName = allFold ? "fold_all" : "fold_" + std::to_string(crossValidation ? *o.fold : 0);
  const fs::path out(o.output), fold = out / foldName, state = o.fold ? out / "training" / foldName : out / "training";
  const std::vector<std::string> finals{(out / "plans.json").string(), (out / "dataset.json").string(),
                                        (fold / "checkpoint_final.pth").string(), (fold / "progress.json").string()};
  io::MadeFolders folders; // a refused or failed run leaves no folder it made
  folders.make(fold.string(), "the model folder");
  folders.make(state.string(), "the model folder");
  for (std::size_t i = o.fold ? 2 : 0; i < finals.size(); ++i)
    io::AtomicOutput probe(finals[i], o.force || o.resume); // before any work
  const std::string stateJson = (state / "state.json").string();
  if (std::error_code ec; !o.force && !o.resume && fs::exists(stateJson, ec)) // an interrupted run's resume point
    throw Error(ExitCode::Output, stateJson +
                                      ": the resume point of an earlier run in this folder: --resume continues it, "
                                      "--force starts over");

  if (o.threads > 0) torch::set_num_threads(o.threads);
  torch::manual_seed(o.seed);
  const torch::Device device = pickDevice(o.device);
  Plan plan;
  const auto t0 = Clock::now();
  const std::vector<PreparedCase> cases = prepare(ds, o, plan);
  const nlohmann::json plans = plansJson(ds, plan, o); // plans.json; kept in the resume state too
  const nlohmann::ordered_json dataset = datasetJson(ds);
  if (o.fold) {                      // the other folds' plans.json and dataset.json must stay theirs
    std::vector<std::string> others; // folds trained with the files there now
    std::error_code ec;
    for (fs::directory_iterator it(out, ec), end; !ec && it != end; it.increment(ec))
      if (std::error_code stat; it->path().filename().string().rfind("fold_", 0) == 0 && it->path() != fold &&
                                fs::exists(it->path() / "checkpoint_final.pth", stat))
        others.push_back(it->path().filename().string());
    std::sort(others.begin(), others.end());
    for (const auto& [path, now] : {std::pair<std::string, nlohmann::json>{finals[0], plans},
                                    {finals[1], nlohmann::json::parse(jsonText(dataset))}}) {
      std::ifstream in(path);
      if (!in) continue;
      const auto before = nlohmann::json::parse(in, nullptr, false);
      if (before == now || (o.force && others.empty())) continue;
      const std::string what =
          path + " holds what another run wrote (" +
          (before.is_discarded() ? std::string("not valid JSON")
                                 : nlohmann::json::diff(before, now).front().value("path", "?") + " differs") +
          ")";
      if (!o.force)
        throw usageError(what + ": train every fold on the same dataset with the same options, or --force to replace "
                                "it");
      std::string list;
      for (const auto& f : others) list += (list.empty() ? "" : ", ") + f;
      throw usageError(what + ", and " + list + " of this folder were trained with it: --force would leave " +
                       (others.size() > 1 ? "them" : "it") +
                       " beside files of other options (segment -m averages every fold); train into another folder, "
                       "or remove " +
                       (others.size() > 1 ? "them" : "it") + " first");
    }
  }
  {
    std::ostringstream m;
    m.precision(1);
    m << cases.size() << " cases prepared in " << std::fixed << std::chrono::duration<double>(Clock::now() - t0).count()
      << " s: ";
    m.unsetf(std::ios::floatfield);
    m.precision(6);
    m << "spacing " << plan.spacing[0] << " x " << plan.spacing[1] << " x " << plan.spacing[2]
      << " mm (z, y, x), patch " << plan.patch[0] << " x " << plan.patch[1] << " x " << plan.patch[2] << ", "
      << plan.network.features.size() << " stages";
    logInfo(m.str());
  }
  if (ds.ignoreLabel >= 0) {
    double ignored = 0, voxels = 0;
    for (const auto& c : cases) {
      voxels += double(c.labels.size());
      ignored += double(std::count(c.labels.begin(), c.labels.end(), std::uint8_t(ds.ignoreLabel)));
    }
    char share[32];
    std::snprintf(share, sizeof share, "%.1f%%", voxels > 0 ? 100.0 * ignored / voxels : 0.0);
    logInfo("ignore label " + std::to_string(ds.ignoreLabel) + " (sparse annotations): " + share +
            " of the training voxels are not annotated and leave the loss; the network has " +
            std::to_string(plan.network.classes) + " outputs");
  }
  if (ds.regionBased()) {
    std::string names;
    for (const auto& [name, values] : ds.regions) names += (names.empty() ? "" : ", ") + name;
    logInfo("region-based: " + std::to_string(ds.regions.size()) + " regions (" + names +
            "), one sigmoid output each, trained with binary cross-entropy and Dice as nnU-Net does");
  }
  if (plan.network.features.size() < 2)
    throw usageError("patch " + std::to_string(plan.patch[0]) + "x" + std::to_string(plan.patch[1]) + "x" +
                     std::to_string(plan.patch[2]) +
                     " allows one resolution stage only; a U-Net needs an axis of 8 voxels or more (--patch)");

  // cases held out for validation (the last ones after a seeded shuffle); a single case, or --val-fraction 0 (every
  // case trains, as nnU-Net's "all" fold), validates on the training cases
  std::vector<std::size_t> order(cases.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(o.seed);
  std::shuffle(order.begin(), order.end(), rng);
  std::size_t held =
      cases.size() < 2 || o.validationFraction == 0 || allFold
          ? 0
          : std::max<std::size_t>(1, std::size_t(std::lround(o.validationFraction * double(cases.size()))));
  held = std::min(held, cases.size() - 1);
  std::vector<std::size_t> trainPool(order.begin(), order.end() - std::ptrdiff_t(held));
  std::vector<std::size_t> valPool =
      held ? std::vector<std::size_t>(order.end() - std::ptrdiff_t(held), order.end()) : trainPool;
  if (crossValidation) { // the fold's cases (cases follow ds.cases, sorted by id)
    const auto indices = [&](const std::vector<std::string>& ids) {
      std::vector<std::size_t> r;
      for (const auto& id : ids)
        for (std::size_t i = 0; i < cases.size(); ++i)
          if (cases[i].id == id) r.push_back(i);
      return r;
    };
    trainPool = indices(split.train);
    valPool = split.val.empty() ? trainPool : indices(split.val);
    held = split.val.size();
  }
  std::string heldNames;
  for (std::size_t i = 0; i < held; ++i) heldNames += (i ? ", " : "") + cases[valPool[i]].id;
  logInfo((crossValidation
               ? foldName + " (" + splitSource(o) + "): " + std::to_string(trainPool.size()) + " training case(s); "
           : allFold ? "fold_all (nnU-Net's \"all\"): every case trains (" + std::to_string(trainPool.size()) + "); "
                     : std::string()) +
          (held ? "validation on " + std::to_string(held) + " held-out case(s), not trained on: " + heldNames
                : "validation on the training case(s): none held out"));

  UNet net(plan.network);
  net->to(device);
  std::int64_t parameters = 0;
  for (const auto& p : net->parameters()) parameters += p.numel();
  const double lr0 = o.learningRate > 0 ? o.learningRate : (o.optimizer == "sgd" ? 0.01 : 3e-4);
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (o.optimizer == "sgd")
    optimizer = std::make_unique<torch::optim::SGD>(
        net->parameters(), torch::optim::SGDOptions(lr0).momentum(0.99).nesterov(true).weight_decay(o.weightDecay));
  else
    optimizer = std::make_unique<torch::optim::AdamW>(net->parameters(),
                                                      torch::optim::AdamWOptions(lr0).weight_decay(o.weightDecay));
  TrainSummary summary;
  int firstEpoch = 0;
  // Iterations and their seconds of earlier sessions (up to the checkpoint resumed from): the reported rate
  // covers every epoch trained, also when a resume has none left to run.
  std::int64_t pastIterations = 0;
  double pastSeconds = 0;
  if (o.resume) {
    const nlohmann::json j = readResumeState(state);
    // the seed first: the plans' intensity statistics come from voxels sampled with it
    if (j.contains("seed") && j.at("seed").get<std::uint64_t>() != o.seed)
      throw usageError("--resume: the run in " + o.output + " was started with --seed " + j.at("seed").dump() +
                       ", not " + std::to_string(o.seed));
    if (j.contains("network") && j.at("network") != networkSignature(plan))
      throw usageError("--resume: these options give another network than the one in " + o.output +
                       " (checkpoint: " + j.at("network").dump() + "; now: " + networkSignature(plan).dump() +
                       "); resume with the options it was started with");
    // the run goes on as it started: the same plans (the dataset's intensity statistics, spacing, patch...) and seed
    if (j.contains("plans") && j.at("plans") != plans) {
      const auto d = nlohmann::json::diff(j.at("plans"), plans);
      throw usageError("--resume: this dataset and these options give other plans than the run in " + o.output +
                       " was started with (" + (d.empty() ? std::string("?") : d.front().value("path", "?")) +
                       " differs); resume on the dataset and with the options it was started with");
    }
    // the same cases held out: another --val-fraction, split or dataset would validate on cases it trained on
    checkHeldOut(j, caseIds(cases, valPool), stateJson, o.output);
    firstEpoch = j.at("epoch").get<int>();
    if (firstEpoch > o.epochs)
      throw usageError("--resume: the model folder has trained " + std::to_string(firstEpoch) +
                       " epochs, more than --epochs " + std::to_string(o.epochs));
    summary.losses = resumedLosses(j);
    summary.validation = resumedValidation(j);
    pastIterations = j.value("iterations", std::int64_t{0}); // absent in states written before 2026-11-27
    pastSeconds = j.value("train_seconds", 0.0);
    std::istringstream rs(j.at("rng").get<std::string>());
    rs >> rng;
    loadResumePoint(state, j, net, *optimizer, o.optimizer);
    net->to(device);
    logInfo("resuming after epoch " + std::to_string(firstEpoch) + " of " + std::to_string(o.epochs));
  }

  const Regions regions = regionValues(ds);
  const auto tTrain = Clock::now();
  std::int64_t iterations = 0;
  for (int epoch = firstEpoch; epoch < o.epochs; ++epoch) {
    const auto te = Clock::now();
    const double lr = lr0 * std::pow(1.0 - double(epoch) / double(o.epochs), 0.9);
    for (auto& group : optimizer->param_groups()) group.options().set_lr(lr);
    net->train();
    double lossSum = 0;
    for (int it = 0; it < o.iterationsPerEpoch; ++it) {
      Batch b =
          sampleBatch(cases, trainPool, plan.network.inputChannels, plan.patch, o.batch, o.foregroundFraction, rng);
      augment(b, o.augment, rng);
      optimizer->zero_grad();
      torch::Tensor loss;
      {
        // CUDA: float16 autocast for the forward pass (the loss in float32), as nnU-Net trains
        const bool autocast = o.mixedPrecision && device.is_cuda();
        if (autocast) at::autocast::set_enabled(true);
        auto outputs = net->forward(b.data.to(device));
        if (autocast) {
          at::autocast::set_enabled(false);
          at::autocast::clear_cache();
          for (auto& t : outputs) t = t.to(torch::kFloat);
        }
        loss = deepSupervisionLoss(outputs, b.labels.to(device), o.deepSupervision, ds.ignoreLabel, regions);
      }
      loss.backward();
      torch::nn::utils::clip_grad_norm_(net->parameters(), o.gradientClip);
      optimizer->step();
      lossSum += loss.item<double>();
      ++iterations;
    }
    EpochReport report;
    report.epoch = epoch + 1;
    report.epochs = o.epochs;
    report.loss = lossSum / o.iterationsPerEpoch;
    summary.losses.push_back(report.loss);
    if ((epoch + 1) % std::max(1, o.validateEvery) == 0 || epoch + 1 == o.epochs) {
      net->eval();
      report.validationDice = validate(net, cases, valPool, plan, ds, device, o.seed + 1);
      summary.validation.emplace_back(epoch + 1, report.validationDice);
    }
    report.seconds = std::chrono::duration<double>(Clock::now() - te).count();
    report.etaSeconds = report.seconds * (o.epochs - epoch - 1);
    if (progress) progress(report);
    // A resume point every checkpointEvery epochs and after the last one (a finished run can go on with more).
    if ((epoch + 1) % std::max(1, o.checkpointEvery) == 0 || epoch + 1 == o.epochs) {
      std::ostringstream rs;
      rs << rng;
      saveResumePoint(state, epoch + 1, net, *optimizer, o.optimizer,
                      {{"losses", summary.losses},
                       {"validation", summary.validation},
                       {"rng", rs.str()},
                       {"network", networkSignature(plan)},
                       {"plans", plans},
                       {"seed", o.seed},
                       {"validation_cases", caseIds(cases, valPool)},
                       {"iterations", pastIterations + iterations},
                       {"train_seconds", pastSeconds + secondsSince(tTrain)}});
      if (epoch + 1 < o.epochs)
        logInfo("checkpoint after epoch " + std::to_string(epoch + 1) + " in " + state.string() +
                " (--resume continues from there)");
    }
  }
  const double trainSeconds = pastSeconds + secondsSince(tTrain);
  summary.iterationsPerSecond = trainSeconds > 0 ? double(pastIterations + iterations) / trainSeconds : 0.0;

  // the model folder nnU-Net (and voxseg segment -m) reads; another fold's plans.json and dataset.json are the same
  const bool replace = o.force || o.resume || o.fold.has_value();
  io::writeFileAtomically(finals[0], jsonText(plans, 2) + "\n", replace);
  io::writeFileAtomically(finals[1], jsonText(dataset, 2) + "\n", replace);
  writeCheckpoint(net, finals[2], o.fold.value_or(0), o.force || o.resume);
  io::writeFileAtomically(
      finals[3],
      jsonText(nlohmann::json{{"losses", summary.losses},
                              {"validation_dice", summary.validation},
                              {"seed", o.seed},
                              {"iterations_per_second", summary.iterationsPerSecond > 0
                                                            ? nlohmann::json(summary.iterationsPerSecond)
                                                            : nlohmann::json(nullptr)}},
               2) +
          "\n",
      o.force || o.resume);
  folders.keep();
  summary.modelFolder = o.output;
  summary.foldFolder = fold.string();
  summary.fold = o.fold.value_or(0);
  for (std::size_t i : valPool) summary.validationCases.push_back(cases[i].id);
  std::sort(summary.validationCases.begin(), summary.validationCases.end());
  summary.patch = {int(plan.patch[0]), int(plan.patch[1]), int(plan.patch[2])};
  summary.spacing = {plan.spacing[0], plan.spacing[1], plan.spacing[2]};
  summary.stages = int(plan.network.features.size());
  summary.parameters = parameters;
  summary.device = device.str();
  return summary;
}

} // namespace voxseg::training
