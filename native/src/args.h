// The N-API boundary of the addon: checked access to an entry point's arguments, and `guarded`,
// which runs the entry point's body and turns any C++ failure into one JS exception.
//
// Every entry point declares its arguments once, by name (`Args args(info, "unary", {"x", "out",
// "op", "alpha"})`), and reads them only through the accessors below. Each checks the JS type
// (a Float64Array is not a Float32Array), and the caller states the length it expects from the
// shapes it was given, so a short buffer, a wrong type or a missing argument becomes a TypeError or
// RangeError naming the function and the argument instead of reading or writing out of bounds.
// node-addon-api's C++ exceptions are off (NAPI_DISABLE_CPP_EXCEPTIONS): failures travel as the
// C++ exception ArgError up to `guarded`, which throws exactly one JS exception and returns.
#pragma once

#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

// A bad argument. kType: wrong kind of value (becomes a JS TypeError); kRange: right kind, wrong
// size or value (RangeError).
class ArgError : public std::runtime_error {
 public:
  enum class Kind { kType, kRange };
  ArgError(Kind kind, const std::string& message) : std::runtime_error(message), kind(kind) {}
  Kind kind;
};

// A typed array's elements, as a pointer (already offset into its buffer) and a count.
template <typename T>
struct ArrayView {
  T* data;
  size_t size;
  T& operator[](size_t i) const { return data[i]; }
};
using F32 = ArrayView<float>;
using I32 = ArrayView<const int32_t>;

class Args {
 public:
  // names: every argument of `fn`, in order; a different count is a TypeError.
  Args(const Napi::CallbackInfo& info, const char* fn, std::initializer_list<const char*> names)
      : info_(info), fn_(fn), names_(names) {
    if (info.Length() != names_.size()) {
      std::string list;
      for (const char* n : names_) list += (list.empty() ? "" : ", ") + std::string(n);
      fail_type("expected " + std::to_string(names_.size()) + " argument" + (names_.size() == 1 ? "" : "s") +
                (list.empty() ? "" : " (" + list + ")") + ", got " + std::to_string(info.Length()));
    }
  }

  // Float32Array argument i, any length.
  F32 f32(size_t i) const {
    const Napi::Value v = info_[i];
    if (!is_typed(v, napi_float32_array)) fail_type(name(i) + " must be a Float32Array, got " + describe(v));
    auto a = v.As<Napi::Float32Array>();
    return {a.Data(), a.ElementLength()};
  }
  // Float32Array argument i holding exactly `len` elements.
  F32 f32(size_t i, size_t len) const { return expect_len(f32(i), i, len); }
  // Whether an optional argument (e.g. a bias) was passed as null or undefined.
  bool is_null(size_t i) const { return info_[i].IsNull() || info_[i].IsUndefined(); }
  // Array of Float32Arrays, each of `len` elements.
  std::vector<F32> f32_list(size_t i, size_t len) const {
    std::vector<F32> out = f32_list(i);
    for (size_t t = 0; t < out.size(); ++t) {
      if (out[t].size != len) {
        fail_range(name(i) + "[" + std::to_string(t) + "] has " + std::to_string(out[t].size) +
                   " elements, expected " + std::to_string(len));
      }
    }
    return out;
  }
  // Array of Float32Arrays, any lengths.
  std::vector<F32> f32_list(size_t i) const {
    const Napi::Value v = info_[i];
    if (!v.IsArray()) fail_type(name(i) + " must be an Array of Float32Array, got " + describe(v));
    auto list = v.As<Napi::Array>();
    std::vector<F32> out;
    out.reserve(list.Length());
    for (uint32_t t = 0; t < list.Length(); ++t) {
      const Napi::Value e = list.Get(t);
      if (!is_typed(e, napi_float32_array)) {
        fail_type(name(i) + "[" + std::to_string(t) + "] must be a Float32Array, got " + describe(e));
      }
      auto a = e.As<Napi::Float32Array>();
      out.push_back({a.Data(), a.ElementLength()});
    }
    return out;
  }
  // Array of Float32Arrays matching `like` (argument like_index) in count and in each length.
  std::vector<F32> f32_list_like(size_t i, const std::vector<F32>& like, size_t like_index) const {
    std::vector<F32> out = f32_list(i);
    const std::string other = names_[like_index];
    if (out.size() != like.size()) {
      fail_range(name(i) + " has " + std::to_string(out.size()) + " arrays, expected " +
                 std::to_string(like.size()) + " (as many as " + other + ")");
    }
    for (size_t t = 0; t < out.size(); ++t) {
      if (out[t].size != like[t].size) {
        fail_range(name(i) + "[" + std::to_string(t) + "] has " + std::to_string(out[t].size) +
                   " elements, expected " + std::to_string(like[t].size) + " (as " + other + "[" +
                   std::to_string(t) + "])");
      }
    }
    return out;
  }

  // Int32Array argument i (shapes, masks, packed geometry), any length.
  I32 i32(size_t i) const {
    const Napi::Value v = info_[i];
    if (!is_typed(v, napi_int32_array)) fail_type(name(i) + " must be an Int32Array, got " + describe(v));
    auto a = v.As<Napi::Int32Array>();
    return {a.Data(), a.ElementLength()};
  }
  I32 i32(size_t i, size_t len) const {
    const I32 a = i32(i);
    if (a.size != len) {
      fail_range(name(i) + " has " + std::to_string(a.size) + " elements, expected " + std::to_string(len));
    }
    return a;
  }
  // A shape: an Int32Array of non-negative dims; returns it, its element count in *size.
  I32 shape(size_t i, size_t* size) const {
    const I32 s = i32(i);
    *size = elements(s, name(i));
    return s;
  }

