// inject/internal/unix_address.h
//
// A sockaddr_un for any path, however long. sun_path holds 107 bytes, and a
// socket under a Bazel test's $TEST_TMPDIR is often longer: such a path is
// reached through "/proc/self/fd/N/NAME", N an O_PATH descriptor of its
// directory, which bind() and connect() resolve like the path itself. Not a
// public API: the control socket's server and client use it.
//
//   UnixAddress address;
//   absl::Status s = address.Set(path);   // then bind/connect(address.addr())
//
// Thread-compatible.

#ifndef IPCFAULT_INJECT_INTERNAL_UNIX_ADDRESS_H_
#define IPCFAULT_INJECT_INTERNAL_UNIX_ADDRESS_H_

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ipcfault::inject_internal {

class UnixAddress {
 public:
  UnixAddress() = default;
  ~UnixAddress() {
    if (dir_fd_ >= 0) close(dir_fd_);
  }
  UnixAddress(const UnixAddress&) = delete;
  UnixAddress& operator=(const UnixAddress&) = delete;

  // Points the address at `path`. Errors: the directory of a long path
  // cannot be opened, or its last component alone is too long.
  absl::Status Set(const std::string& path) {
    addr_ = {};
    addr_.sun_family = AF_UNIX;
    if (path.size() < sizeof(addr_.sun_path)) {
      memcpy(addr_.sun_path, path.data(), path.size());
      return absl::OkStatus();
    }
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (dir_fd_ >= 0) close(dir_fd_);
    dir_fd_ = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd_ < 0) return absl::ErrnoToStatus(errno, dir);
    const std::string shortened = absl::StrCat("/proc/self/fd/", dir_fd_, "/", name);
    if (shortened.size() >= sizeof(addr_.sun_path)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": the socket's name '", name, "' is too long (a socket name holds at most ",
          sizeof(addr_.sun_path) - 1 - (shortened.size() - name.size()), " bytes)"));
    }
    memcpy(addr_.sun_path, shortened.data(), shortened.size());
    return absl::OkStatus();
  }

  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&addr_); }
  socklen_t size() const { return sizeof(addr_); }

 private:
  sockaddr_un addr_ = {};
  int dir_fd_ = -1;
};

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_UNIX_ADDRESS_H_
