// Rewrites 3D transposed convolutions of a frozen TorchScript graph into one regular convolution
// (a sub-pixel decomposition: every output phase is a correlation of the input with a subset of the
// kernel taps) followed by a depth-to-space shuffle. Debian's LibTorch 1.13 runs transposed 3D
// convolutions on a slow reference path (~1 GFLOP/s); regular ones take the oneDNN path.
//
// Per axis, with stride s, kernel k, padding p, output padding q: output o gathers x[b - j] * W[f + j s]
// where b = (o + p) / s and f = (o + p) % s. With J = ceil(k / s) taps per phase, phase f is the
// correlation of x (padded by J - 1 below) with kernel taps W[f + (J - 1 - u) s], u = 0..J-1 (zero where
// past k). All phases go into one conv3d with s0*s1*s2*Cout output channels; the shuffle interleaves them
// and the result is cropped by p.
#include "NetworkImpl.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include "voxseg/core/Log.h"

namespace voxseg::inference {
namespace {

const char* kDeconvSource = R"TS(
def deconv3d(x: Tensor, w: Tensor, b: Optional[Tensor], pad: List[int], cout: int,
             s0: int, s1: int, s2: int, p0: int, p1: int, p2: int, e0: int, e1: int, e2: int) -> Tensor:
    n = x.size(0)
    i0 = x.size(2)
    i1 = x.size(3)
    i2 = x.size(4)
    z = torch.conv3d(torch.constant_pad_nd(x, pad, 0.0), w, b)
    d0 = z.size(2)
    d1 = z.size(3)
    d2 = z.size(4)
    z = z.reshape([n, cout, s0, s1, s2, d0, d1, d2]).permute([0, 1, 5, 2, 6, 3, 7, 4])
    z = z.reshape([n, cout, d0 * s0, d1 * s1, d2 * s2])
    return z[:, :, p0:p0 + i0 * s0 + e0 - 2 * p0, p1:p1 + i1 * s1 + e1 - 2 * p1, p2:p2 + i2 * s2 + e2 - 2 * p2]
)TS";

struct Params {
  at::Tensor weight, bias;
  std::vector<std::int64_t> stride, padding, outputPadding;
};

std::optional<std::vector<std::int64_t>> intList(torch::jit::Value* v) {
  const auto iv = torch::jit::toIValue(v);
  if (!iv || !iv->isIntList()) return std::nullopt;
  return iv->toIntVector();
}

// The constant parameters of a transposed 3D convolution node, if it is one we can rewrite.
std::optional<Params> match(torch::jit::Node* n) {
  const std::string kind = n->kind().toQualString();
  int stride = 3, padding = 4, outPad = 5, groups = 6, dilation = 7;
  if (kind == "aten::_convolution" || kind == "aten::convolution") {
    const auto transposed = torch::jit::toIValue(n->input(6));
    if (!transposed || !transposed->isBool() || !transposed->toBool()) return std::nullopt;
    dilation = 5;
    outPad = 7;
    groups = 8;
  } else if (kind != "aten::conv_transpose3d") {
    return std::nullopt;
  }
  const auto w = torch::jit::toIValue(n->input(1));
  const auto b = torch::jit::toIValue(n->input(2));
  const auto g = torch::jit::toIValue(n->input(groups));
  if (!w || !w->isTensor() || w->toTensor().dim() != 5 || !b || !(b->isTensor() || b->isNone()) || !g || !g->isInt() ||
      g->toInt() != 1)
    return std::nullopt;
  Params p;
  p.weight = w->toTensor();
  if (b->isTensor()) p.bias = b->toTensor();
  const auto s = intList(n->input(stride)), pd = intList(n->input(padding)), op = intList(n->input(outPad)),
             dl = intList(n->input(dilation));
  if (!s || !pd || !op || !dl) return std::nullopt;
  const auto expand = [](std::vector<std::int64_t> v) {
    return v.size() == 1 ? std::vector<std::int64_t>(3, v[0]) : v;
  };
  p.stride = expand(*s);
  p.padding = expand(*pd);
  p.outputPadding = expand(*op);
  const auto d = expand(*dl);
  if (p.stride.size() != 3 || p.padding.size() != 3 || p.outputPadding.size() != 3 ||
      d != std::vector<std::int64_t>{1, 1, 1})
    return std::nullopt;
  return p;
}

// Weight [s0*s1*s2*Cout, Cin, J0, J1, J2] of the phase convolution (channel = ((c*s0 + f0)*s1 + f1)*s2 + f2).
at::Tensor phaseWeight(const at::Tensor& w, const std::vector<std::int64_t>& s) {
  const std::int64_t cin = w.size(0), cout = w.size(1);
  std::array<std::int64_t, 3> k{w.size(2), w.size(3), w.size(4)}, J{};
  for (int a = 0; a < 3; ++a) J[std::size_t(a)] = (k[std::size_t(a)] + s[std::size_t(a)] - 1) / s[std::size_t(a)];
  auto out = torch::zeros({cout, s[0], s[1], s[2], cin, J[0], J[1], J[2]}, w.options());
  const auto wt = w.transpose(0, 1); // [Cout, Cin, k...]
  for (std::int64_t f0 = 0; f0 < s[0]; ++f0)
    for (std::int64_t f1 = 0; f1 < s[1]; ++f1)
      for (std::int64_t f2 = 0; f2 < s[2]; ++f2)
        for (std::int64_t u0 = 0; u0 < J[0]; ++u0)
          for (std::int64_t u1 = 0; u1 < J[1]; ++u1)
            for (std::int64_t u2 = 0; u2 < J[2]; ++u2) {
              const std::int64_t t0 = f0 + (J[0] - 1 - u0) * s[0], t1 = f1 + (J[1] - 1 - u1) * s[1],
                                 t2 = f2 + (J[2] - 1 - u2) * s[2];
              if (t0 >= k[0] || t1 >= k[1] || t2 >= k[2]) continue;
              out.select(1, f0).select(1, f1).select(1, f2).select(2, u0).select(2, u1).select(2, u2).copy_(
                  wt.select(2, t0).select(2, t1).select(2, t2));
            }
  return out.reshape({cout * s[0] * s[1] * s[2], cin, J[0], J[1], J[2]}).contiguous();
}

} // namespace

