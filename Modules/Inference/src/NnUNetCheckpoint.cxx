#include "NnUNetCheckpoint.h"

#include "Pickle.h"
#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"

#include <caffe2/serialize/inline_container.h>

#include <filesystem>
#include <map>

namespace voxseg::inference::nnunet {
namespace {

at::ScalarType storageType(const std::string& name) {
  static const std::map<std::string, at::ScalarType> types{
      {"FloatStorage", at::kFloat},   {"HalfStorage", at::kHalf}, {"BFloat16Storage", at::kBFloat16},
      {"DoubleStorage", at::kDouble}, {"LongStorage", at::kLong}, {"IntStorage", at::kInt},
      {"ShortStorage", at::kShort},   {"CharStorage", at::kChar}, {"ByteStorage", at::kByte},
      {"BoolStorage", at::kBool}};
  const auto it = types.find(name);
  if (it == types.end()) throw std::runtime_error("unsupported storage type " + name);
  return it->second;
}

} // namespace

Checkpoint readCheckpoint(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw Error(ExitCode::Model, path + ": no such checkpoint file");
  Checkpoint cp;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    const auto [pklData, pklSize] = reader.getRecord("data.pkl");
    const std::string pkl(static_cast<const char*>(pklData.get()), pklSize);
    const pickle::ValuePtr root = pickle::parse(pkl);
    if (!root->dict()) throw std::runtime_error("the pickled object is not a dict");
    for (const auto& [k, v] : *root->dict()) {
      const std::string key = k->str() ? *k->str() : "?";
      if (key == "network_weights") {
        if (!v->dict()) throw std::runtime_error("network_weights is not a dict");
        std::map<std::string, torch::Tensor> storages;
        for (const auto& [name, t] : *v->dict()) {
          const auto* ref = std::get_if<pickle::TensorRef>(&t->v);
          if (!name->str() || !ref) continue;
          torch::Tensor& storage = storages[ref->storage.key];
          if (!storage.defined()) {
            const auto [data, size] = reader.getRecord("data/" + ref->storage.key);
            const auto type = storageType(ref->storage.type);
            const std::int64_t n = std::int64_t(size) / std::int64_t(c10::elementSize(type));
            storage = torch::from_blob(data.get(), {n}, torch::TensorOptions().dtype(type)).clone();
          }
          cp.weights.emplace_back(*name->str(), storage.as_strided(ref->size, ref->stride, ref->offset).clone());
        }
      } else if (key == "inference_allowed_mirroring_axes" && !v->isNone()) {
        // a list or tuple of axes 0..2; anything else (numpy integers of a custom trainer...) is said, not taken
        // silently as "no mirroring"
        const auto* axes = v->list();
        std::vector<int> read;
        for (const auto& a : axes ? *axes : pickle::List{}) {
          const auto* i = std::get_if<std::int64_t>(&a->v);
          if (!i || *i < 0 || *i > 2) break;
          read.push_back(int(*i));
        }
        if (axes && read.size() == axes->size()) {
          cp.hasMirrorAxes = true;
          cp.mirrorAxes = read;
        } else {
          logWarning(path + ": inference_allowed_mirroring_axes is not a list of the axes 0, 1, 2 that voxseg can "
                            "read: test-time mirroring is off for this checkpoint");
        }
      } else if (key == "trainer_name" && v->str()) {
        cp.trainerName = *v->str();
      } else {
        cp.skipped.push_back(key);
      }
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    msg = msg.substr(0, msg.find('\n'));
    throw Error(ExitCode::Model, path + ": not a readable nnU-Net checkpoint (" + msg + ")");
  }
  if (cp.weights.empty()) throw Error(ExitCode::Model, path + ": checkpoint holds no network_weights");
  return cp;
}

} // namespace voxseg::inference::nnunet
