// Op codes and packed-argument layouts shared with TypeScript (src/backends/cpu-native/abi.ts).
// Each list is written once here (X-macros give the enum and the names); the addon exports the
// names (`abi()`), and test/backends/cpu-native-abi.test.ts checks the TypeScript side matches.
#pragma once

#include <cstddef>

#define LCCONV_BINARY_OPS(X)                                                                        \
  X(kAdd, "add") X(kSub, "sub") X(kMul, "mul") X(kDiv, "div") X(kMaximum, "maximum")              \
  X(kMinimum, "minimum") X(kSquaredDifference, "squaredDifference")                                \
  /* reluGrad(dy, x) = dy * step(x): relu's gradient in one pass instead of Step + Multiply */     \
  X(kReluGrad, "reluGrad")                                                                          \
  /* relu6Grad(dy, x) = dy where 0 < x <= 6, else 0: tfjs's relu6 gradient in one pass (of 5) */   \
  X(kRelu6Grad, "relu6Grad")                                                                        \
  /* equal(a, b) = 1 where a == b, else 0 (NaN equals nothing): tfjs's Equal, as floats */          \
  X(kEqual, "equal")

#define LCCONV_UNARY_OPS(X)                                                                         \
  X(kRelu, "relu") X(kNeg, "neg") X(kExp, "exp") X(kLog, "log") X(kSqrt, "sqrt")                   \
  X(kRsqrt, "rsqrt") X(kSquare, "square") X(kAbs, "abs") X(kStep, "step")                           \
  X(kReciprocal, "reciprocal") X(kSigmoid, "sigmoid") X(kTanh, "tanh") X(kRelu6, "relu6")     \
  X(kErf, "erf")

#define LCCONV_REDUCE_OPS(X) X(kSum, "sum") X(kMean, "mean") X(kMax, "max")

// convForward / convBackwardData / convBackwardWeights: the Int32Array `geometry`, in this order.
#define LCCONV_CONV_GEOMETRY(X)                                                                     \
  X(kBatch, "batch") X(kInHeight, "inHeight") X(kInWidth, "inWidth")                               \
  X(kInChannels, "inChannels") X(kOutHeight, "outHeight") X(kOutWidth, "outWidth")                 \
  X(kOutChannels, "outChannels") X(kFilterHeight, "filterHeight") X(kFilterWidth, "filterWidth")   \
  X(kStrideHeight, "strideHeight") X(kStrideWidth, "strideWidth")                                  \
  X(kDilationHeight, "dilationHeight") X(kDilationWidth, "dilationWidth") X(kPadTop, "padTop")     \
  X(kPadLeft, "padLeft") X(kPadBottom, "padBottom") X(kPadRight, "padRight")                       \
  X(kGroups, "groups") X(kBias, "bias") X(kRelu, "relu")

// matMul: the Int32Array `shape`, in this order.
#define LCCONV_MATMUL_SHAPE(X)                                                                      \
  X(kBatchA, "batchA") X(kBatchB, "batchB") X(kM, "m") X(kK, "k") X(kN, "n")                      \
  X(kTransposeA, "transposeA") X(kTransposeB, "transposeB") X(kRelu, "relu")

#define LCCONV_ENUM_ENTRY(id, name) id,
#define LCCONV_NAME_ENTRY(id, name) name,

namespace abi {

enum BinaryOp { LCCONV_BINARY_OPS(LCCONV_ENUM_ENTRY) kBinaryOpCount };
enum UnaryOp { LCCONV_UNARY_OPS(LCCONV_ENUM_ENTRY) kUnaryOpCount };
enum ReduceOp { LCCONV_REDUCE_OPS(LCCONV_ENUM_ENTRY) kReduceOpCount };
namespace conv {
enum Field { LCCONV_CONV_GEOMETRY(LCCONV_ENUM_ENTRY) kFieldCount };
}
namespace matmul {
enum Field { LCCONV_MATMUL_SHAPE(LCCONV_ENUM_ENTRY) kFieldCount };
}

inline constexpr const char* kBinaryOpNames[] = {LCCONV_BINARY_OPS(LCCONV_NAME_ENTRY)};
inline constexpr const char* kUnaryOpNames[] = {LCCONV_UNARY_OPS(LCCONV_NAME_ENTRY)};
inline constexpr const char* kReduceOpNames[] = {LCCONV_REDUCE_OPS(LCCONV_NAME_ENTRY)};
inline constexpr const char* kConvGeometryNames[] = {LCCONV_CONV_GEOMETRY(LCCONV_NAME_ENTRY)};
inline constexpr const char* kMatMulShapeNames[] = {LCCONV_MATMUL_SHAPE(LCCONV_NAME_ENTRY)};

}  // namespace abi
