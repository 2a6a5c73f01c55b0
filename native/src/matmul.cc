// Batched matrix product through oneDNN's matmul, for tfjs's BatchMatMul and _FusedMatMul.
// Transposes are expressed as strides, so tfjs's row-major buffers are used as they are.
#include <memory>
#include <string>

#include "onednn_context.h"
#include "primitive_cache.h"

using dnnl::memory;
using dt = dnnl::memory::data_type;

namespace {

struct MatMulShape {
  int64_t batch_a, batch_b, m, k, n;
  bool trans_a, trans_b, bias, relu;

  std::string key() const {
    std::string s("matmul");
    for (int64_t v : {batch_a, batch_b, m, k, n, int64_t(trans_a), int64_t(trans_b), int64_t(bias),
                      int64_t(relu)}) {
      s += ',';
      s += std::to_string(v);
    }
    return s;
  }
  int64_t batch() const { return batch_a > batch_b ? batch_a : batch_b; }
  // a is [Ba, M, K] or, transposed, stored as [Ba, K, M].
  memory::desc a() const {
    return memory::desc({batch_a, m, k}, dt::f32,
                        trans_a ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1});
  }
  memory::desc b() const {
    return memory::desc({batch_b, k, n}, dt::f32,
                        trans_b ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1});
  }
  memory::desc dst() const {
    return memory::desc({batch(), m, n}, dt::f32, memory::dims{m * n, n, 1});
  }
  memory::desc bias_desc() const { return memory::desc({1, 1, n}, dt::f32, memory::dims{n, n, 1}); }
};

struct MatMulEntry {
  dnnl::matmul prim;
};

}  // namespace

// matMul(a, b, bias | null, out, [batchA, batchB, M, K, N, transA, transB, relu])
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    using namespace abi::matmul;
    Args args(info, "matMul", {"a", "b", "bias", "out", "shape"});
    const I32 p = args.i32(4, kFieldCount);
    for (int f : {kBatchA, kBatchB, kM, kK, kN}) {
      if (p[f] < 1) args.fail_range(args.name(4) + ": " + abi::kMatMulShapeNames[f] + " must be >= 1, got " + std::to_string(p[f]));
    }
    for (int f : {kTransposeA, kTransposeB, kRelu}) {
      if (p[f] != 0 && p[f] != 1) args.fail_range(args.name(4) + ": " + abi::kMatMulShapeNames[f] + " must be 0 or 1");
    }
    // oneDNN broadcasts a batch of one only.
    if (p[kBatchA] != p[kBatchB] && p[kBatchA] != 1 && p[kBatchB] != 1) {
      args.fail_range(args.name(4) + ": batchA and batchB must be equal or one of them 1, got " +
                      std::to_string(p[kBatchA]) + " and " + std::to_string(p[kBatchB]));
    }
    const MatMulShape s{p[kBatchA], p[kBatchB], p[kM], p[kK], p[kN], p[kTransposeA] != 0, p[kTransposeB] != 0,
                        !args.is_null(2), p[kRelu] != 0};
    float* a = args.f32(0, args.elements({s.batch_a, s.m, s.k}, "matMul a")).data;
    float* b = args.f32(1, args.elements({s.batch_b, s.k, s.n}, "matMul b")).data;
    float* bias = s.bias ? args.f32(2, static_cast<size_t>(s.n)).data : nullptr;
    float* out = args.f32(3, args.elements({s.batch(), s.m, s.n}, "matMul out")).data;
    auto e = primitive_cache().get_or_create<MatMulEntry>(s.key(), [&] {
      auto d = s.bias ? dnnl::matmul::desc(s.a(), s.b(), s.bias_desc(), s.dst())
                      : dnnl::matmul::desc(s.a(), s.b(), s.dst());
      dnnl::primitive_attr attr;
      if (s.relu) {
        dnnl::post_ops ops;
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
        attr.set_post_ops(ops);
      }
      return std::make_shared<MatMulEntry>(
          MatMulEntry{dnnl::matmul(dnnl::matmul::primitive_desc(d, attr, cpu_engine()))});
    });
    auto& eng = cpu_engine();
    std::unordered_map<int, memory> mem_args{{DNNL_ARG_SRC, memory(s.a(), eng, a)},
                                             {DNNL_ARG_WEIGHTS, memory(s.b(), eng, b)},
                                             {DNNL_ARG_DST, memory(s.dst(), eng, out)}};
    if (s.bias) mem_args.insert({DNNL_ARG_BIAS, memory(s.bias_desc(), eng, bias)});
    e->prim.execute(cpu_stream(), mem_args);
    cpu_stream().wait();
  });
}
