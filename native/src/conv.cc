// 2-D convolution (forward, input gradient, filter gradient) through oneDNN, NHWC activations and
// tfjs's filter layouts (HWIO, depthwise H W C M). Grouped convs cover tfjs's depthwise ops.
//
// Activations stay nhwc (what tfjs holds, so no reorder); weights are created with format_tag::any
// and reordered from the tfjs layout each call: handing oneDNN the HWIO layout as fixed made it
// fall back to a slow gemm path (a prototype measured a 1.85x slower training step that way).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "onednn_context.h"
#include "primitive_cache.h"

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

namespace {

// Shape of one conv, as packed by the TS side (src/backends/cpu-native/conv-kernels.ts).
struct ConvGeometry {
  int64_t n, h, w, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pad_t, pad_l, pad_b, pad_r, groups;
  bool bias, relu;

  // The packed Int32Array (field order: abi.h's LCCONV_CONV_GEOMETRY), checked to be a geometry
  // oneDNN accepts and these kernels' weight layouts describe.
  static ConvGeometry from(const Args& args, size_t i) {
    using namespace abi::conv;
    const I32 p = args.i32(i, kFieldCount);
    for (int f : {kBatch, kInHeight, kInWidth, kInChannels, kOutHeight, kOutWidth, kOutChannels, kFilterHeight,
                  kFilterWidth, kStrideHeight, kStrideWidth, kDilationHeight, kDilationWidth, kGroups}) {
      if (p[f] < 1) field_error(args, i, f, "must be >= 1", p[f]);
    }
    for (int f : {kPadTop, kPadLeft, kPadBottom, kPadRight}) {
      if (p[f] < 0) field_error(args, i, f, "must be >= 0", p[f]);
    }
    for (int f : {kBias, kRelu}) {
      if (p[f] != 0 && p[f] != 1) field_error(args, i, f, "must be 0 or 1", p[f]);
    }
    const ConvGeometry g{p[kBatch], p[kInHeight], p[kInWidth], p[kInChannels], p[kOutHeight], p[kOutWidth],
                         p[kOutChannels], p[kFilterHeight], p[kFilterWidth], p[kStrideHeight], p[kStrideWidth],
                         p[kDilationHeight], p[kDilationWidth], p[kPadTop], p[kPadLeft], p[kPadBottom], p[kPadRight],
                         p[kGroups], p[kBias] != 0, p[kRelu] != 0};
    // weights_user() describes HWIO (one group) and depthwise H W C M (a group per input channel).
    if (g.groups != 1 && (g.groups != g.ic || g.oc % g.groups != 0)) {
      field_error(args, i, kGroups, "must be 1, or inChannels with outChannels a multiple of it", g.groups);
    }
    // oneDNN's output-size rule (it rejects anything else); the 1x1 subsampling path relies on it.
    const auto out_size = [](int64_t in, int64_t pad, int64_t k, int64_t dilation, int64_t stride) {
      const int64_t span = in + pad - ((k - 1) * dilation + 1);
      return span < 0 ? int64_t(-1) : span / stride + 1;
    };
    if (out_size(g.h, g.pad_t + g.pad_b, g.kh, g.dh, g.sh) != g.oh) {
      field_error(args, i, kOutHeight, "does not follow from inHeight, padding, filter, dilation and stride", g.oh);
    }
    if (out_size(g.w, g.pad_l + g.pad_r, g.kw, g.dw, g.sw) != g.ow) {
      field_error(args, i, kOutWidth, "does not follow from inWidth, padding, filter, dilation and stride", g.ow);
    }
    return g;
  }

  [[noreturn]] static void field_error(const Args& args, size_t i, int field, const char* what, int64_t got) {
    args.fail_range(args.name(i) + ": " + abi::kConvGeometryNames[field] + " " + what + ", got " +
                    std::to_string(got));
  }

