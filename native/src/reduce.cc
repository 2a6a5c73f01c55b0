// Sum / Mean / Max over any set of axes of a row-major tensor. Sums accumulate in double, like
// tfjs's JS kernels (JS numbers), so a per-channel sum over a 32x32x32 batch keeps ~1e-7 accuracy.
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "onednn_context.h"

using namespace abi;

// reduce(x, shape, reducedMask, out, op): mask[i] = 1 where axis i is reduced.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "reduce", {"x", "shape", "reducedMask", "out", "op"});
    size_t x_size;
    const I32 shape = args.shape(1, &x_size);
    const size_t rank = shape.size;
    const I32 mask = args.i32(2, rank);
    // The merged-axis walk below divides by the innermost run; an empty x has none.
    if (x_size == 0) args.fail_range(args.name(1) + " has no elements (reduce an empty tensor in JS)");
    size_t kept = 1;
    for (size_t i = 0; i < rank; ++i) {
      if (mask[i] != 0 && mask[i] != 1) args.fail_range(args.name(2) + " must hold 0 or 1");
      if (!mask[i]) kept *= static_cast<size_t>(shape[i]);
    }
    const float* x = args.f32(0, x_size).data;
    float* out = args.f32(3, kept).data;
    const int op = static_cast<int>(args.integer(4, 0, kReduceOpCount - 1));
    const size_t out_size = kept;

    // Merge neighbouring axes that are both kept or both reduced: NHWC per-channel sums become
    // [reduced NHW, kept C], softmax's last-axis sums [kept, reduced].
    std::vector<int64_t> dims;
    std::vector<bool> reduced;
    int64_t total = 1, count = 1;
    for (size_t i = 0; i < rank; ++i) {
      total *= shape[i];
      if (mask[i]) count *= shape[i];
      if (shape[i] == 1) continue;
      if (!dims.empty() && reduced.back() == (mask[i] != 0)) {
        dims.back() *= shape[i];
      } else {
        dims.push_back(shape[i]);
        reduced.push_back(mask[i] != 0);
      }
    }
    if (dims.empty()) {
      dims.push_back(1);
      reduced.push_back(true);
    }
    const size_t r = dims.size();
    // Output stride of each merged axis (0 for reduced ones).
    std::vector<int64_t> ostride(r, 0);
    for (int64_t s = 1, i = static_cast<int64_t>(r) - 1; i >= 0; --i) {
      if (!reduced[i]) {
        ostride[i] = s;
        s *= dims[i];
      }
    }
    const int64_t inner = dims[r - 1];
    const int64_t outer = total / inner;
    const bool is_max = op == kMax;
    std::vector<double> acc(out_size, is_max ? -std::numeric_limits<double>::infinity() : 0.0);

    std::vector<int64_t> idx(r, 0);
    int64_t o_off = 0;
    for (int64_t row = 0; row < outer; ++row) {
      const float* xr = x + row * inner;
      if (reduced[r - 1]) {  // the run folds into one output value
        double a = acc[o_off];
        if (is_max) {
          for (int64_t j = 0; j < inner; ++j) a = (xr[j] > a || std::isnan(xr[j])) ? xr[j] : a;
        } else {
          double s = 0.0;
          for (int64_t j = 0; j < inner; ++j) s += xr[j];
          a += s;
        }
        acc[o_off] = a;
      } else {  // the run maps onto a run of outputs
        double* ar = acc.data() + o_off;
        if (is_max) {
          for (int64_t j = 0; j < inner; ++j) ar[j] = (xr[j] > ar[j] || std::isnan(xr[j])) ? xr[j] : ar[j];
        } else {
          for (int64_t j = 0; j < inner; ++j) ar[j] += xr[j];
        }
      }
      for (size_t d = r - 1; d-- > 0;) {
        if (++idx[d] < dims[d]) {
          o_off += ostride[d];
          break;
        }
        idx[d] = 0;
        o_off -= ostride[d] * (dims[d] - 1);
      }
    }
    const double scale = op == kMean ? 1.0 / static_cast<double>(count) : 1.0;
    for (size_t i = 0; i < out_size; ++i) out[i] = static_cast<float>(acc[i] * scale);
  });
}
