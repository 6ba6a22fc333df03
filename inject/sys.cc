#include "ipcfault/inject/sys.h"

#include <netdb.h>
#include <unistd.h>

#include <cstddef>
#include <utility>

#include "ipcfault/inject/call_spec.h"

namespace ipcfault {
namespace {

// execl(path, argv[0], ..., argv[n-1], nullptr, tail...) for argv's n
// entries, if n <= kMaxListed; a longer argv goes to `via` (execv, execvp,
// execve: the same exec, which a rule on execl then does not see).
constexpr size_t kMaxListed = 32;

template <typename Fn, typename... Tail, size_t... I>
int CallListedN(Fn* fn, const char* file, char* const argv[], std::index_sequence<I...>,
                Tail... tail) {
  return fn(file, argv[I]..., static_cast<char*>(nullptr), tail...);
}

template <typename Fn, typename Via, typename... Tail, size_t... N>
int CallListedUpTo(Fn* fn, Via* via, const char* file, char* const argv[],
                   std::index_sequence<N...>, Tail... tail) {
  size_t argc = 0;
  while (argv != nullptr && argv[argc] != nullptr && argc <= kMaxListed) ++argc;
  int result = 0;
  const bool listed =
      ((argc == N && (result = CallListedN(fn, file, argv, std::make_index_sequence<N>(),
                                           tail...),
                      true)) ||
       ...);
  return listed ? result : via(file, argv, tail...);
}

template <typename Fn, typename Via, typename... Tail>
int CallListed(Fn* fn, Via* via, const char* file, char* const argv[], Tail... tail) {
  return CallListedUpTo(fn, via, file, argv, std::make_index_sequence<kMaxListed + 1>(),
                        tail...);
}

// Each method makes the libc call it is named after.
class RealSysImpl final : public Sys {
 public:
#define IPCFAULT_CALL(name, Camel, RET, PARAMS, ARGS, ...) \
  RET Camel PARAMS override { return ::name ARGS; }
// A vfork child may not return from the function that called vfork, so
// RealSys's Vfork forks.
#define IPCFAULT_CALL_HANDWRITTEN(name, Camel, RET, PARAMS, ARGS, ...) \
  RET Camel PARAMS override { return ::fork(); }
// execl, execlp, execle take argv's entries one by one.
#define IPCFAULT_CALL_VARARGS(name, Camel, RET, PARAMS, ARGS, FAILURE, ROLES, SETS, KEYS, \
                              ERRORS, via)                                              \
  RET Camel PARAMS override { return CallListed(&::name, &::via, IPCFAULT_SPEC_UNPAREN ARGS); }
#include "ipcfault/inject/call_spec.inc"

  void Freeaddrinfo(struct addrinfo* res) override { ::freeaddrinfo(res); }
};

}  // namespace

Sys& RealSys() {
  static RealSysImpl* const sys = new RealSysImpl();
  return *sys;
}

}  // namespace ipcfault
