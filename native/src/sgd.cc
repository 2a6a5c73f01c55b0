// The fused SGD update (LcconvSgdUpdate): every parameter of a step in one call, one pass each,
// instead of ~6 small tfjs kernels per parameter (~600 per ResNet-20 step). Math as
// torch.optim.SGD: d = g + wd·p; m' = momentum·m + d; d = nesterov ? d + momentum·m' : m';
// p' = p − lr·d.
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "onednn_context.h"

namespace {

std::vector<Napi::Float32Array> f32_list(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw std::invalid_argument("sgdUpdate: expected arrays of Float32Arrays");
  Napi::Array list = info[i].As<Napi::Array>();
  std::vector<Napi::Float32Array> out;
  out.reserve(list.Length());
  for (uint32_t t = 0; t < list.Length(); ++t) {
    Napi::Value v = list.Get(t);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) throw std::invalid_argument("sgdUpdate: expected arrays of Float32Arrays");
    out.push_back(v.As<Napi::Float32Array>());
  }
  return out;
}

}  // namespace

// sgdUpdate(params, grads, moms, outParams, outMoms, lr, momentum, nesterov, weightDecay): five
// lists of n Float32Arrays, entry i of each the same length.
Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    auto p = f32_list(info, 0), g = f32_list(info, 1), m = f32_list(info, 2), po = f32_list(info, 3), mo = f32_list(info, 4);
    const size_t n = p.size();
    if (g.size() != n || m.size() != n || po.size() != n || mo.size() != n) throw std::invalid_argument("sgdUpdate: the five lists must have the same length");
    for (size_t i = 0; i < n; ++i) {
      const size_t len = p[i].ElementLength();
      if (g[i].ElementLength() != len || m[i].ElementLength() != len || po[i].ElementLength() != len || mo[i].ElementLength() != len) {
        throw std::invalid_argument("sgdUpdate: parameter " + std::to_string(i) + ": param, gradient, momentum and outputs differ in length");
      }
    }
    const float lr = static_cast<float>(num_arg(info, 5));
    const float mu = static_cast<float>(num_arg(info, 6));
    const bool nesterov = info[7].ToBoolean().Value();
    const float wd = static_cast<float>(num_arg(info, 8));
    for (size_t i = 0; i < n; ++i) {
      const float* pi = p[i].Data();
      const float* gi = g[i].Data();
      const float* mi = m[i].Data();
      float* poi = po[i].Data();
      float* moi = mo[i].Data();
      const int64_t len = static_cast<int64_t>(p[i].ElementLength());
      for (int64_t j = 0; j < len; ++j) {
        const float d = gi[j] + wd * pi[j];
        const float next = mu * mi[j] + d;
        moi[j] = next;
        poi[j] = pi[j] - lr * (nesterov ? d + mu * next : next);
      }
    }
  });
}
