# Builds the oneDNN addon behind the 'cpu-native' tfjs backend (src/backends/cpu-native), the
# small stderr-capture addon the WebGPU probe uses, and (where the headers are) the JPEG/PNG
# decoder of image folders (src/data/native-decode.ts).
# Needs g++ and Debian's libdnnl-dev (oneDNN 2.x, GNU OpenMP runtime); scripts/build-native.mjs
# runs this and turns any failure into a one-line note instead of a failed install.
{
  "targets": [
    {
      "target_name": "lcconv_native",
      "sources": [
        "src/addon.cc",
        "src/conv.cc",
        "src/matmul.cc",
        "src/sgd.cc",
        "src/eltwise.cc",
        "src/reduce.cc",
        "src/batchnorm.cc",
        "src/pool.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      # -march=native: the addon is compiled on the machine that runs it (at install), so the
      # hand-written elementwise loops may use its widest vector ISA; oneDNN dispatches by itself.
      # -fno-trapping-math: nothing here reads FP exception flags, and without it GCC kept a branch
      # per element for compare-and-select loops (relu gradient 3.05 ms -> 0.127 ms per 2 MB).
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fopenmp", "-fno-trapping-math"],
      "cflags_cc!": ["-fno-exceptions"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    },
    {
      # Holds what native code writes to fd 2 while Dawn initialises (src/backends/stderr-capture.ts).
      "target_name": "lcconv_stdio",
      "sources": ["src/stderr_capture.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2"]
    }
  ],
  "variables": {
    # 1 when the JPEG and PNG headers are there (Debian: libjpeg62-turbo-dev, libpng-dev).
    "image_libs": "<!(node -p \"['/usr/include/jpeglib.h', '/usr/include/png.h'].every((f) => require('fs').existsSync(f)) ? 1 : 0\")"
  },
  "conditions": [
    ["image_libs==1", {
      "targets": [
        {
          # JPEG and PNG decoding with libjpeg-turbo and libpng, PIL's libraries (src/data/native-decode.ts).
          "target_name": "lcconv_image",
          "sources": ["src/image_decode.cc"],
          "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
          "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
          "cflags_cc": ["-std=c++17", "-O2"],
          "libraries": ["-ljpeg", "-lpng16"]
        }
      ]
    }]
  ]
}