  // Element counts of the NHWC input, the NHWC output and the filter (HWIO or H W C M).
  size_t src_size(const Args& args) const { return args.elements({n, h, w, ic}, "conv input"); }
  size_t dst_size(const Args& args) const { return args.elements({n, oh, ow, oc}, "conv output"); }
  size_t weights_size(const Args& args) const { return args.elements({kh, kw, ic / groups, oc}, "conv filter"); }

  std::string key(const char* kind) const {
    std::string k(kind);
    for (int64_t v : {n, h, w, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pad_t, pad_l, pad_b, pad_r,
                      groups, int64_t(bias), int64_t(relu)}) {
      k += ',';
      k += std::to_string(v);
    }
    return k;
  }

  memory::desc src() const { return memory::desc({n, ic, h, w}, dt::f32, tag::nhwc); }
  memory::desc dst() const { return memory::desc({n, oc, oh, ow}, dt::f32, tag::nhwc); }
  memory::desc bias_desc() const { return memory::desc({oc}, dt::f32, tag::x); }

  memory::dims weight_dims() const {
    if (groups == 1) return {oc, ic, kh, kw};
    return {groups, oc / groups, ic / groups, kh, kw};
  }
  memory::desc weights_any() const { return memory::desc(weight_dims(), dt::f32, tag::any); }

  // tfjs layouts, described by strides so no copy is needed to hand them over.
  memory::desc weights_user() const {
    if (groups == 1) {  // HWIO: offset = ((kh*KW + kw)*IC + i)*OC + o
      return memory::desc(weight_dims(), dt::f32, memory::dims{1, oc, kw * ic * oc, ic * oc});
    }
    // depthwise H W C M: group g = input channel c, o = multiplier m; offset = ((kh*KW+kw)*C+c)*M+m
    const int64_t m = oc / groups;
    return memory::desc(weight_dims(), dt::f32, memory::dims{m, 1, oc, kw * ic * m, ic * m});
  }

  memory::dims strides() const { return {sh, sw}; }
  memory::dims dilates() const { return {dh - 1, dw - 1}; }  // oneDNN counts the gaps
  memory::dims pad_l_dims() const { return {pad_t, pad_l}; }
  memory::dims pad_r_dims() const { return {pad_b, pad_r}; }

  dnnl::convolution_forward::primitive_desc forward_pd() const {
    auto d = bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                                    dnnl::algorithm::convolution_direct, src(),
                                                    weights_any(), bias_desc(), dst(), strides(),
                                                    dilates(), pad_l_dims(), pad_r_dims())
                  : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                                    dnnl::algorithm::convolution_direct, src(),
                                                    weights_any(), dst(), strides(), dilates(),
                                                    pad_l_dims(), pad_r_dims());
    dnnl::primitive_attr attr;
    if (relu) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      attr.set_post_ops(ops);
    }
    return dnnl::convolution_forward::primitive_desc(d, attr, cpu_engine());
  }
};

// Weights in the layout the primitive chose, and the cached reorder that gets them there.
struct WeightLayout {
  memory::desc user, chosen;
  bool needs_reorder;
  dnnl::reorder reorder;
  memory buffer;  // holds the reordered weights between calls (owned by oneDNN)

  // to_chosen: user -> chosen (weights read by the primitive); else chosen -> user (gradients).
  WeightLayout(const memory::desc& user_md, const memory::desc& chosen_md, bool to_chosen)
      : user(user_md), chosen(chosen_md), needs_reorder(user_md != chosen_md) {
    if (!needs_reorder) return;
    buffer = memory(chosen, cpu_engine());
    auto& eng = cpu_engine();
    reorder = to_chosen ? dnnl::reorder(dnnl::reorder::primitive_desc(eng, user, eng, chosen))
                        : dnnl::reorder(dnnl::reorder::primitive_desc(eng, chosen, eng, user));
  }

  // The weights a primitive reads: tfjs's buffer as is, or reordered into the chosen layout.
  memory input(float* data, dnnl::stream& s) {
    memory user_w(user, cpu_engine(), data);
    if (!needs_reorder) return user_w;
    reorder.execute(s, user_w, buffer);
    return buffer;
  }
};

