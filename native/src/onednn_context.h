// The oneDNN engine and stream shared by all native kernels, plus the argument helpers every
// N-API entry point uses. One CPU engine and one in-order stream: JS calls the kernels serially.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "oneapi/dnnl/dnnl.hpp"

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

// Float32Array argument i (a view: Data() already accounts for its byte offset).
inline float* f32_arg(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Float32Array>().Data();
}
inline size_t f32_len(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Float32Array>().ElementLength();
}
inline int64_t int_arg(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Int64Value();
}
inline double num_arg(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().DoubleValue();
}
// Int32Array argument i as a pointer + length (shapes and axes).
inline const int32_t* i32_arg(const Napi::CallbackInfo& info, size_t i, size_t* len) {
  auto a = info[i].As<Napi::Int32Array>();
  *len = a.ElementLength();
  return a.Data();
}

// Runs body and turns a oneDNN or std exception into a JS exception, so a bad shape reaches the
// caller as an Error instead of aborting the process.
template <typename Body>
Napi::Value guarded(const Napi::CallbackInfo& info, Body body) {
  try {
    body();
  } catch (const dnnl::error& e) {
    Napi::Error::New(info.Env(), std::string("oneDNN: ") + e.what() + " (status " +
                                     std::to_string(static_cast<int>(e.status)) + ")")
        .ThrowAsJavaScriptException();
  } catch (const std::exception& e) {
    Napi::Error::New(info.Env(), e.what()).ThrowAsJavaScriptException();
  }
  return info.Env().Undefined();
}

// Entry points, one group per source file; addon.cc exports them.
Napi::Value ConvForward(const Napi::CallbackInfo& info);
Napi::Value ConvBackwardData(const Napi::CallbackInfo& info);
Napi::Value ConvBackwardWeights(const Napi::CallbackInfo& info);
Napi::Value MatMul(const Napi::CallbackInfo& info);
Napi::Value Binary(const Napi::CallbackInfo& info);
Napi::Value Unary(const Napi::CallbackInfo& info);
Napi::Value AddN(const Napi::CallbackInfo& info);
Napi::Value Reduce(const Napi::CallbackInfo& info);
Napi::Value BatchNormTrain(const Napi::CallbackInfo& info);
Napi::Value BatchNormTrainGrad(const Napi::CallbackInfo& info);
Napi::Value BatchNormInference(const Napi::CallbackInfo& info);
Napi::Value SgdUpdate(const Napi::CallbackInfo& info);
