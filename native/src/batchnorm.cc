// BatchNorm over NHWC (channels last): the fused train-mode op with its own backward pass, and the
// inference form (running statistics) as one pass.
// tfjs's composite form (moments + batchNorm, differentiated by autodiff) makes ~25 full passes
// over the activation per layer; this does 2 forward and 2 backward. Rows (N·H·W) are split
// between OpenMP threads; per-channel sums are accumulated per thread, then added in thread order,
// so a result does not depend on scheduling (only on the thread count).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "onednn_context.h"

namespace {

// Below this many elements a parallel region costs more than it saves (a wake-up is ~10 µs).
constexpr int64_t kParallelMin = 1 << 15;

int threads_for(int64_t elements) {
  return elements >= kParallelMin ? omp_get_max_threads() : 1;
}

// Per-channel sums over rows of two per-element terms, in double: out1[j] = Σ f1(r, j), out2 likewise.
template <typename F>
void channel_sums(int64_t rows, int64_t c, std::vector<double>& out1, std::vector<double>& out2, F terms) {
  const int nt = threads_for(rows * c);
  std::vector<double> part(static_cast<size_t>(nt) * 2 * c, 0.0);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    double* s1 = part.data() + static_cast<size_t>(t) * 2 * c;
    double* s2 = s1 + c;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) terms(r, s1, s2);
  }
  out1.assign(c, 0.0);
  out2.assign(c, 0.0);
  for (int t = 0; t < nt; ++t) {
    const double* s1 = part.data() + static_cast<size_t>(t) * 2 * c;
    for (int64_t j = 0; j < c; ++j) {
      out1[j] += s1[j];
      out2[j] += s1[c + j];
    }
  }
}

// y = x·scale + shift per channel, rows in parallel.
void scale_shift(const float* x, float* y, int64_t rows, int64_t c, const float* scale, const float* shift) {
#pragma omp parallel for schedule(static) num_threads(threads_for(rows * c))
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    for (int64_t j = 0; j < c; ++j) yr[j] = xr[j] * scale[j] + shift[j];
  }
}

int64_t rows_of(size_t elements, int64_t c) {
  if (c <= 0 || elements % static_cast<size_t>(c) != 0) throw std::invalid_argument("batchNorm: x's size is not a multiple of the channel count");
  return static_cast<int64_t>(elements) / c;
}

}  // namespace

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
    const int64_t rows = rows_of(f32_len(info, 0), c);

    // One pass for sum and sum of squares in double: with float32 inputs the cancellation in
    // E[x^2] - E[x]^2 stays far below float32 resolution.
    std::vector<double> s, ss;
    channel_sums(rows, c, s, ss, [&](int64_t r, double* s1, double* s2) {
      const float* xr = x + r * c;
      for (int64_t j = 0; j < c; ++j) {
        const double v = xr[j];
        s1[j] += v;
        s2[j] += v * v;
      }
    });
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
    scale_shift(x, y, rows, c, scale.data(), shift.data());
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
    const int64_t rows = rows_of(f32_len(info, 0), c);

    std::vector<double> inv(c), sum_dy, sum_dy_xc;
    for (int64_t j = 0; j < c; ++j) inv[j] = 1.0 / std::sqrt(static_cast<double>(var[j]) + eps);
    channel_sums(rows, c, sum_dy, sum_dy_xc, [&](int64_t r, double* s1, double* s2) {
      const float* xr = x + r * c;
      const float* dyr = dy + r * c;
      for (int64_t j = 0; j < c; ++j) {
        s1[j] += dyr[j];
        s2[j] += static_cast<double>(dyr[j]) * (xr[j] - mean[j]);
      }
    });
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
#pragma omp parallel for schedule(static) num_threads(threads_for(rows * c))
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * c;
      const float* dyr = dy + r * c;
      float* dxr = dx + r * c;
      for (int64_t j = 0; j < c; ++j) dxr[j] = a[j] * dyr[j] + b[j] * (xr[j] - mean[j]) + k[j];
    }
  });
}

// batchNormInference(x, mean, variance, offset, scale, y, epsilon): tfjs's FusedBatchNorm with
// per-channel [C] statistics; offset / scale may be null (0 / 1). One pass instead of tfjs's
// composite (sub, mul, rsqrt, add over the whole activation).
Napi::Value BatchNormInference(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    const float* x = f32_arg(info, 0);
    const float* mean = f32_arg(info, 1);
    const float* var = f32_arg(info, 2);
    const float* offset = info[3].IsNull() ? nullptr : f32_arg(info, 3);
    const float* gain = info[4].IsNull() ? nullptr : f32_arg(info, 4);
    float* y = f32_arg(info, 5);
    const double eps = num_arg(info, 6);
    const int64_t c = static_cast<int64_t>(f32_len(info, 1));
    const int64_t rows = rows_of(f32_len(info, 0), c);
    std::vector<float> scale(c), shift(c);
    for (int64_t j = 0; j < c; ++j) {
      const double s = (gain ? gain[j] : 1.0) / std::sqrt(static_cast<double>(var[j]) + eps);
      scale[j] = static_cast<float>(s);
      shift[j] = static_cast<float>((offset ? offset[j] : 0.0) - mean[j] * s);
    }
    scale_shift(x, y, rows, c, scale.data(), shift.data());
  });
}
