// Decodes 8-bit JPEG and PNG files to RGB with the system's libjpeg-turbo and libpng, off the
// JavaScript thread (issue 50): sharp/libvips spends ~1 ms of per-image set-up on a 64x64 JPEG,
// twelve times what PIL needs. Debian's PIL links the same libjpeg62-turbo, with the same
// settings (islow IDCT, fancy upsampling), so the pixels are PIL's pixels, and the conversions are
// PIL's convert('RGB'): greyscale replicated, palette looked up (transparency ignored), alpha
// dropped (not composited); EXIF orientation applied as ImageOps.exif_transpose does.
// What it does not read the same way PIL does (CMYK/YCCK JPEGs, 16-bit PNGs, other formats) it
// declines (resolves null) and lcconv decodes that file with sharp instead.
// A separate addon from lcconv_native so that decoding images never loads oneDNN and OpenMP.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <png.h>

namespace {

struct Decoded {
  std::vector<uint8_t> rgb;  // height x width x 3
  int width = 0;
  int height = 0;
  bool declined = false;  // a file this decoder leaves to sharp
  std::string format;     // "jpeg" or "png"
};

bool ReadFile(const std::string& path, std::vector<uint8_t>& out, std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return false;
  }
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) out.insert(out.end(), chunk, chunk + n);
  bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) error = "read error";
  return !failed;
}

uint32_t Read32(const uint8_t* p, bool big) {
  return big ? (uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3])
             : (uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]);
}
uint16_t Read16(const uint8_t* p, bool big) { return big ? uint16_t(p[0] << 8 | p[1]) : uint16_t(p[1] << 8 | p[0]); }

// The Orientation tag (0x0112) of IFD0 of a TIFF-structured EXIF block; 1 (as stored) when absent.
int ExifOrientation(const uint8_t* tiff, size_t size) {
  if (size < 8) return 1;
  bool big;
  if (tiff[0] == 'M' && tiff[1] == 'M') big = true;
  else if (tiff[0] == 'I' && tiff[1] == 'I') big = false;
  else return 1;
  uint32_t ifd = Read32(tiff + 4, big);
  if (ifd > size - 2) return 1;
  uint16_t entries = Read16(tiff + ifd, big);
  for (uint32_t i = 0; i < entries; i++) {
    size_t at = size_t(ifd) + 2 + size_t(i) * 12;
    if (at + 12 > size) return 1;
    if (Read16(tiff + at, big) == 0x0112 && Read16(tiff + at + 2, big) == 3) return Read16(tiff + at + 8, big);
  }
  return 1;
}

// ImageOps.exif_transpose: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise,
// 7 transverse, 8 rotate 90 counter-clockwise; any other value leaves the image as stored.
void Orient(Decoded& d, int orientation) {
  if (orientation < 2 || orientation > 8) return;
  const int W = d.width, H = d.height;
  const bool swap = orientation >= 5;
  const int ow = swap ? H : W, oh = swap ? W : H;
  std::vector<uint8_t> out(d.rgb.size());
  for (int oy = 0; oy < oh; oy++)
    for (int ox = 0; ox < ow; ox++) {
      int sx, sy;
      switch (orientation) {
        case 2: sx = W - 1 - ox; sy = oy; break;
        case 3: sx = W - 1 - ox; sy = H - 1 - oy; break;
        case 4: sx = ox; sy = H - 1 - oy; break;
        case 5: sx = oy; sy = ox; break;
        case 6: sx = oy; sy = H - 1 - ox; break;
        case 7: sx = W - 1 - oy; sy = H - 1 - ox; break;
        default: sx = W - 1 - oy; sy = ox; break;  // 8
      }
      std::memcpy(&out[(size_t(oy) * ow + ox) * 3], &d.rgb[(size_t(sy) * W + sx) * 3], 3);
    }
  d.rgb.swap(out);
  d.width = ow;
  d.height = oh;
}

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegFail(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// A libjpeg warning (a truncated or corrupt stream decoded with grey filler) is an error here, as
// PIL raises "image file is truncated"; trace messages (level > 0) are ignored.
void JpegWarn(j_common_ptr cinfo, int level) {
  if (level < 0) JpegFail(cinfo);
}

bool DecodeJpeg(const std::vector<uint8_t>& file, Decoded& d, std::string& error) {
  d.format = "jpeg";
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = JpegFail;
  err.mgr.emit_message = JpegWarn;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    error = err.message;
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, file.data(), file.size());
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);  // PIL's CMYK conversion is a formula of its own: sharp's path has it
    d.declined = true;
    return true;
  }
  int orientation = 1;
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next)
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && std::memcmp(m->data, "Exif\0\0", 6) == 0) {
      orientation = ExifOrientation(m->data + 6, m->data_length - 6);
      break;  // PIL reads the first Exif segment
    }
  cinfo.out_color_space = JCS_RGB;  // greyscale replicated, as convert('RGB') does
  jpeg_start_decompress(&cinfo);
  d.width = int(cinfo.output_width);
  d.height = int(cinfo.output_height);
  d.rgb.resize(size_t(d.width) * d.height * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = &d.rgb[size_t(cinfo.output_scanline) * d.width * 3];
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  Orient(d, orientation);
  return true;
}

