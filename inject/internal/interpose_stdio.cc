// inject/internal/interpose_stdio.cc
//
// Sockets behind stdio (docs/fidelity.md, "Sockets behind stdio"). A program
// that wraps a socket with fdopen() reads and writes it through stdio, and
// glibc makes the read(2) and write(2) inside itself, where no interposer
// sees them. These wrappers decide a stdio call on a socket stream as the one
// read (or write) glibc is about to make, exactly when it makes one:
//
//   - a read function (fgets, fread, fgetc, getc, __uflow, getline,
//     getdelim, their _unlocked and _chk twins) only when the stream's read
//     buffer is empty, so that its first act is a read(2);
//   - fflush and fclose only when output is pending, so that they write(2);
//   - fclose's close(2), for a rule on close: the stream is closed and freed
//     all the same (the kernel releases a descriptor whose close fails),
//     and fclose reports the rule's error.
//
// A rule that fires with error=E makes the function fail as glibc makes it
// fail when that read or write fails: its failure value, ferror() true,
// errno E; a failed flush drops the pending output, as glibc does. Rules
// with short= or retval= do not match stdio calls (CallSite::stdio): glibc
// repeats short transfers itself, and a faked count has nothing to count.
//
// Every wrapper's hot path is the real function after one acquire load
// (ArmedFor), as for the other wrappers. The FILE fields used are glibc's
// public struct _IO_FILE (<bits/types/struct_FILE.h>), read and written
// under the stream's lock.

#undef _FORTIFY_SOURCE

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "absl/base/optimization.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/internal/engine.h"
#include "ipcfault/inject/internal/interpose_path.h"
#include "ipcfault/inject/internal/real_functions.h"
#include "ipcfault/inject/rule.h"

// glibc's exported slow path of the getc_unlocked macro, and the
// _FORTIFY_SOURCE entry points (declared by the headers only when
// _FORTIFY_SOURCE is on).
extern "C" int __uflow(FILE* fp);
extern "C" char* __fgets_chk(char* s, size_t size, int n, FILE* fp);
extern "C" char* __fgets_unlocked_chk(char* s, size_t size, int n, FILE* fp);
extern "C" size_t __fread_chk(void* ptr, size_t ptrlen, size_t size, size_t n,
                              FILE* fp);
extern "C" size_t __fread_unlocked_chk(void* ptr, size_t ptrlen, size_t size,
                                       size_t n, FILE* fp);
extern "C" ssize_t __getdelim(char** line, size_t* n, int delim, FILE* fp);

namespace ipcfault::inject_internal {
namespace {

struct StdioFunctions {
  RealFunction<char*(char*, int, FILE*)> fgets{"fgets", &::fgets};
  RealFunction<char*(char*, int, FILE*)> fgets_unlocked{"fgets_unlocked",
                                                        &::fgets_unlocked};
  RealFunction<size_t(void*, size_t, size_t, FILE*)> fread{"fread", &::fread};
  RealFunction<size_t(void*, size_t, size_t, FILE*)> fread_unlocked{
      "fread_unlocked", &::fread_unlocked};
  RealFunction<int(FILE*)> fgetc{"fgetc", &::fgetc};
  RealFunction<int(FILE*)> getc{"getc", &::getc};
  RealFunction<int(FILE*)> fgetc_unlocked{"fgetc_unlocked", &::fgetc_unlocked};
  RealFunction<int(FILE*)> getc_unlocked{"getc_unlocked", &::getc_unlocked};
  RealFunction<int(FILE*)> uflow{"__uflow", &::__uflow};
  RealFunction<ssize_t(char**, size_t*, FILE*)> getline{"getline", &::getline};
  RealFunction<ssize_t(char**, size_t*, int, FILE*)> getdelim{"getdelim",
                                                              &::getdelim};
  RealFunction<ssize_t(char**, size_t*, int, FILE*)> getdelim_internal{
      "__getdelim", &::__getdelim};
  RealFunction<char*(char*, size_t, int, FILE*)> fgets_chk{"__fgets_chk",
                                                           &::__fgets_chk};
  RealFunction<char*(char*, size_t, int, FILE*)> fgets_unlocked_chk{
      "__fgets_unlocked_chk", &::__fgets_unlocked_chk};
  RealFunction<size_t(void*, size_t, size_t, size_t, FILE*)> fread_chk{
      "__fread_chk", &::__fread_chk};
  RealFunction<size_t(void*, size_t, size_t, size_t, FILE*)> fread_unlocked_chk{
      "__fread_unlocked_chk", &::__fread_unlocked_chk};
  RealFunction<int(FILE*)> fflush{"fflush", &::fflush};
  RealFunction<int(FILE*)> fflush_unlocked{"fflush_unlocked", &::fflush_unlocked};
  RealFunction<int(FILE*)> fclose{"fclose", &::fclose};
};
ABSL_CONST_INIT StdioFunctions stdio_real;

// Whether `fp`'s descriptor is a socket (the only streams these wrappers
// touch). One fstat, on the armed path only.
bool IsSocketStream(FILE* fp) {
  if (fp == nullptr) return false;
  const int fd = fp->_fileno;
  if (fd < 0) return false;
  struct stat st;
  const int saved = errno;
  const bool socket = ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
  errno = saved;
  return socket;
}

// What one stdio call on a socket stream does about the transfer inside it.
enum class Verdict { kReal, kFail };

// Holds `fp`'s lock for a scope, unless the caller already holds it (the
// _unlocked functions, and the locked ones' own callers).
class StreamLock {
 public:
  StreamLock(FILE* fp, bool locked) : fp_(locked ? nullptr : fp) {
    if (fp_ != nullptr) flockfile(fp_);
  }
  ~StreamLock() {
    if (fp_ != nullptr) funlockfile(fp_);
  }
  StreamLock(const StreamLock&) = delete;
  StreamLock& operator=(const StreamLock&) = delete;