  // A finite number.
  double number(size_t i) const {
    const Napi::Value v = info_[i];
    if (!v.IsNumber()) fail_type(name(i) + " must be a number, got " + describe(v));
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!(d - d == 0)) fail_range(name(i) + " must be finite, got " + std::to_string(d));
    return d;
  }
  // A boolean (not a number or anything truthy).
  bool boolean(size_t i) const {
    const Napi::Value v = info_[i];
    if (!v.IsBoolean()) fail_type(name(i) + " must be a boolean, got " + describe(v));
    return v.As<Napi::Boolean>().Value();
  }
  // An integer in [min, max].
  int64_t integer(size_t i, int64_t min, int64_t max = std::numeric_limits<int32_t>::max()) const {
    const double d = number(i);
    if (d != static_cast<double>(static_cast<int64_t>(d)) || d < static_cast<double>(min) ||
        d > static_cast<double>(max)) {
      fail_range(name(i) + " must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                 "], got " + std::to_string(d));
    }
    return static_cast<int64_t>(d);
  }

  // Element count of `dims` (each >= 0), refusing overflow; `what` names them in the message.
  size_t elements(I32 dims, const std::string& what) const {
    size_t n = 1;
    for (size_t d = 0; d < dims.size; ++d) {
      if (dims[d] < 0) fail_range(what + "[" + std::to_string(d) + "] is negative (" + std::to_string(dims[d]) + ")");
      n = checked_mul(n, static_cast<size_t>(dims[d]), what);
    }
    return n;
  }
  // Element count of dims already known to be >= 0 (from a packed geometry), refusing overflow.
  size_t elements(std::initializer_list<int64_t> dims, const std::string& what) const {
    size_t n = 1;
    for (int64_t d : dims) n = checked_mul(n, static_cast<size_t>(d), what);
    return n;
  }
  size_t checked_mul(size_t a, size_t b, const std::string& what) const {
    size_t r;
    if (__builtin_mul_overflow(a, b, &r)) fail_range(what + ": element count overflows");
    return r;
  }

  // "fn: argument 2 (op)", the prefix of every message about argument i.
  std::string name(size_t i) const {
    return std::string(fn_) + ": argument " + std::to_string(i) + " (" + names_[i] + ")";
  }
  [[noreturn]] void fail_range(const std::string& message) const {
    throw ArgError(ArgError::Kind::kRange, prefixed(message));
  }
  [[noreturn]] void fail_type(const std::string& message) const {
    throw ArgError(ArgError::Kind::kType, prefixed(message));
  }

 private:
  template <typename T>
  ArrayView<T> expect_len(ArrayView<T> a, size_t i, size_t len) const {
    if (a.size != len) {
      fail_range(name(i) + " has " + std::to_string(a.size) + " elements, expected " + std::to_string(len));
    }
    return a;
  }
  std::string prefixed(const std::string& message) const {
    const std::string fn(fn_);
    return message.compare(0, fn.size() + 1, fn + ":") == 0 ? message : fn + ": " + message;
  }
  static bool is_typed(const Napi::Value& v, napi_typedarray_type type) {
    return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
  }
  static std::string describe(const Napi::Value& v) {
    if (v.IsUndefined()) return "undefined";
    if (v.IsNull()) return "null";
    if (v.IsTypedArray()) {
      switch (v.As<Napi::TypedArray>().TypedArrayType()) {
        case napi_float32_array: return "Float32Array";
        case napi_float64_array: return "Float64Array";
        case napi_int32_array: return "Int32Array";
        case napi_uint32_array: return "Uint32Array";
        case napi_int8_array: return "Int8Array";
        case napi_uint8_array: return "Uint8Array";
        case napi_uint8_clamped_array: return "Uint8ClampedArray";
        case napi_int16_array: return "Int16Array";
        case napi_uint16_array: return "Uint16Array";
        default: return "another typed array";
      }
    }
    if (v.IsArray()) return "Array";
    if (v.IsNumber()) return "number";
    if (v.IsString()) return "string";
    if (v.IsBoolean()) return "boolean";
    if (v.IsFunction()) return "function";
    return "object";
  }

  const Napi::CallbackInfo& info_;
  const char* fn_;
  std::vector<const char*> names_;
};

// Runs body and turns an ArgError, a oneDNN error or any std exception into a single JS exception,
// so bad input reaches the caller as an Error instead of aborting the process. If a node-addon-api
// call already left an exception pending, that one is kept (throwing a second one is fatal).
template <typename Body>
Napi::Value guarded(const Napi::CallbackInfo& info, Body body) {
  Napi::Env env = info.Env();
  auto raise = [&](Napi::Error error) {
    if (!env.IsExceptionPending()) error.ThrowAsJavaScriptException();
  };
  try {
    body();
  } catch (const ArgError& e) {
    if (e.kind == ArgError::Kind::kType) {
      raise(Napi::TypeError::New(env, e.what()));
    } else {
      raise(Napi::RangeError::New(env, e.what()));
    }
  } catch (const dnnl::error& e) {
    raise(Napi::Error::New(env, std::string("oneDNN: ") + e.what() + " (status " +
                                    std::to_string(static_cast<int>(e.status)) + ")"));
  } catch (const std::exception& e) {
    raise(Napi::Error::New(env, e.what()));
  }
  return env.Undefined();
}
