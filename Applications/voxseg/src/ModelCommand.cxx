#include "Commands.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/JsonText.h"
#include "voxseg/io/AtomicOutput.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <ostream>
#include <sstream>

namespace voxseg::cli {

int runModelPack(const ModelPackArgs& args) {
  io::AtomicOutput out(args.output, args.force);
  std::ifstream in(args.card);
  if (!in) throw Error(ExitCode::Model, args.card + ": cannot read the model card");
  std::stringstream text;
  text << in.rdbuf();
  const ModelCard card = parseModelCard(text.str(), args.card);
  // The card must fit the network before it is packed with it.
  const inference::Network net = inference::Network::loadTorchScript(args.network, inference::DeviceSpec{"cpu"});
  const auto shape =
      net.probeOutputShape(int(card.channels.size()), {card.patchSize[0], card.patchSize[1], card.patchSize[2]});
  if (shape.size() != 5 || shape[1] != card.outputChannels())
    throw Error(ExitCode::Model, args.network + ": the network gives " +
                                     std::to_string(shape.size() > 1 ? shape[1] : 0) + " output channels, the card " +
                                     args.card + " names " + std::to_string(card.outputChannels()));
  inference::Network::pack(args.network, modelCardToJson(card).dump(2), out.tempPath());
  out.commit();
  return 0;
}

int runModelInspect(const ModelInspectArgs& args, std::ostream& out) {
  const inference::Network net = inference::Network::loadTorchScript(args.model, inference::DeviceSpec{"cpu"});
  nlohmann::json j;
  j["model"] = args.model;
  j["torch"] = inference::torchVersion();
  if (!net.embeddedCard()) {
    j["card"] = nullptr;
    j["note"] = "no voxseg.json embedded: add one with 'voxseg model pack'";
  } else {
    const ModelCard card = parseModelCard(*net.embeddedCard(), args.model + " (embedded voxseg.json)");
    j["card"] = modelCardToJson(card);
    const std::vector<std::int64_t> input{1, std::int64_t(card.channels.size()), card.patchSize[0], card.patchSize[1],
                                          card.patchSize[2]};
    j["input_shape"] = input;
    j["output_shape"] = net.probeOutputShape(int(card.channels.size()), {input[2], input[3], input[4]});
  }
  if (args.json) {
    out << jsonText(j, 2) << "\n";
    return 0;
  }
  out << "model:        " << args.model << "\n";
  if (j["card"].is_null()) {
    out << j["note"].get<std::string>() << "\n";
    return 0;
  }
  const auto& c = j["card"];
  out << "name:         " << c["name"].get<std::string>() << " " << c["version"].get<std::string>() << "\n";
  out << "axis order:   " << c["axis_order"].get<std::string>() << "\n";
  out << "input shape:  " << j["input_shape"].dump() << "\n";
  out << "output shape: " << j["output_shape"].dump() << "\n";
  out << "labels:      ";
  for (const auto& l : c["labels"]) out << " " << l["value"].get<int>() << "=" << l["name"].get<std::string>();
  out << "\ncard:\n" << jsonText(c, 2) << "\n";
  return 0;
}

} // namespace voxseg::cli
