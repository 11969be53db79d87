// Traced TorchScript graphs call aten::_convolution with the cuDNN flags of the tracing session baked
// in as constants (benchmark, deterministic, cudnn_enabled, allow_tf32). torch.jit.trace records
// allow_tf32 = True (PyTorch's default for convolutions), so such a network ran its float32
// convolutions in TensorFloat-32 on Ampere and later whatever voxseg asked for (relative error ~2^-11,
// seen on an H100 as 3e-4..5e-4 against the CPU). Each such call becomes aten::convolution, which
// reads the flags from the global context at run time: voxseg's precision and cuDNN settings apply.
// On the CPU the flags select nothing, so the numbers are the same bit for bit.
#include "NetworkImpl.h"

#include <torch/csrc/jit/ir/ir.h>

namespace voxseg::inference {

void collectNodes(torch::jit::Block* block, std::vector<torch::jit::Node*>& out) {
  for (torch::jit::Node* n : block->nodes()) {
    for (torch::jit::Block* b : n->blocks()) collectNodes(b, out);
    out.push_back(n);
  }
}

int useGlobalConvolutionFlags(torch::jit::Module& module) {
  const auto convolution = c10::Symbol::fromQualString("aten::convolution");
  const auto traced = c10::Symbol::fromQualString("aten::_convolution");
  int rewritten = 0;
  for (const torch::jit::Module& m : module.modules()) {
    for (const torch::jit::Method& method : m.get_methods()) {
      auto graph = method.graph();
      std::vector<torch::jit::Node*> nodes;
      collectNodes(graph->block(), nodes);
      for (torch::jit::Node* n : nodes) {
        // _convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups,
        // benchmark, deterministic, cudnn_enabled[, allow_tf32]): the first nine are convolution's.
        if (n->kind() != traced || n->inputs().size() < 12) continue;
        torch::jit::WithInsertPoint guard(n);
        std::vector<torch::jit::NamedValue> args;
        for (std::size_t i = 0; i < 9; ++i) args.emplace_back(n->input(i));
        torch::jit::Value* out = graph->insert(convolution, args);
        n->output()->replaceAllUsesWith(out);
        n->destroy();
        ++rewritten;
      }
    }
  }
  return rewritten;
}

} // namespace voxseg::inference