 private:
  FILE* fp_;
};

// Asks the engine about the read(2) or write(2) (`call`) that a stdio call
// on the socket stream `fp` is about to make. True if an error rule fired:
// the caller marks the stream, then calls LeaveCall(*injection). Otherwise
// the call is already left and the transfer is real.
bool ErrorFires(Call call, FILE* fp, Injection* injection) {
  CallSite site{.call = call, .fd = fp->_fileno};
  site.stdio = true;
  *injection = EnterCall(site);
  if (injection->fired && injection->action == Action::kError) return true;
  LeaveCall(*injection);
  return false;
}

// Decides a stdio read on `fp`: whether it would read(2) now (its buffer is
// empty), and if so whether a rule fails that read. On kFail the stream's
// error indicator is set and errno is the rule's error; the caller returns
// its function's failure value.
Verdict DecideRead(FILE* fp, bool locked) {
  if (!IsSocketStream(fp)) return Verdict::kReal;
  {
    StreamLock lock(fp, locked);
    if (fp->_IO_read_ptr < fp->_IO_read_end) return Verdict::kReal;  // buffered
  }
  Injection injection;
  if (!ErrorFires(Call::kRead, fp, &injection)) return Verdict::kReal;
  {
    StreamLock lock(fp, locked);
    fp->_flags |= _IO_ERR_SEEN;
  }
  LeaveCall(injection);
  errno = injection.error;
  return Verdict::kFail;
}

// Decides the write(2) a flush of `fp` would make (only if output is
// pending). On kFail the pending output is dropped and the error indicator
// set, as glibc leaves a stream whose write failed; errno is set.
Verdict DecideFlush(FILE* fp, bool locked) {
  if (!IsSocketStream(fp)) return Verdict::kReal;
  {
    StreamLock lock(fp, locked);
    if (fp->_IO_write_ptr <= fp->_IO_write_base) return Verdict::kReal;  // nothing pending
  }
  Injection injection;
  if (!ErrorFires(Call::kWrite, fp, &injection)) return Verdict::kReal;
  {
    StreamLock lock(fp, locked);
    fp->_IO_write_ptr = fp->_IO_write_base;
    fp->_flags |= _IO_ERR_SEEN;
  }
  ApplyEpipeSignal(Call::kWrite, fp->_fileno, 0, injection);
  LeaveCall(injection);
  errno = injection.error;
  return Verdict::kFail;
}

}  // namespace
}  // namespace ipcfault::inject_internal

namespace ii = ipcfault::inject_internal;
using ipcfault::Call;

#define IPCFAULT_STDIO_READ(fp, locked, failure, real_call)                    \
  do {                                                                        \
    if (ABSL_PREDICT_FALSE(ii::ArmedFor(Call::kRead)) &&                      \
        ii::DecideRead(fp, locked) == ii::Verdict::kFail) {                   \
      return failure;                                                         \
    }                                                                         \
    return real_call;                                                         \
  } while (0)

