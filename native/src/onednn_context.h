// The oneDNN engine and stream shared by all native kernels. One CPU engine and one in-order
// stream: JS calls the kernels serially. Entry points read their arguments through args.h.
#pragma once

#include <napi.h>

#include "abi.h"
#include "args.h"
#include "oneapi/dnnl/dnnl.hpp"

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

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
Napi::Value MaxPool(const Napi::CallbackInfo& info);
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info);