struct PngSource {
  const std::vector<uint8_t>* file;
  size_t at;
};

struct PngJump {
  std::jmp_buf jump;
  std::string message;
};

void PngRead(png_structp png, png_bytep out, png_size_t n) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (src->at + n > src->file->size()) png_error(png, "file ends early (truncated)");
  std::memcpy(out, src->file->data() + src->at, n);
  src->at += n;
}

void PngFail(png_structp png, png_const_charp message) {
  auto* jump = static_cast<PngJump*>(png_get_error_ptr(png));
  jump->message = message;
  std::longjmp(jump->jump, 1);
}

void PngWarn(png_structp, png_const_charp) {}  // ancillary-chunk warnings: PIL ignores them too

bool DecodePng(const std::vector<uint8_t>& file, Decoded& d, std::string& error) {
  d.format = "png";
  PngJump jump;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &jump, PngFail, PngWarn);
  if (!png) {
    error = "out of memory";
    return false;
  }
  png_infop info = png_create_info_struct(png);
  std::vector<png_bytep> rows;
  PngSource src{&file, 0};
  if (setjmp(jump.jump)) {
    png_destroy_read_struct(&png, &info, nullptr);
    error = jump.message;
    return false;
  }
  if (!info) png_error(png, "out of memory");
  png_set_read_fn(png, &src, PngRead);
  png_read_info(png, info);
  const int depth = png_get_bit_depth(png, info);
  const int type = png_get_color_type(png, info);
  if (depth == 16) {
    png_destroy_read_struct(&png, &info, nullptr);  // PIL keeps 16-bit greyscale as 'I': left to sharp
    d.declined = true;
    return true;
  }
  if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_strip_alpha(png);  // also the alpha that a palette's or greyscale's tRNS chunk expands to
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  d.width = int(png_get_image_width(png, info));
  d.height = int(png_get_image_height(png, info));
  if (png_get_rowbytes(png, info) != size_t(d.width) * 3) png_error(png, "unexpected row layout");
  d.rgb.resize(size_t(d.width) * d.height * 3);
  rows.resize(d.height);
  for (int y = 0; y < d.height; y++) rows[y] = &d.rgb[size_t(y) * d.width * 3];
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  int orientation = 1;
  png_uint_32 exif_size = 0;
  png_bytep exif = nullptr;
  if (png_get_eXIf_1(png, info, &exif_size, &exif) && exif) orientation = ExifOrientation(exif, exif_size);
  png_destroy_read_struct(&png, &info, nullptr);
  Orient(d, orientation);
  return true;
}


// torchvision's Resize(R) + CenterCrop(S) on PIL images, and PIL's convert('L'): the same
// arithmetic as src/data/resample.ts (the reference, and the path for files this decoder
// declines), here so that it runs on the worker thread too; test/data/torchvision-decode.test.ts
// checks that the two give the same bytes. PIL's bilinear filter is a triangle whose support widens
// with the downscale factor, applied separably (horizontal pass first, over the rows the vertical
// pass reads), each pass rounded to 8 bits with 22-bit fixed-point coefficients.
constexpr int kPrecisionBits = 22;

struct Taps {
  std::vector<int> first, count;
  std::vector<int64_t> weights;  // out x size
  int size = 0;
};

Taps MakeTaps(int in_size, int out_size) {
  Taps t;
  const double scale = double(in_size) / out_size;
  const double filter_scale = scale > 1 ? scale : 1;
  const double support = filter_scale;  // the triangle's support is 1
  t.size = int(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.weights.assign(size_t(out_size) * t.size, 0);
  std::vector<double> k(t.size);
  for (int xx = 0; xx < out_size; xx++) {
    const double center = (xx + 0.5) * scale;
    const int xmin = std::max(int(std::trunc(center - support + 0.5)), 0);
    const int xmax = std::min(int(std::trunc(center + support + 0.5)), in_size) - xmin;
    double ww = 0;
    for (int x = 0; x < xmax; x++) {
      const double d = std::fabs((x + xmin - center + 0.5) / filter_scale);
      k[x] = d < 1 ? 1 - d : 0;
      ww += k[x];
    }
    for (int x = 0; x < xmax; x++) {
      const double w = ww == 0 ? k[x] : k[x] / ww;
      t.weights[size_t(xx) * t.size + x] =
          int64_t(std::trunc(w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits)));
    }
    t.first[xx] = xmin;
    t.count[xx] = xmax;
  }
  return t;
}