extern "C" {

char* fgets(char* s, int n, FILE* fp) {
  IPCFAULT_STDIO_READ(fp, false, nullptr, ii::stdio_real.fgets.get()(s, n, fp));
}
char* fgets_unlocked(char* s, int n, FILE* fp) {
  IPCFAULT_STDIO_READ(fp, true, nullptr,
                      ii::stdio_real.fgets_unlocked.get()(s, n, fp));
}
char* __fgets_chk(char* s, size_t size, int n, FILE* fp) {
  if (n > 0 && static_cast<size_t>(n) > size) {
    return ii::stdio_real.fgets_chk.get()(s, size, n, fp);  // aborts
  }
  IPCFAULT_STDIO_READ(fp, false, nullptr,
                      ii::stdio_real.fgets_chk.get()(s, size, n, fp));
}
char* __fgets_unlocked_chk(char* s, size_t size, int n, FILE* fp) {
  if (n > 0 && static_cast<size_t>(n) > size) {
    return ii::stdio_real.fgets_unlocked_chk.get()(s, size, n, fp);
  }
  IPCFAULT_STDIO_READ(fp, true, nullptr,
                      ii::stdio_real.fgets_unlocked_chk.get()(s, size, n, fp));
}
size_t fread(void* p, size_t size, size_t n, FILE* fp) {
  if (size == 0 || n == 0) return ii::stdio_real.fread.get()(p, size, n, fp);
  IPCFAULT_STDIO_READ(fp, false, 0, ii::stdio_real.fread.get()(p, size, n, fp));
}
size_t fread_unlocked(void* p, size_t size, size_t n, FILE* fp) {
  if (size == 0 || n == 0) {
    return ii::stdio_real.fread_unlocked.get()(p, size, n, fp);
  }
  IPCFAULT_STDIO_READ(fp, true, 0,
                      ii::stdio_real.fread_unlocked.get()(p, size, n, fp));
}
size_t __fread_chk(void* p, size_t ptrlen, size_t size, size_t n, FILE* fp) {
  // The overflow check (and a zero-sized read) is glibc's, whatever a rule says.
  if (size == 0 || n == 0 || n > ptrlen / size) {
    return ii::stdio_real.fread_chk.get()(p, ptrlen, size, n, fp);
  }
  IPCFAULT_STDIO_READ(fp, false, 0,
                      ii::stdio_real.fread_chk.get()(p, ptrlen, size, n, fp));
}
size_t __fread_unlocked_chk(void* p, size_t ptrlen, size_t size, size_t n,
                            FILE* fp) {
  if (size == 0 || n == 0 || n > ptrlen / size) {
    return ii::stdio_real.fread_unlocked_chk.get()(p, ptrlen, size, n, fp);
  }
  IPCFAULT_STDIO_READ(
      fp, true, 0, ii::stdio_real.fread_unlocked_chk.get()(p, ptrlen, size, n, fp));
}
int fgetc(FILE* fp) {
  IPCFAULT_STDIO_READ(fp, false, EOF, ii::stdio_real.fgetc.get()(fp));
}
int getc(FILE* fp) {
  IPCFAULT_STDIO_READ(fp, false, EOF, ii::stdio_real.getc.get()(fp));
}
int fgetc_unlocked(FILE* fp) {
  IPCFAULT_STDIO_READ(fp, true, EOF, ii::stdio_real.fgetc_unlocked.get()(fp));
}
int getc_unlocked(FILE* fp) {
  IPCFAULT_STDIO_READ(fp, true, EOF, ii::stdio_real.getc_unlocked.get()(fp));
}
int __uflow(FILE* fp) {
  IPCFAULT_STDIO_READ(fp, true, EOF, ii::stdio_real.uflow.get()(fp));
}
ssize_t getline(char** line, size_t* n, FILE* fp) {
  IPCFAULT_STDIO_READ(fp, false, -1, ii::stdio_real.getline.get()(line, n, fp));
}
ssize_t getdelim(char** line, size_t* n, int delim, FILE* fp) {
  IPCFAULT_STDIO_READ(fp, false, -1,
                      ii::stdio_real.getdelim.get()(line, n, delim, fp));
}
ssize_t __getdelim(char** line, size_t* n, int delim, FILE* fp) {
  IPCFAULT_STDIO_READ(fp, false, -1,
                      ii::stdio_real.getdelim_internal.get()(line, n, delim, fp));
}

int fflush(FILE* fp) {
  // fflush(NULL) flushes every stream: glibc's, undecided.
  if (ABSL_PREDICT_FALSE(ii::ArmedFor(Call::kWrite)) && fp != nullptr &&
      ii::DecideFlush(fp, false) == ii::Verdict::kFail) {
    return EOF;
  }
  return ii::stdio_real.fflush.get()(fp);
}
int fflush_unlocked(FILE* fp) {
  if (ABSL_PREDICT_FALSE(ii::ArmedFor(Call::kWrite)) && fp != nullptr &&
      ii::DecideFlush(fp, true) == ii::Verdict::kFail) {
    return EOF;
  }
  return ii::stdio_real.fflush_unlocked.get()(fp);
}
int fclose(FILE* fp) {
  if (ABSL_PREDICT_FALSE(ii::ArmedFor(Call::kWrite)) && fp != nullptr &&
      ii::DecideFlush(fp, false) == ii::Verdict::kFail) {
    // The flush failed; glibc still closes the descriptor and frees the
    // stream, and reports the flush's error.
    const int error = errno;
    ii::stdio_real.fclose.get()(fp);
    errno = error;
    return EOF;
  }
  if (ABSL_PREDICT_FALSE(ii::ArmedFor(Call::kClose)) && ii::IsSocketStream(fp)) {
    // The close(2) inside: a rule on close fails it as the kernel fails a
    // close, which releases the descriptor all the same. fclose reports it.
    ipcfault::CallSite site{.call = Call::kClose, .fd = fp->_fileno};
    site.stdio = true;
    const ii::Injection injection = ii::EnterCall(site);
    const int result = ii::stdio_real.fclose.get()(fp);
    ii::LeaveCall(injection);
    if (injection.fired && injection.action == ipcfault::Action::kError) {
      errno = injection.error;
      return EOF;
    }
    return result;
  }
  return ii::stdio_real.fclose.get()(fp);
}

}  // extern "C"
