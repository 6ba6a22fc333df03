#include "ipcfault/inject/internal/control_attach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ipcfault/inject/internal/control_region.h"
#include "ipcfault/inject/internal/engine.h"

namespace ipcfault::inject_internal {
namespace {

// Parses "FD:INODE:PID". False if malformed.
bool ParseControlEnv(const char* text, int* fd, unsigned long long* inode, long* pid) {
  char* end = nullptr;
  errno = 0;
  long f = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != ':' || f < 0 || f > 1 << 30) return false;
  const char* p = end + 1;
  unsigned long long ino = strtoull(p, &end, 10);
  if (errno != 0 || end == p || *end != ':') return false;
  p = end + 1;
  long hub = strtol(p, &end, 10);
  if (errno != 0 || end == p || *end != '\0' || hub <= 0) return false;
  *fd = static_cast<int>(f);
  *inode = ino;
  *pid = hub;
  return true;
}

bool IsRegion(int fd, unsigned long long inode) {
  struct stat st;
  return fstat(fd, &st) == 0 && static_cast<unsigned long long>(st.st_ino) == inode &&
         st.st_size >= static_cast<off_t>(sizeof(ControlRegion));
}

void Warn(const char* why, int err) {
  char line[512];
  int n = snprintf(line, sizeof(line),
                   "ipcfault: warning: %s (pid %ld) cannot reach the run's control "
                   "region (%s%s%s); rules armed with `ipcfault ctl` do not apply "
                   "to it\n",
                   program_invocation_name, static_cast<long>(syscall(SYS_getpid)), why,
                   err != 0 ? ": " : "", err != 0 ? strerror(err) : "");
  if (n > 0) {
    size_t len = static_cast<size_t>(n) < sizeof(line) ? static_cast<size_t>(n)
                                                        : sizeof(line) - 1;
    syscall(SYS_write, STDERR_FILENO, line, len);
  }
}

}  // namespace

ControlAttach AttachControlFromEnvironment() {
  const char* env = getenv(kControlEnv);
  if (env == nullptr || *env == '\0') return ControlAttach::kNone;
  int fd;
  unsigned long long inode;
  long hub;
  if (!ParseControlEnv(env, &fd, &inode, &hub)) {
    Warn("IPCFAULT_CONTROL is malformed", 0);
    return ControlAttach::kFailed;
  }
  int own = -1;
  if (!IsRegion(fd, inode)) {
    // Closed (or reused) before exec: the hub's own fd, if we may open it.
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/fd/%d", hub, fd);
    own = static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC));
    if (own < 0) {
      Warn("its fd is closed and the hub's cannot be opened", errno);
      return ControlAttach::kFailed;
    }
    if (!IsRegion(own, inode)) {
      syscall(SYS_close, own);
      Warn("the hub's fd is not the region (has the run ended?)", 0);
      return ControlAttach::kFailed;
    }
    fd = own;
  }
  void* mapped =
      mmap(nullptr, sizeof(ControlRegion), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  if (own >= 0) syscall(SYS_close, own);
  if (mapped == MAP_FAILED) {
    Warn("mmap", err);
    return ControlAttach::kFailed;
  }
  const auto* region = static_cast<const ControlRegion*>(mapped);
  if (!ControlRegionValid(*region)) {
    munmap(mapped, sizeof(ControlRegion));
    Warn("the region is from another version of ipcfault", 0);
    return ControlAttach::kFailed;
  }
  AttachControlRegion(region);
  return ControlAttach::kAttached;
}

}  // namespace ipcfault::inject_internal
