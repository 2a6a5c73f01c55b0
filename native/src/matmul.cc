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
    size_t len;
    const int32_t* p = i32_arg(info, 4, &len);
    if (len != 8) throw std::invalid_argument("matMul shape: expected 8 ints");
    const bool has_bias = !info[2].IsNull() && !info[2].IsUndefined();
    const MatMulShape s{p[0], p[1], p[2], p[3], p[4], p[5] != 0, p[6] != 0, has_bias, p[7] != 0};
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
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(s.a(), eng, f32_arg(info, 0))},
                                         {DNNL_ARG_WEIGHTS, memory(s.b(), eng, f32_arg(info, 1))},
                                         {DNNL_ARG_DST, memory(s.dst(), eng, f32_arg(info, 3))}};
    if (s.bias) args.insert({DNNL_ARG_BIAS, memory(s.bias_desc(), eng, f32_arg(info, 2))});
    e->prim.execute(cpu_stream(), args);
    cpu_stream().wait();
  });
}
