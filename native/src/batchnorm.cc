// Fused train-mode BatchNorm over NHWC (channels last) with its own backward pass.
// tfjs's composite form (moments + batchNorm, differentiated by autodiff) makes ~25 full passes
// over the activation per layer; this does 2 forward and 2 backward.
#include <cmath>
#include <cstdint>
#include <vector>

#include "onednn_context.h"

// batchNormTrain(x, gamma, beta, y, mean, variance, epsilon): variance is the biased batch variance.
Napi::Value BatchNormTrain(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const float* x = f32_arg(info, 0);
    const float* gamma = f32_arg(info, 1);
    const float* beta = f32_arg(info, 2);
    float* y = f32_arg(info, 3);
    float* mean = f32_arg(info, 4);
    float* var = f32_arg(info, 5);
    const double eps = num_arg(info, 6);
    const int64_t c = static_cast<int64_t>(f32_len(info, 1));
    const int64_t rows = static_cast<int64_t>(f32_len(info, 0)) / c;

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
    const float* x = f32_arg(info, 0);
    const float* gamma = f32_arg(info, 1);
    const float* mean = f32_arg(info, 2);
    const float* var = f32_arg(info, 3);
    const float* dy = f32_arg(info, 4);
    const float* dmean = f32_arg(info, 5);
    const float* dvar = f32_arg(info, 6);
    float* dx = f32_arg(info, 7);
    float* dgamma = f32_arg(info, 8);
    float* dbeta = f32_arg(info, 9);
    const double eps = num_arg(info, 10);
    const int64_t c = static_cast<int64_t>(f32_len(info, 1));
    const int64_t rows = static_cast<int64_t>(f32_len(info, 0)) / c;

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
