// inject/internal/loaded_object.h
//
// Which loaded object (the executable or a shared object) holds an
// address: from the loader's list of objects and their segments
// (dl_iterate_phdr), not dladdr(), which also scans the object's whole
// symbol table for the nearest symbol. The interposer asks for the
// position in that list (whether a sanitizer runtime comes before libc);
// the preload library for its own file's path, at every program's
// start-up (docs/run.md, "Cost").

#ifndef IPCFAULT_INJECT_INTERNAL_LOADED_OBJECT_H_
#define IPCFAULT_INJECT_INTERNAL_LOADED_OBJECT_H_

#include <link.h>

#include <cstddef>
#include <cstdint>

namespace ipcfault::inject_internal {

struct LoadedObject {
  int index = -1;              // position in the loader's list; -1: none
  const char* path = nullptr;  // as the loader opened it ("" for the executable)
};

// The object whose PT_LOAD segments hold `address`.
inline LoadedObject LoadedObjectOf(const void* address) {
  struct Search {
    uintptr_t address;
    int index;
    LoadedObject found;
  } search = {reinterpret_cast<uintptr_t>(address), 0, {}};
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& segment = info->dlpi_phdr[i];
          if (segment.p_type != PT_LOAD) continue;
          const uintptr_t start = info->dlpi_addr + segment.p_vaddr;
          if (s->address >= start && s->address - start < segment.p_memsz) {
            s->found = {s->index, info->dlpi_name};
            return 1;
          }
        }
        ++s->index;
        return 0;
      },
      &search);
  return search.found;
}

}  // namespace ipcfault::inject_internal

#endif  // IPCFAULT_INJECT_INTERNAL_LOADED_OBJECT_H_
