// Fused train-mode BatchNorm over NHWC (channels last) with its own backward pass.
// tfjs's composite form (moments + batchNorm, differentiated by autodiff) makes ~25 full passes
// over the activation per layer; this does 2 forward and 2 backward.
#include <cmath>
#include <cstdint>
#include <vector>

#include "onednn_context.h"

namespace {

// Channels (gamma's length) and rows (x's length / channels) of an NHWC BatchNorm, both >= 1.
struct BatchNormShape {
  size_t c, rows;
  static BatchNormShape from(const Args& args, size_t x, size_t gamma) {
    const size_t c = args.f32(gamma).size;
    const size_t len = args.f32(x).size;
    if (c == 0) args.fail_range(args.name(gamma) + " is empty (no channels)");
    if (len == 0) args.fail_range(args.name(x) + " is empty (statistics over no elements)");
    if (len % c != 0) {
      args.fail_range(args.name(x) + " has " + std::to_string(len) + " elements, not a multiple of the " +
                      std::to_string(c) + " channels of gamma");
    }
    return {c, len / c};
  }
  size_t size() const { return c * rows; }
};

double epsilon(const Args& args, size_t i) {
  const double eps = args.number(i);
  if (eps < 0) args.fail_range(args.name(i) + " must be >= 0");
  return eps;
}

}  // namespace

// batchNormTrain(x, gamma, beta, y, mean, variance, epsilon): variance is the biased batch variance.
Napi::Value BatchNormTrain(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "batchNormTrain", {"x", "gamma", "beta", "y", "mean", "variance", "epsilon"});
    const BatchNormShape shape = BatchNormShape::from(args, 0, 1);
    const float* x = args.f32(0).data;
    const float* gamma = args.f32(1).data;
    const float* beta = args.f32(2, shape.c).data;
    float* y = args.f32(3, shape.size()).data;
    float* mean = args.f32(4, shape.c).data;
    float* var = args.f32(5, shape.c).data;
    const double eps = epsilon(args, 6);
    const int64_t c = static_cast<int64_t>(shape.c);
    const int64_t rows = static_cast<int64_t>(shape.rows);

    // One pass for sum and sum of squares in double: with float32 inputs the cancellation in
    // E[x^2] - E[x]^2 stays far below float32 resolution.
    std::vector<double> s(c, 0.0), ss(c, 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * c;
      for (int64_t j = 0; j < c; ++j) {
        const double v = xr[j];
        s[j] += v;
        ss[j] += v * v;
      }
    }
    std::vector<float> scale(c), shift(c);
    for (int64_t j = 0; j < c; ++j) {
      const double m = s[j] / rows;
      const double v = std::max(ss[j] / rows - m * m, 0.0);
      mean[j] = static_cast<float>(m);
      var[j] = static_cast<float>(v);
      const double inv = 1.0 / std::sqrt(v + eps);
      scale[j] = static_cast<float>(gamma[j] * inv);
      shift[j] = static_cast<float>(beta[j] - m * gamma[j] * inv);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * c;
      float* yr = y + r * c;
      for (int64_t j = 0; j < c; ++j) yr[j] = xr[j] * scale[j] + shift[j];
    }
  });
}

// batchNormTrainGrad(x, gamma, mean, variance, dy, dMean, dVariance, dx, dGamma, dBeta, epsilon)
// dMean / dVariance are the gradients reaching the mean and variance outputs (zeros when only y
// feeds the loss); they are included so the op's gradient is exact for every output.
Napi::Value BatchNormTrainGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "batchNormTrainGrad", {"x", "gamma", "mean", "variance", "dy", "dMean", "dVariance", "dx",
                                           "dGamma", "dBeta", "epsilon"});
    const BatchNormShape shape = BatchNormShape::from(args, 0, 1);
    const float* x = args.f32(0).data;
    const float* gamma = args.f32(1).data;
    const float* mean = args.f32(2, shape.c).data;
    const float* var = args.f32(3, shape.c).data;
    const float* dy = args.f32(4, shape.size()).data;
    const float* dmean = args.f32(5, shape.c).data;
    const float* dvar = args.f32(6, shape.c).data;
    float* dx = args.f32(7, shape.size()).data;
    float* dgamma = args.f32(8, shape.c).data;
    float* dbeta = args.f32(9, shape.c).data;
    const double eps = epsilon(args, 10);
    const int64_t c = static_cast<int64_t>(shape.c);
    const int64_t rows = static_cast<int64_t>(shape.rows);

    std::vector<double> inv(c), sum_dy(c, 0.0), sum_dy_xc(c, 0.0);
    for (int64_t j = 0; j < c; ++j) inv[j] = 1.0 / std::sqrt(static_cast<double>(var[j]) + eps);
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * c;
      const float* dyr = dy + r * c;
      for (int64_t j = 0; j < c; ++j) {
        sum_dy[j] += dyr[j];
        sum_dy_xc[j] += static_cast<double>(dyr[j]) * (xr[j] - mean[j]);
      }
    }
    // dx = gamma*inv*(dy - mean(dy) - xhat*mean(dy*xhat)) + dMean/R + 2*dVar*(x - mean)/R,
    // written as dx = a*dy + b*(x - mean) + k per channel.
    std::vector<float> a(c), b(c), k(c);
    for (int64_t j = 0; j < c; ++j) {
      const double g = gamma[j] * inv[j];
      dbeta[j] = static_cast<float>(sum_dy[j]);
      dgamma[j] = static_cast<float>(sum_dy_xc[j] * inv[j]);
      a[j] = static_cast<float>(g);
      b[j] = static_cast<float>(-g * inv[j] * inv[j] * sum_dy_xc[j] / rows + 2.0 * dvar[j] / rows);
      k[j] = static_cast<float>(-g * sum_dy[j] / rows + dmean[j] / static_cast<double>(rows));
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * c;
      const float* dyr = dy + r * c;
      float* dxr = dx + r * c;
      for (int64_t j = 0; j < c; ++j) dxr[j] = a[j] * dyr[j] + b[j] * (xr[j] - mean[j]) + k[j];
    }
  });
}
