// The fused SGD update (LcconvSgdUpdate): every parameter of a step in one call, one pass each,
// instead of ~6 small tfjs kernels per parameter (~600 per ResNet-20 step). Math as
// torch.optim.SGD: d = g + wd·p; m' = momentum·m + d; d = nesterov ? d + momentum·m' : m';
// p' = p − lr·d.
#include <cstdint>
#include <vector>

#include "onednn_context.h"

// sgdUpdate(params, grads, moms, outParams, outMoms, lr, momentum, nesterov, weightDecay): five
// lists of n Float32Arrays, entry i of each the same length as params[i].
Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "sgdUpdate",
              {"params", "grads", "moms", "outParams", "outMoms", "lr", "momentum", "nesterov", "weightDecay"});
    const std::vector<F32> p = args.f32_list(0);
    const std::vector<F32> g = args.f32_list_like(1, p, 0);
    const std::vector<F32> m = args.f32_list_like(2, p, 0);
    const std::vector<F32> po = args.f32_list_like(3, p, 0);
    const std::vector<F32> mo = args.f32_list_like(4, p, 0);
    const float lr = static_cast<float>(args.number(5));
    const float mu = static_cast<float>(args.number(6));
    const bool nesterov = args.boolean(7);
    const float wd = static_cast<float>(args.number(8));
    for (size_t i = 0; i < p.size(); ++i) {
      const float* pi = p[i].data;
      const float* gi = g[i].data;
      const float* mi = m[i].data;
      float* poi = po[i].data;
      float* moi = mo[i].data;
      const int64_t len = static_cast<int64_t>(p[i].size);
      for (int64_t j = 0; j < len; ++j) {
        const float d = gi[j] + wd * pi[j];
        const float next = mu * mi[j] + d;
        moi[j] = next;
        poi[j] = pi[j] - lr * (nesterov ? d + mu * next : next);
      }
    }
  });
}