int Network::optimizeTransposedConvolutions() {
  if (impl_->native) return 0; // native networks call aten ops directly
  torch::jit::Module frozen;
  try {
    frozen = torch::jit::freeze(impl_->module);
  } catch (const std::exception&) {
    logWarning(impl_->path + ": cannot freeze the TorchScript module, transposed convolutions kept as they are");
    return 0;
  }
  auto graph = frozen.get_method("forward").graph();
  torch::jit::CompilationUnit cu;
  cu.define(c10::nullopt, kDeconvSource, torch::jit::nativeResolver(), nullptr);
  auto fnGraph = torch::jit::toGraphFunction(cu.get_function("deconv3d")).graph();

  std::vector<torch::jit::Node*> nodes;
  collectNodes(graph->block(), nodes);
  int rewritten = 0;
  for (torch::jit::Node* n : nodes) {
    const auto p = match(n);
    if (!p) continue;
    const auto& w = p->weight;
    std::vector<std::int64_t> pad; // constant_pad_nd order: last axis first, (low, high) pairs
    std::array<std::int64_t, 3> e{};
    for (int a = 2; a >= 0; --a) {
      const std::int64_t k = w.size(2 + a), s = p->stride[std::size_t(a)], pd = p->padding[std::size_t(a)];
      e[std::size_t(a)] = k + p->outputPadding[std::size_t(a)] - s;
      const std::int64_t J = (k + s - 1) / s;
      const std::int64_t high = std::max<std::int64_t>(0, (e[std::size_t(a)] - pd + s - 1) / s);
      pad.push_back(J - 1);
      pad.push_back(high);
    }
    const std::int64_t cout = w.size(1), phases = p->stride[0] * p->stride[1] * p->stride[2];
    torch::jit::WithInsertPoint guard(n);
    std::vector<torch::jit::Value*> args{n->input(0), graph->insertConstant(phaseWeight(w, p->stride))};
    args.push_back(p->bias.defined() ? graph->insertConstant(p->bias.repeat_interleave(phases))
                                     : graph->insertConstant(torch::jit::IValue()));
    args.push_back(graph->insertConstant(pad));
    args.push_back(graph->insertConstant(cout));
    for (int a = 0; a < 3; ++a) args.push_back(graph->insertConstant(p->stride[std::size_t(a)]));
    for (int a = 0; a < 3; ++a) args.push_back(graph->insertConstant(p->padding[std::size_t(a)]));
    for (int a = 0; a < 3; ++a) args.push_back(graph->insertConstant(e[std::size_t(a)]));
    const auto outs = torch::jit::insertGraph(*graph, *fnGraph, args);
    n->output()->replaceAllUsesWith(outs.at(0));
    n->destroy();
    ++rewritten;
  }
  if (rewritten > 0) {
    torch::jit::EliminateDeadCode(graph);
    impl_->module = frozen;
  }
  return rewritten;
}

} // namespace voxseg::inference
