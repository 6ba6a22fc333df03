#include "ipcfault/examples/send_all.h"

#include <errno.h>
#include <sys/socket.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ipcfault/examples/errors.h"
#include "ipcfault/inject/sys.h"

namespace ipcfault::examples {

absl::Status SendAll(Sys& sys, int fd, absl::string_view data, absl::string_view peer) {
  while (!data.empty()) {
    ssize_t n = sys.Send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));  // a short send: send the rest
      continue;
    }
    int err = n == 0 ? EIO : errno;
    if (err == EINTR) continue;
    return ErrnoError(err, "send", peer);
  }
  return absl::OkStatus();
}

}  // namespace ipcfault::examples