struct ForwardEntry {
  dnnl::convolution_forward prim;
  ConvGeometry g;
  WeightLayout weights;
};

struct BackwardDataEntry {
  dnnl::convolution_backward_data prim;
  ConvGeometry g;
  WeightLayout weights;
};

struct BackwardWeightsEntry {
  dnnl::convolution_backward_weights prim;
  ConvGeometry g;  // the geometry the primitive runs (stride 1 when subsampled, see below)
  WeightLayout weights;
  // 1x1 strided convs only: x[:, ::sh, ::sw, :] is copied into this dense buffer first.
  bool subsample = false;
  std::vector<float> dense_src;
};

// Copies the rows and columns a 1x1 stride-(sh, sw) conv reads into a dense NHWC buffer. A plain
// loop: oneDNN rejects a strided view whose last row does not span a full stride (odd sizes).
void gather_strided(const float* x, const ConvGeometry& g, float* out) {
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t i = 0; i < g.oh; ++i)
      for (int64_t j = 0; j < g.ow; ++j) {
        const float* src = x + ((n * g.h + i * g.sh) * g.w + j * g.sw) * g.ic;
        std::copy(src, src + g.ic, out);
        out += g.ic;
      }
}

// A 1x1 conv with stride s and no padding reads only x[:, ::s, ::s, :], so its filter gradient is
// that of a stride-1 1x1 conv over the subsampled input. Used because oneDNN 2.6.3's jit_1x1
// strided backward-weights kernel corrupted the heap for channel counts that are not a multiple of
// 8 (test/backends reproduces it), and because it touches 1/s^2 of the input.
bool subsamples(const ConvGeometry& g) {
  return g.kh == 1 && g.kw == 1 && (g.sh > 1 || g.sw > 1) && g.pad_t == 0 && g.pad_l == 0 &&
         g.pad_b == 0 && g.pad_r == 0 &&
         g.dh == 1 && g.dw == 1;
}

}  // namespace

// convForward(x, filter, bias | null, out, geometry): out = relu?(conv(x, filter) + bias?)
Napi::Value ConvForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "convForward", {"x", "filter", "bias", "out", "geometry"});
    const ConvGeometry g = ConvGeometry::from(args, 4);
    float* x = args.f32(0, g.src_size(args)).data;
    float* filter = args.f32(1, g.weights_size(args)).data;
    float* out = args.f32(3, g.dst_size(args)).data;
    if (args.is_null(2) == g.bias) {
      args.fail_range(args.name(2) + (g.bias ? " is null but geometry.bias is 1" : " is given but geometry.bias is 0"));
    }
    float* bias = g.bias ? args.f32(2, static_cast<size_t>(g.oc)).data : nullptr;
    auto e = primitive_cache().get_or_create<ForwardEntry>(g.key("conv_fwd"), [&] {
      auto pd = g.forward_pd();
      return std::make_shared<ForwardEntry>(
          ForwardEntry{dnnl::convolution_forward(pd), g, WeightLayout(g.weights_user(), pd.weights_desc(), true)});
    });
    auto& eng = cpu_engine();
    auto& s = cpu_stream();
    memory w = e->weights.input(filter, s);
    std::unordered_map<int, memory> mem_args{{DNNL_ARG_SRC, memory(g.src(), eng, x)},
                                             {DNNL_ARG_WEIGHTS, w},
                                             {DNNL_ARG_DST, memory(g.dst(), eng, out)}};
    if (g.bias) mem_args.insert({DNNL_ARG_BIAS, memory(g.bias_desc(), eng, bias)});
    e->prim.execute(s, mem_args);
    s.wait();
  });
}

