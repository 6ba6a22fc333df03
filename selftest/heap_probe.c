// heap_probe: prints how many bytes the C library's allocator had taken
// from the system when main() began (mallinfo2's arena): 0 if nothing
// before main() called malloc. ipcfault_run_test runs it with the preload
// library and nothing configuring it, which must allocate nothing at load
// (docs/run.md, "Cost").

#include <malloc.h>
#include <stdio.h>

int main(void) {
  struct mallinfo2 info = mallinfo2();
  printf("%zu\n", info.arena);
  return 0;
}
