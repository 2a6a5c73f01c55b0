// Elementwise kernels: binary ops with numpy/tfjs broadcasting, unary ops, and AddN.
// Once convs run in oneDNN these passes are most of a training step (~99 % in pure JS), so they
// are plain loops the compiler vectorises; op codes are abi.h's (shared with TypeScript).
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "onednn_context.h"

namespace {

using namespace abi;

// Below this many elements an OpenMP fork costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;

// One contiguous run of the output; a_step / b_step are 1 (walk) or 0 (broadcast a value).
template <typename F>
inline void binary_run(const float* a, int64_t a_step, const float* b, int64_t b_step, float* o,
                       int64_t n, F f) {
  if (a_step == 1 && b_step == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (a_step == 1) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
  } else if (b_step == 1) {
    const float av = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
  } else {
    const float v = f(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  }
}

// Broadcast strides of one operand against the output shape (0 where it is broadcast).
std::vector<int64_t> broadcast_strides(const int32_t* shape, size_t rank, size_t out_rank,
                                       const std::vector<int64_t>& out_dims) {
  std::vector<int64_t> strides(out_rank, 0);
  int64_t stride = 1;
  for (size_t i = 0; i < rank; ++i) {
    const size_t src = rank - 1 - i, dst = out_rank - 1 - i;
    const int64_t d = shape[src];
    if (d != 1 && d != out_dims[dst]) throw std::invalid_argument("shapes do not broadcast");
    strides[dst] = d == 1 ? 0 : stride;
    stride *= d;
  }
  return strides;
}

template <typename F>
void binary_broadcast(const float* a, const int32_t* a_shape, size_t a_rank, const float* b,
                      const int32_t* b_shape, size_t b_rank, float* out, const int32_t* o_shape,
                      size_t o_rank, F f) {
  std::vector<int64_t> dims(o_shape, o_shape + o_rank);
  if (o_rank == 0) dims.push_back(1);
  const size_t rank = dims.size();
  std::vector<int64_t> sa = broadcast_strides(a_shape, a_rank, rank, dims);
  std::vector<int64_t> sb = broadcast_strides(b_shape, b_rank, rank, dims);
  // Merge neighbouring dims that both operands walk (or both broadcast) the same way, so the
  // common cases (same shape, per-channel vector, scalar) become one or two long runs.
  std::vector<int64_t> cd, ca, cb;
  for (size_t i = 0; i < rank; ++i) {
    if (dims[i] == 1) continue;
    if (!cd.empty() && ca.back() == sa[i] * dims[i] && cb.back() == sb[i] * dims[i]) {
      cd.back() *= dims[i];
      ca.back() = sa[i];
      cb.back() = sb[i];
    } else {
      cd.push_back(dims[i]);
      ca.push_back(sa[i]);
      cb.push_back(sb[i]);
    }
  }
  if (cd.empty()) {
    out[0] = f(a[0], b[0]);
    return;
  }
  const size_t r = cd.size();
  const int64_t inner = cd[r - 1];
  int64_t outer = 1;
  for (size_t i = 0; i + 1 < r; ++i) outer *= cd[i];
  if (r == 1 && ca[0] == 1 && cb[0] == 1 && inner >= kParallelMin) {
#pragma omp parallel for schedule(static) firstprivate(f)
    for (int64_t i = 0; i < inner; ++i) out[i] = f(a[i], b[i]);
    return;
  }
  // Odometer over the outer dims; each step hands one contiguous output run to binary_run.
  std::vector<int64_t> idx(r, 0);
  int64_t off_a = 0, off_b = 0;
  for (int64_t o = 0; o < outer; ++o) {
    binary_run(a + off_a, ca[r - 1], b + off_b, cb[r - 1], out + o * inner, inner, f);
    for (size_t d = r - 1; d-- > 0;) {
      if (++idx[d] < cd[d]) {
        off_a += ca[d];
        off_b += cb[d];
        break;
      }
      idx[d] = 0;
      off_a -= ca[d] * (cd[d] - 1);
      off_b -= cb[d] * (cd[d] - 1);
    }
  }
}

// firstprivate: each thread gets its own copy of the lambda, so a captured value (Step's alpha)
// lives in a register; shared, GCC reloaded it per element and emitted a branch (Step ran 30x
// slower than relu on random signs).
template <typename F>
void unary_map(const float* x, float* out, int64_t n, F f) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin) firstprivate(f)
  for (int64_t i = 0; i < n; ++i) out[i] = f(x[i]);
}

}  // namespace

