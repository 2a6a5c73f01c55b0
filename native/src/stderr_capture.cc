// Redirects file descriptor 2 into an anonymous temporary file and back, so lcconv can hold what
// native libraries (Dawn) write straight to stderr while they initialise, and summarise it instead
// of printing it. JavaScript cannot do this: process.stderr patching never sees native writes.
// A separate addon from lcconv_native so that using it does not load oneDNN and OpenMP.
#include <napi.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

int saved_stderr = -1;          // the real fd 2 while a capture is active, else -1
std::FILE* capture_file = nullptr;

void throw_errno(Napi::Env env, const char* what) {
  Napi::Error::New(env, std::string("stderr capture: ") + what + ": " + std::strerror(errno))
      .ThrowAsJavaScriptException();
}

// begin(): fd 2 now writes to a temporary file. Throws if a capture is already active.
Napi::Value Begin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 0) {
    Napi::TypeError::New(env, "stderr capture: begin() takes no arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (saved_stderr >= 0) {
    Napi::Error::New(env, "stderr capture: already active").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::FILE* file = std::tmpfile();  // unlinked at creation: nothing is left behind on a crash
  if (!file) {
    throw_errno(env, "tmpfile");
    return env.Undefined();
  }
  std::fflush(stderr);
  int saved = dup(STDERR_FILENO);
  if (saved < 0) {
    std::fclose(file);
    throw_errno(env, "dup");
    return env.Undefined();
  }
  if (dup2(fileno(file), STDERR_FILENO) < 0) {
    close(saved);
    std::fclose(file);
    throw_errno(env, "dup2");
    return env.Undefined();
  }
  saved_stderr = saved;
  capture_file = file;
  return env.Undefined();
}

// end(): restores fd 2 and returns everything written to it since begin(). Throws if none is active.
Napi::Value End(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 0) {
    Napi::TypeError::New(env, "stderr capture: end() takes no arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (saved_stderr < 0) {
    Napi::Error::New(env, "stderr capture: not active").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::fflush(stderr);
  int restored = dup2(saved_stderr, STDERR_FILENO);
  int restore_errno = errno;
  close(saved_stderr);
  saved_stderr = -1;
  std::string text;
  int fd = fileno(capture_file);
  char buffer[4096];
  off_t offset = 0;
  for (;;) {
    ssize_t n = pread(fd, buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
  std::fclose(capture_file);
  capture_file = nullptr;
  if (restored < 0) {
    errno = restore_errno;
    throw_errno(env, "restoring fd 2");
    return env.Undefined();
  }
  return Napi::String::New(env, text);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("begin", Napi::Function::New(env, Begin));
  exports.Set("end", Napi::Function::New(env, End));
  return exports;
}

}  // namespace

NODE_API_MODULE(lcconv_stdio, Init)
