// 2-D max pooling, forward and input gradient, NHWC, with tfjs's cpu semantics: the window's first
// maximum wins (a strict `>` from -inf, so NaNs are skipped and a window of NaNs gives -inf), and
// the gradient of each output goes to that one input. Plain loops: a pool reads each input once or
// a few times, so it is memory-bound and oneDNN's primitive (which needs a workspace from its own
// forward) would not be faster. tfjs's JS MaxPoolGrad took 1.2 s of a 1.4 s ResNet-9 step.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "onednn_context.h"

using namespace abi;

namespace {

// The pool's shape, packed by the TS side in the conv layout (abi.h's LCCONV_CONV_GEOMETRY;
// channels in = out, one group, no bias or relu).
struct PoolGeometry {
  int64_t n, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, pad_t, pad_l;

  static PoolGeometry from(const Args& args, size_t i) {
    using namespace abi::conv;
    const I32 p = args.i32(i, kFieldCount);
    for (int f : {kBatch, kInHeight, kInWidth, kInChannels, kOutHeight, kOutWidth, kFilterHeight, kFilterWidth,
                  kStrideHeight, kStrideWidth, kDilationHeight, kDilationWidth}) {
      if (p[f] < 1) args.fail_range(args.name(i) + ": " + kConvGeometryNames[f] + " must be >= 1");
    }
    if (p[kOutChannels] != p[kInChannels]) args.fail_range(args.name(i) + ": a pool keeps its channels");
    return {p[kBatch],       p[kInHeight],   p[kInWidth],        p[kInChannels],     p[kOutHeight],
            p[kOutWidth],    p[kFilterHeight], p[kFilterWidth],  p[kStrideHeight],   p[kStrideWidth],
            p[kDilationHeight], p[kDilationWidth], p[kPadTop],   p[kPadLeft]};
  }

  // The flat NHWC index of the first maximum of output (b, y, x, ch)'s window, or -1 when no value
  // in it beats -inf (as tfjs's maxPoolPositions).
  int64_t argmax(const float* in, int64_t b, int64_t y, int64_t x, int64_t ch) const {
    float best = -std::numeric_limits<float>::infinity();
    int64_t at = -1;
    const int64_t r0 = y * sh - pad_t, c0 = x * sw - pad_l;
    for (int64_t i = 0; i < kh; ++i) {
      const int64_t r = r0 + i * dh;
      if (r < 0 || r >= h) continue;
      for (int64_t j = 0; j < kw; ++j) {
        const int64_t col = c0 + j * dw;
        if (col < 0 || col >= w) continue;
        const int64_t k = ((b * h + r) * w + col) * c + ch;
        if (in[k] > best) {
          best = in[k];
          at = k;
        }
      }
    }
    return at;
  }
};

}  // namespace

// maxPool(x, out, geometry)
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "maxPool", {"x", "out", "geometry"});
    const PoolGeometry g = PoolGeometry::from(args, 2);
    const float* x = args.f32(0, args.elements({g.n, g.h, g.w, g.c}, "pool input")).data;
    float* out = args.f32(1, args.elements({g.n, g.oh, g.ow, g.c}, "pool output")).data;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < g.n * g.oh; ++row) {
      const int64_t b = row / g.oh, y = row % g.oh;
      for (int64_t xo = 0; xo < g.ow; ++xo)
        for (int64_t ch = 0; ch < g.c; ++ch) {
          const int64_t k = g.argmax(x, b, y, xo, ch);
          out[((b * g.oh + y) * g.ow + xo) * g.c + ch] = k < 0 ? -std::numeric_limits<float>::infinity() : x[k];
        }
    }
  });
}

// maxPoolGrad(dy, x, dx, geometry): dx = Σ of dy over the outputs whose first maximum is that input,
// added in output order (row, then column) in double and rounded once, as tfjs's kernel adds them
// (in JS numbers), so overlapping windows give the same bits. One image per thread: the outputs of
// an image only reach that image's inputs.
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "maxPoolGrad", {"dy", "x", "dx", "geometry"});
    const PoolGeometry g = PoolGeometry::from(args, 3);
    const size_t in_size = args.elements({g.n, g.h, g.w, g.c}, "pool input");
    const float* dy = args.f32(0, args.elements({g.n, g.oh, g.ow, g.c}, "pool output")).data;
    const float* x = args.f32(1, in_size).data;
    float* dx = args.f32(2, in_size).data;
    const int64_t image = g.h * g.w * g.c;
#pragma omp parallel
    {
      std::vector<double> sum(static_cast<size_t>(image));
#pragma omp for schedule(static)
      for (int64_t b = 0; b < g.n; ++b) {
        std::fill(sum.begin(), sum.end(), 0.0);
        for (int64_t y = 0; y < g.oh; ++y)
          for (int64_t xo = 0; xo < g.ow; ++xo)
            for (int64_t ch = 0; ch < g.c; ++ch) {
              const int64_t k = g.argmax(x, b, y, xo, ch);
              if (k >= 0) sum[k - b * image] += dy[((b * g.oh + y) * g.ow + xo) * g.c + ch];
            }
        for (int64_t i = 0; i < image; ++i) dx[b * image + i] = static_cast<float>(sum[i]);
      }
    }
  });
}
