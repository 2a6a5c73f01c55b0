// Module entry of the oneDNN addon: owns the engine, stream and primitive cache, reports the
// library version / ISA / threads for `lcconv doctor`, and exports the kernels of the other files.
#include <malloc.h>
#include <omp.h>

#include <cstdlib>
#include <string>

#include "onednn_context.h"
#include "primitive_cache.h"

// Enough for every conv/matmul shape of a CIFAR ResNet's forward and backward passes (~40),
// small enough that a sweep over many widths and kernel sizes cannot grow without end.
constexpr size_t kDefaultCacheLimit = 256;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpu_stream() {
  static dnnl::stream stream(cpu_engine());
  return stream;
}

PrimitiveCache& primitive_cache() {
  static PrimitiveCache cache(kDefaultCacheLimit);
  return cache;
}

namespace {

std::string isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "isa#" + std::to_string(static_cast<int>(isa));
  }
}

// For entry points without arguments that return a value: false (with a TypeError thrown) when
// called with any.
bool checked(const Napi::CallbackInfo& info, const char* fn) {
  bool ok = false;
  guarded(info, [&] {
    Args args(info, fn, {});
    ok = true;
  });
  return ok;
}

Napi::Array names(Napi::Env env, const char* const* list, size_t count) {
  Napi::Array a = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; ++i) a.Set(static_cast<uint32_t>(i), list[i]);
  return a;
}

// abi(): op codes and packed-argument field names, index = code / position (see abi.h).
Napi::Value Abi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!checked(info, "abi")) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("binaryOps", names(env, abi::kBinaryOpNames, abi::kBinaryOpCount));
  o.Set("unaryOps", names(env, abi::kUnaryOpNames, abi::kUnaryOpCount));
  o.Set("reduceOps", names(env, abi::kReduceOpNames, abi::kReduceOpCount));
  o.Set("convGeometry", names(env, abi::kConvGeometryNames, abi::conv::kFieldCount));
  o.Set("matMulShape", names(env, abi::kMatMulShapeNames, abi::matmul::kFieldCount));
  return o;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!checked(info, "info")) return env.Undefined();
  const dnnl_version_t* v = dnnl_version();
  Napi::Object o = Napi::Object::New(env);
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("isa", isa_name(dnnl::get_effective_cpu_isa()));
  o.Set("threads", omp_get_max_threads());
  o.Set("runtime", v->cpu_runtime == DNNL_RUNTIME_OMP ? "openmp" : "other");
  return o;
}

// setThreads(n): OpenMP threads for oneDNN primitives and the large elementwise loops.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "setThreads", {"threads"});
    omp_set_num_threads(static_cast<int>(args.integer(0, 1)));
  });
}

Napi::Value CacheStatsJs(const Napi::CallbackInfo& info) {
  if (!checked(info, "cacheStats")) return info.Env().Undefined();
  const CacheStats s = primitive_cache().stats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("size", static_cast<double>(s.size));
  o.Set("limit", static_cast<double>(s.limit));
  o.Set("hits", static_cast<double>(s.hits));
  o.Set("misses", static_cast<double>(s.misses));
  o.Set("evictions", static_cast<double>(s.evictions));
  return o;
}

Napi::Value SetCacheLimit(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "setCacheLimit", {"limit"});
    primitive_cache().set_limit(static_cast<size_t>(args.integer(0, 1)));
  });
}

Napi::Value ClearCache(const Napi::CallbackInfo& info) {
  return guarded(info, [&] {
    Args args(info, "clearCache", {});
    primitive_cache().clear();
  });
}

// tuneMalloc(): called when the 'cpu-native' backend is activated (not at load, so a process that
// only probes it keeps glibc's defaults). Every kernel output is a fresh Float32Array of up to a
// few MB; glibc serves such sizes with mmap and unmaps them on free, so each output paid ~0.9 ms of
// page faults per 2 MB (measured: a native relu took 0.09 ms, the same relu into a new array
// 1.06 ms; with this 0.26 ms). Keeping them on the heap lets freed activations be reused.
// LCCONV_KEEP_MALLOC=1 leaves glibc's defaults alone.
Napi::Value TuneMalloc(const Napi::CallbackInfo& info) {
  if (!checked(info, "tuneMalloc")) return info.Env().Undefined();
  const char* keep = std::getenv("LCCONV_KEEP_MALLOC");
  const bool tune = !(keep && std::string(keep) == "1");
  if (tune) {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
  }
  return Napi::Boolean::New(info.Env(), tune);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abi", Napi::Function::New(env, Abi));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("tuneMalloc", Napi::Function::New(env, TuneMalloc));
  exports.Set("cacheStats", Napi::Function::New(env, CacheStatsJs));
  exports.Set("setCacheLimit", Napi::Function::New(env, SetCacheLimit));
  exports.Set("clearCache", Napi::Function::New(env, ClearCache));
  exports.Set("convForward", Napi::Function::New(env, ConvForward));
  exports.Set("convBackwardData", Napi::Function::New(env, ConvBackwardData));
  exports.Set("convBackwardWeights", Napi::Function::New(env, ConvBackwardWeights));
  exports.Set("matMul", Napi::Function::New(env, MatMul));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("addN", Napi::Function::New(env, AddN));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("batchNormTrain", Napi::Function::New(env, BatchNormTrain));
  exports.Set("batchNormTrainGrad", Napi::Function::New(env, BatchNormTrainGrad));
  exports.Set("batchNormInference", Napi::Function::New(env, BatchNormInference));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate));
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  return exports;
}

}  // namespace

NODE_API_MODULE(lcconv_native, Init)
