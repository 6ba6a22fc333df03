// See call_stack.h. The walk: backtrace() into a stack array, skip the
// frames inside this module (the interposer and the engine; with
// //inject:interpose linked into an executable, the skip stops at the
// wrapper's caller by symbol range instead), then hash (module name, offset)
// of the next kHashedFrames frames.

#include "ipcfault/inject/internal/call_stack.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>

#include <atomic>
#include <cstdint>
#include <cstring>

namespace ipcfault::inject_internal {
namespace {

constexpr int kMaxWalk = 48;

// FNV-1a, 64 bits.
uint64_t Mix(uint64_t hash, const void* data, size_t n) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

const char* BaseName(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

// The module holding `pc`: its path (the executable's is "") and load bias.
bool FindModule(void* pc, const char** name, uintptr_t* bias) {
  struct dl_find_object found;
  if (_dl_find_object(pc, &found) != 0) return false;
  const struct link_map* map = found.dlfo_link_map;
  *name = map != nullptr && map->l_name != nullptr ? map->l_name : "";
  *bias = map != nullptr ? map->l_addr : 0;
  return true;
}

// The mapping of this very code, found once.
std::atomic<uintptr_t> own_start{0};
std::atomic<uintptr_t> own_end{0};

bool InOwnModule(uintptr_t pc) {
  return pc >= own_start.load(std::memory_order_relaxed) &&
         pc < own_end.load(std::memory_order_relaxed);
}

void FindOwnModule() {
  if (own_end.load(std::memory_order_acquire) != 0) return;
  struct dl_find_object found;
  if (_dl_find_object(reinterpret_cast<void*>(&FindOwnModule), &found) != 0) return;
  // Our code is the whole module only when it is the preload library; in an
  // executable that links the interposer, skipping the module would skip
  // the program too. The library's name tells which.
  const char* name = found.dlfo_link_map != nullptr && found.dlfo_link_map->l_name != nullptr
                         ? found.dlfo_link_map->l_name
                         : "";
  if (strstr(BaseName(name), "ipcfault") == nullptr) return;
  own_start.store(reinterpret_cast<uintptr_t>(found.dlfo_map_start), std::memory_order_relaxed);
  own_end.store(reinterpret_cast<uintptr_t>(found.dlfo_map_end), std::memory_order_release);
}

// backtrace() into `pcs`; returns the index of the first frame outside
// ipcfault's own code and the number of frames.
int Walk(void** pcs, int* first) {
  int n = backtrace(pcs, kMaxWalk);
  int i = 1;  // frame 0 is Walk's caller's call into backtrace
  if (own_end.load(std::memory_order_acquire) != 0) {
    while (i < n && InOwnModule(reinterpret_cast<uintptr_t>(pcs[i]))) ++i;
  } else {
    // Linked into the executable: the engine's and the wrapper's frames are
    // the same few in every walk of one binary, so they hash the same; skip
    // a fixed number to keep more of the caller's.
    i = n > 6 ? 6 : n;
  }
  *first = i;
  return n;
}

}  // namespace

void WarmCallStack() {
  FindOwnModule();
  void* pcs[4];
  backtrace(pcs, 4);  // loads libgcc_s: allocation and locks happen here
}

int CallSiteFrames(SiteFrame* frames, int max, uint64_t* hash) {
  void* pcs[kMaxWalk];
  int first = 0;
  const int n = Walk(pcs, &first);
  uint64_t h = 0xcbf29ce484222325ULL;
  int out = 0;
  for (int i = first; i < n && i - first < kHashedFrames; ++i) {
    const char* name = "";
    uintptr_t bias = 0;
    // A return address points after the call; -1 keeps it inside the
    // calling line (what addr2line should be asked about).
    uintptr_t pc = reinterpret_cast<uintptr_t>(pcs[i]) - 1;
    if (!FindModule(reinterpret_cast<void*>(pc), &name, &bias)) bias = 0;
    const uintptr_t offset = pc - bias;
    const char* base = BaseName(name);
    h = Mix(h, base, strlen(base) + 1);
    h = Mix(h, &offset, sizeof(offset));
    if (out < max) frames[out++] = {name, offset};
  }
  h &= 0xffffffffffffULL;
  if (h == 0) h = 1;
  if (hash != nullptr) *hash = h;
  return out;
}

uint64_t CallSiteHash() {
  uint64_t hash = 0;
  CallSiteFrames(nullptr, 0, &hash);
  return hash;
}

}  // namespace ipcfault::inject_internal