// binary(a, aShape, b, bShape, out, outShape, op)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "binary", {"a", "aShape", "b", "bShape", "out", "outShape", "op"});
    size_t a_size, b_size, o_size;
    const I32 as = args.shape(1, &a_size);
    const I32 bs = args.shape(3, &b_size);
    const I32 os = args.shape(5, &o_size);
    // broadcast_strides aligns the operands' trailing dims with the output's.
    if (as.size > os.size || bs.size > os.size) args.fail_range("aShape and bShape may not have more dims than outShape");
    const float* a = args.f32(0, a_size).data;
    const float* b = args.f32(2, b_size).data;
    float* o = args.f32(4, o_size).data;
    const int64_t op = args.integer(6, 0, kBinaryOpCount - 1);
    const size_t ar = as.size, br = bs.size, orank = os.size;
    auto run = [&](auto f) { binary_broadcast(a, as.data, ar, b, bs.data, br, o, os.data, orank, f); };
    switch (op) {
      case kAdd: return run([](float x, float y) { return x + y; });
      case kSub: return run([](float x, float y) { return x - y; });
      case kMul: return run([](float x, float y) { return x * y; });
      case kDiv: return run([](float x, float y) { return x / y; });
      // NaN wins, as in tfjs's cpu kernels (Math.max / Math.min).
      case kMaximum: return run([](float x, float y) { const float m = x > y ? x : y; return (x == x && y == y) ? m : x + y; });
      case kMinimum: return run([](float x, float y) { const float m = x < y ? x : y; return (x == x && y == y) ? m : x + y; });
      case kSquaredDifference: return run([](float x, float y) { float d = x - y; return d * d; });
      case kReluGrad: return run([](float dy, float x) { const float g = dy * (x > 0.f ? 1.f : 0.f); return x == x ? g : x; });
      case kEqual: return run([](float x, float y) { return x == y ? 1.f : 0.f; });
      case kRelu6Grad: return run([](float dy, float x) { const float g = dy * (x > 0.f && x <= 6.f ? 1.f : 0.f); return x == x ? g : x; });
      default: throw std::invalid_argument("binary: unknown op");
    }
  });
}

// unary(x, out, op, alpha): alpha is Step's value for x <= 0.
Napi::Value Unary(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "unary", {"x", "out", "op", "alpha"});
    const F32 xs = args.f32(0);
    const float* x = xs.data;
    float* o = args.f32(1, xs.size).data;
    const int64_t n = static_cast<int64_t>(xs.size);
    const int64_t op = args.integer(2, 0, kUnaryOpCount - 1);
    const float alpha = static_cast<float>(args.number(3));
    switch (op) {
      case kRelu: return unary_map(x, o, n, [](float v) { return v < 0.f ? 0.f : v; });
      case kNeg: return unary_map(x, o, n, [](float v) { return -v; });
      case kExp: return unary_map(x, o, n, [](float v) { return std::exp(v); });
      case kLog: return unary_map(x, o, n, [](float v) { return std::log(v); });
      case kSqrt: return unary_map(x, o, n, [](float v) { return std::sqrt(v); });
      case kRsqrt: return unary_map(x, o, n, [](float v) { return 1.f / std::sqrt(v); });
      case kSquare: return unary_map(x, o, n, [](float v) { return v * v; });
      case kAbs: return unary_map(x, o, n, [](float v) { return std::fabs(v); });
      case kStep: return unary_map(x, o, n, [alpha](float v) { const float s = v > 0.f ? 1.f : alpha; return v == v ? s : v; });
      case kReciprocal: return unary_map(x, o, n, [](float v) { return 1.f / v; });
      case kSigmoid: return unary_map(x, o, n, [](float v) { return 1.f / (1.f + std::exp(-v)); });
      case kTanh: return unary_map(x, o, n, [](float v) { return std::tanh(v); });
      case kRelu6: return unary_map(x, o, n, [](float v) { return v < 0.f ? 0.f : (v > 6.f ? 6.f : v); });
      case kErf: return unary_map(x, o, n, [](float v) { return std::erf(v); });
      default: throw std::invalid_argument("unary: unknown op");
    }
  });
}

// addN(out, [t0, t1, ...]): at least one tensor, all of out's length.
Napi::Value AddN(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "addN", {"out", "xs"});
    const F32 out = args.f32(0);
    float* o = out.data;
    const int64_t n = static_cast<int64_t>(out.size);
    const std::vector<F32> xs = args.f32_list(1, out.size);
    if (xs.empty()) args.fail_range(args.name(1) + " is empty (addN needs at least one tensor)");
    for (int64_t i = 0; i < n; ++i) o[i] = xs[0][i];
    for (size_t t = 1; t < xs.size(); ++t) {
      const float* x = xs[t].data;
      for (int64_t i = 0; i < n; ++i) o[i] += x[i];
    }
  });
}