inline uint8_t Clip8(int64_t sum) {
  const int64_t v = sum >> kPrecisionBits;  // floor, as Math.floor(sum / 2^22)
  return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

struct Image {
  std::vector<uint8_t> data;
  int width, height, channels;
};

Image Horizontal(const Image& img, int out_width, int row_first, int rows) {
  const Taps t = MakeTaps(img.width, out_width);
  const int c = img.channels;
  Image out{std::vector<uint8_t>(size_t(out_width) * rows * c), out_width, rows, c};
  const int64_t half = int64_t(1) << (kPrecisionBits - 1);
  for (int y = 0; y < rows; y++) {
    const uint8_t* row = &img.data[size_t(row_first + y) * img.width * c];
    for (int xx = 0; xx < out_width; xx++) {
      const int x0 = t.first[xx], n = t.count[xx];
      const int64_t* w = &t.weights[size_t(xx) * t.size];
      for (int ch = 0; ch < c; ch++) {
        int64_t sum = half;
        for (int x = 0; x < n; x++) sum += int64_t(row[(x0 + x) * c + ch]) * w[x];
        out.data[(size_t(y) * out_width + xx) * c + ch] = Clip8(sum);
      }
    }
  }
  return out;
}

Image Vertical(const Image& img, const Taps& t, int shift, int out_height) {
  const size_t row_length = size_t(img.width) * img.channels;
  Image out{std::vector<uint8_t>(row_length * out_height), img.width, out_height, img.channels};
  const int64_t half = int64_t(1) << (kPrecisionBits - 1);
  for (int yy = 0; yy < out_height; yy++) {
    const int y0 = t.first[yy] - shift, n = t.count[yy];
    const int64_t* w = &t.weights[size_t(yy) * t.size];
    for (size_t i = 0; i < row_length; i++) {
      int64_t sum = half;
      for (int y = 0; y < n; y++) sum += int64_t(img.data[size_t(y0 + y) * row_length + i]) * w[y];
      out.data[yy * row_length + i] = Clip8(sum);
    }
  }
  return out;
}

// PIL's Image.resize((width, height), BILINEAR); the image itself when the size is unchanged.
Image ResizeBilinear(Image img, int width, int height) {
  if (width == img.width && height == img.height) return img;
  const Taps vert = MakeTaps(img.height, height);
  const int row_first = vert.first[0];
  const int row_last = vert.first[height - 1] + vert.count[height - 1];
  int shift = 0;
  if (width != img.width) {
    img = Horizontal(img, width, row_first, row_last - row_first);
    shift = row_first;
  }
  return height != img.height ? Vertical(img, vert, shift, height) : img;
}

// Python's round((n - size) / 2), half to even, of an integer n - size.
int CropOffset(int d) {
  if (d % 2 == 0) return d / 2;
  const int k = d / 2;
  return k % 2 == 0 ? k : k + 1;
}

// Resize(resize) with torchvision's output size (shorter side to `resize`, the longer truncated),
// CenterCrop(size), then convert('L') when `grey`.
Image Torchvision(Image img, int resize, int size, bool grey) {
  const bool portrait = img.width <= img.height;
  const int short_side = portrait ? img.width : img.height, long_side = portrait ? img.height : img.width;
  if (short_side != resize) {
    const int new_long = int(int64_t(resize) * long_side / short_side);
    img = ResizeBilinear(std::move(img), portrait ? resize : new_long, portrait ? new_long : resize);
  }
  if (img.width != size || img.height != size) {
    const int top = CropOffset(img.height - size), left = CropOffset(img.width - size);
    const int c = img.channels;
    Image out{std::vector<uint8_t>(size_t(size) * size * c), size, size, c};
    for (int y = 0; y < size; y++)
      std::memcpy(&out.data[size_t(y) * size * c], &img.data[(size_t(top + y) * img.width + left) * c], size_t(size) * c);
    img = std::move(out);
  }
  if (grey && img.channels == 3) {
    Image out{std::vector<uint8_t>(size_t(img.width) * img.height), img.width, img.height, 1};
    for (size_t i = 0; i < out.data.size(); i++)
      out.data[i] = uint8_t((img.data[3 * i] * 19595 + img.data[3 * i + 1] * 38470 + img.data[3 * i + 2] * 7471 + 0x8000) >> 16);
    img = std::move(out);
  }
  return img;
}

// Hands `img` to JavaScript as {data: Buffer, width, height, channels}, without a copy.
void SetImage(Napi::Object result, Image img) {
  Napi::Env env = result.Env();
  auto* owned = new std::vector<uint8_t>(std::move(img.data));
  result.Set("data", Napi::Buffer<uint8_t>::New(env, owned->data(), owned->size(),
                                                [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, owned));
  result.Set("width", img.width);
  result.Set("height", img.height);
  result.Set("channels", img.channels);
}

class DecodeWorker : public Napi::AsyncWorker {
 public:
  struct Geometry {
    int resize = 0;  // 0: full size, as decoded
    int size = 0;
    bool grey = false;
  };
  DecodeWorker(Napi::Env env, std::string path, Geometry geometry)
      : Napi::AsyncWorker(env),
        path_(std::move(path)),
        geometry_(geometry),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::vector<uint8_t> file;
    std::string error;
    if (!ReadFile(path_, file, error)) return SetError(error);
    static const uint8_t kJpeg[3] = {0xFF, 0xD8, 0xFF};
    static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    bool ok = true;
    if (file.size() >= 3 && std::memcmp(file.data(), kJpeg, 3) == 0) ok = DecodeJpeg(file, out_, error);
    else if (file.size() >= 8 && std::memcmp(file.data(), kPng, 8) == 0) ok = DecodePng(file, out_, error);
    else out_.declined = true;  // another format: sharp reads it
    if (!ok) return SetError(error);
    image_ = Image{std::move(out_.rgb), out_.width, out_.height, 3};
    if (!out_.declined && geometry_.resize > 0)
      image_ = Torchvision(std::move(image_), geometry_.resize, geometry_.size, geometry_.grey);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (out_.declined) return deferred_.Resolve(env.Null());
    Napi::Object result = Napi::Object::New(env);
    SetImage(result, std::move(image_));
    result.Set("format", out_.format);
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::string path_;
  Geometry geometry_;
  Napi::Promise::Deferred deferred_;
  Decoded out_;
  Image image_;
};

// decode(path[, {resize, size, grey}]): Promise of {data (row-major), width, height, channels,
// format}: the file at full size in RGB, or with a geometry torchvision's Resize(resize) +
// CenterCrop(size) (+ convert('L') when grey); null for a file this decoder leaves to sharp; rejects
// with libjpeg's or libpng's message on a damaged file.
Napi::Value Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DecodeWorker::Geometry geometry;
  if (info.Length() == 2 && info[1].IsObject()) {
    Napi::Object g = info[1].As<Napi::Object>();
    geometry.resize = g.Get("resize").ToNumber().Int32Value();
    geometry.size = g.Get("size").ToNumber().Int32Value();
    geometry.grey = g.Get("grey").ToBoolean().Value();
  }
  if (info.Length() < 1 || !info[0].IsString() || geometry.resize < geometry.size || geometry.size < 0) {
    Napi::TypeError::New(env, "image decode: decode(path[, {resize >= size, size, grey}])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* worker = new DecodeWorker(env, info[0].As<Napi::String>().Utf8Value(), geometry);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// Part of the cache key: other library versions may decode other pixels.
Napi::Value Versions(const Napi::CallbackInfo& info) {
  Napi::Object v = Napi::Object::New(info.Env());
  v.Set("libjpeg_turbo", LIBJPEG_TURBO_VERSION_NUMBER);
  v.Set("libpng", png_access_version_number());
  return v;
}

// resample(rgb, width, height, resize, size, grey): the geometry step alone, synchronously, on
// decoded RGB pixels: for the test that holds it equal to src/data/resample.ts.
Napi::Value Resample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 6 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "image decode: resample(rgb, width, height, resize, size, grey)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array rgb = info[0].As<Napi::Uint8Array>();
  const int width = info[1].ToNumber().Int32Value(), height = info[2].ToNumber().Int32Value();
  const int resize = info[3].ToNumber().Int32Value(), size = info[4].ToNumber().Int32Value();
  if (width < 1 || height < 1 || size < 1 || resize < size || rgb.ElementLength() != size_t(width) * height * 3) {
    Napi::RangeError::New(env, "image decode: resample: sizes do not match the pixels").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Image img{std::vector<uint8_t>(rgb.Data(), rgb.Data() + rgb.ElementLength()), width, height, 3};
  Napi::Object result = Napi::Object::New(env);
  SetImage(result, Torchvision(std::move(img), resize, size, info[5].ToBoolean().Value()));
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("decode", Napi::Function::New(env, Decode));
  exports.Set("resample", Napi::Function::New(env, Resample));
  exports.Set("versions", Napi::Function::New(env, Versions));
  return exports;
}

}  // namespace

NODE_API_MODULE(lcconv_image, Init)