// convBackwardData(dy, filter, dx, geometry): dx = gradient of conv w.r.t. its input.
Napi::Value ConvBackwardData(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "convBackwardData", {"dy", "filter", "dx", "geometry"});
    ConvGeometry g = ConvGeometry::from(args, 3);
    g.bias = g.relu = false;  // bias and activation gradients are separate tfjs ops
    float* dy = args.f32(0, g.dst_size(args)).data;
    float* filter = args.f32(1, g.weights_size(args)).data;
    float* dx = args.f32(2, g.src_size(args)).data;
    auto e = primitive_cache().get_or_create<BackwardDataEntry>(g.key("conv_bwd_data"), [&] {
      auto hint = g.forward_pd();  // oneDNN derives the backward implementation from a forward one
      auto d = dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, g.src(),
                                                     g.weights_any(), g.dst(), g.strides(),
                                                     g.dilates(), g.pad_l_dims(), g.pad_r_dims());
      dnnl::convolution_backward_data::primitive_desc pd(d, cpu_engine(), hint);
      return std::make_shared<BackwardDataEntry>(BackwardDataEntry{
          dnnl::convolution_backward_data(pd), g, WeightLayout(g.weights_user(), pd.weights_desc(), true)});
    });
    auto& eng = cpu_engine();
    auto& s = cpu_stream();
    memory w = e->weights.input(filter, s);
    e->prim.execute(s, {{DNNL_ARG_DIFF_DST, memory(g.dst(), eng, dy)},
                        {DNNL_ARG_WEIGHTS, w},
                        {DNNL_ARG_DIFF_SRC, memory(g.src(), eng, dx)}});
    s.wait();
  });
}

// convBackwardWeights(x, dy, dfilter, geometry): dfilter in the tfjs filter layout.
Napi::Value ConvBackwardWeights(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "convBackwardWeights", {"x", "dy", "dFilter", "geometry"});
    ConvGeometry g = ConvGeometry::from(args, 3);
    g.bias = g.relu = false;
    float* x = args.f32(0, g.src_size(args)).data;
    float* dy = args.f32(1, g.dst_size(args)).data;
    float* dfilter = args.f32(2, g.weights_size(args)).data;
    auto e = primitive_cache().get_or_create<BackwardWeightsEntry>(g.key("conv_bwd_weights"), [&] {
      ConvGeometry run = g;
      const bool sub = subsamples(g);
      if (sub) {
        run.h = g.oh;
        run.w = g.ow;
        run.sh = run.sw = 1;
      }
      auto hint = run.forward_pd();
      auto d = dnnl::convolution_backward_weights::desc(
          dnnl::algorithm::convolution_direct, run.src(), run.weights_any(), run.dst(), run.strides(),
          run.dilates(), run.pad_l_dims(), run.pad_r_dims());
      dnnl::convolution_backward_weights::primitive_desc pd(d, cpu_engine(), hint);
      auto entry = std::make_shared<BackwardWeightsEntry>(BackwardWeightsEntry{
          dnnl::convolution_backward_weights(pd), run,
          WeightLayout(run.weights_user(), pd.diff_weights_desc(), false)});
      if (sub) {
        entry->subsample = true;
        entry->dense_src.resize(static_cast<size_t>(g.n * g.oh * g.ow * g.ic));
      }
      return entry;
    });
    auto& eng = cpu_engine();
    auto& s = cpu_stream();
    if (e->subsample) {
      gather_strided(x, g, e->dense_src.data());
      x = e->dense_src.data();
    }
    memory src(e->g.src(), eng, x);
    memory user_dw(e->weights.user, eng, dfilter);
    memory dw = e->weights.needs_reorder ? e->weights.buffer : user_dw;
    e->prim.execute(s, {{DNNL_ARG_SRC, src},
                        {DNNL_ARG_DIFF_DST, memory(e->g.dst(), eng, dy)},
                        {DNNL_ARG_DIFF_WEIGHTS, dw}});
    if (e->weights.needs_reorder) e->weights.reorder.execute(s, e->weights.buffer, user_dw);
    s.wait();
  });
}
