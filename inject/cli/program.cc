#include "ipcfault/inject/cli/program.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "ipcfault/inject/internal/preloadable.h"

namespace ipcfault::cli {
namespace {

// A read-only fd, closed on scope exit.
class File {
 public:
  explicit File(const std::string& path)
      : fd_(open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~File() {
    if (fd_ >= 0) close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  int fd() const { return fd_; }

  // Reads exactly `n` bytes at `offset`; false on a short read or error.
  bool ReadAt(void* buf, size_t n, off_t offset) const {
    size_t done = 0;
    while (done < n) {
      ssize_t r = pread(fd_, static_cast<char*>(buf) + done, n - done,
                        offset + static_cast<off_t>(done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      done += static_cast<size_t>(r);
    }
    return true;
  }

 private:
  int fd_;
};

absl::Status OpenError(int err, const std::string& path) {
  return absl::ErrnoToStatus(err, path);
}

struct ElfInfo {
  unsigned char elf_class = ELFCLASSNONE;
  uint16_t machine = EM_NONE;
  bool has_interp = false;
};

// Reads the ELF header and program headers of an open file. `ident` holds
// the first EI_NIDENT bytes, already read.
absl::StatusOr<ElfInfo> ReadElf(const File& file, const std::string& path,
                                const unsigned char* ident) {
  ElfInfo info;
  info.elf_class = ident[EI_CLASS];
  if (ident[EI_DATA] != ELFDATA2LSB && ident[EI_DATA] != ELFDATA2MSB) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": malformed ELF header (bad byte order)"));
  }
  // Only native byte order is loadable here; a foreign one is reported by
  // the class/machine comparison below through a garbage machine value, so
  // refuse it plainly instead.
  const bool native_lsb = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
  if ((ident[EI_DATA] == ELFDATA2LSB) != native_lsb) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is an ELF file of the other byte order; it cannot run here"));
  }
  uint64_t phoff;
  uint16_t phentsize, phnum;
  if (info.elf_class == ELFCLASS64) {
    Elf64_Ehdr header;
    if (!file.ReadAt(&header, sizeof(header), 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": truncated ELF header"));
    }
    info.machine = header.e_machine;
    phoff = header.e_phoff;
    phentsize = header.e_phentsize;
    phnum = header.e_phnum;
    if (phnum != 0 && phentsize < sizeof(Elf64_Phdr)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": malformed ELF program header table"));
    }
  } else if (info.elf_class == ELFCLASS32) {
    Elf32_Ehdr header;
    if (!file.ReadAt(&header, sizeof(header), 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": truncated ELF header"));
    }
    info.machine = header.e_machine;
    phoff = header.e_phoff;
    phentsize = header.e_phentsize;
    phnum = header.e_phnum;
    if (phnum != 0 && phentsize < sizeof(Elf32_Phdr)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": malformed ELF program header table"));
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": malformed ELF header (bad class)"));
  }
  // The whole table in one read (at most 65535 entries of a few dozen
  // bytes); p_type is the first field of an entry in both classes.
  std::vector<unsigned char> table(size_t{phnum} * phentsize);
  if (!table.empty() &&
      !file.ReadAt(table.data(), table.size(), static_cast<off_t>(phoff))) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": truncated ELF program header table"));
  }
  for (uint16_t i = 0; i < phnum; ++i) {
    uint32_t type;
    memcpy(&type, table.data() + size_t{i} * phentsize, sizeof(type));
    if (type == PT_INTERP) info.has_interp = true;
  }
  return info;
}

// This binary's ELF header, where the linker maps it (GNU ld, gold and lld
// define __ehdr_start); null if the linker did not.
extern "C" const unsigned char __ehdr_start[] __attribute__((weak, visibility("hidden")));

absl::StatusOr<ElfInfo> OwnElf() {
  static const absl::StatusOr<ElfInfo>* const own = []() -> absl::StatusOr<ElfInfo>* {
    if (__ehdr_start != nullptr && memcmp(__ehdr_start, ELFMAG, SELFMAG) == 0) {
      // In memory: no file to open and read.
      ElfInfo info;
      info.elf_class = __ehdr_start[EI_CLASS];
      uint16_t machine;  // e_machine: at 18 in both classes
      memcpy(&machine, __ehdr_start + offsetof(Elf64_Ehdr, e_machine), sizeof(machine));
      info.machine = machine;
      return new absl::StatusOr<ElfInfo>(info);
    }
    File self("/proc/self/exe");
    unsigned char ident[EI_NIDENT];
    if (self.fd() < 0 || !self.ReadAt(ident, sizeof(ident), 0)) {
      return new absl::StatusOr<ElfInfo>(
          absl::InternalError("cannot read /proc/self/exe"));
    }
    return new absl::StatusOr<ElfInfo>(ReadElf(self, "/proc/self/exe", ident));
  }();
  return *own;
}

absl::string_view ClassName(unsigned char elf_class) {
  return elf_class == ELFCLASS64 ? "64-bit" : "32-bit";
}

absl::Status CheckPreloadableAt(const std::string& path, int depth) {
  File file(path);
  if (file.fd() < 0) return OpenError(errno, path);
  struct stat st;
  if (fstat(file.fd(), &st) != 0) return OpenError(errno, path);
  if (!S_ISREG(st.st_mode)) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": not a regular file"));
  }
  // Exactly where the kernel would set AT_SECURE for this process's exec
  // of the file (preloadable.h): a set-user-ID root program run by root,
  // or a program with file capabilities run by root, is fine.
  inject_internal::ExecFile exec_file;
  if (inject_internal::DescribeExecFile(file.fd(), &exec_file)) {
    char buf[128];
    if (const char* why = inject_internal::SecureExecReason(
            inject_internal::CurrentCredentials(exec_file), exec_file,
            buf, sizeof(buf))) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " would run in secure-execution mode (", why,
          "), where the dynamic loader ignores LD_PRELOAD, so no fault could "
          "be injected"));
    }
  }

  unsigned char head[256] = {};
  ssize_t n;
  do {
    n = pread(file.fd(), head, sizeof(head) - 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return OpenError(errno, path);

  if (n >= 2 && head[0] == '#' && head[1] == '!') {
    // "#! /usr/bin/env python3": the interpreter is the first word.
    absl::string_view line(reinterpret_cast<const char*>(head + 2),
                           static_cast<size_t>(n - 2));
    line = line.substr(0, line.find('\n'));
    line = absl::StripLeadingAsciiWhitespace(line);
    absl::string_view interpreter = line.substr(0, line.find_first_of(" \t\r"));
    if (interpreter.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": '#!' line names no interpreter"));
    }
    if (depth >= 4) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": too many levels of '#!' interpreters"));
    }
    absl::Status s = CheckPreloadableAt(std::string(interpreter), depth + 1);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat(path, ": interpreter ",
                                                 s.message()));
    }
    return absl::OkStatus();
  }

  if (n < EI_NIDENT || memcmp(head, ELFMAG, SELFMAG) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not an ELF executable or a '#!' script"));
  }
  absl::StatusOr<ElfInfo> elf = ReadElf(file, path, head);
  if (!elf.ok()) return elf.status();
  if (!elf->has_interp) {
    return absl::FailedPreconditionError(absl::StrCat(
        path,
        " is statically linked (no PT_INTERP program header): LD_PRELOAD "
        "cannot reach it, so no fault could be injected. Link it "
        "dynamically, or link //inject:interpose into it and arm the rules "
        "with IPCFAULT_SCENARIO"));
  }
  absl::StatusOr<ElfInfo> own = OwnElf();
  if (own.ok() && (own->elf_class != elf->elf_class ||
                   own->machine != elf->machine)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is a ", ClassName(elf->elf_class), " ELF for machine ",
        elf->machine, ", but the preload library is ",
        ClassName(own->elf_class), " for machine ", own->machine,
        ": the loader would skip it and inject no fault"));
  }
  return absl::OkStatus();
}

bool IsExecutableFile(const std::string& path, int* err) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *err = errno;
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *err = EACCES;
    return false;
  }
  if (access(path.c_str(), X_OK) != 0) {
    *err = errno;
    return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> FindProgram(absl::string_view name,
                                        absl::string_view search_path) {
  if (name.empty()) return absl::NotFoundError("empty program name");
  if (name.find('/') != absl::string_view::npos) {
    std::string path(name);
    int err = 0;
    if (!IsExecutableFile(path, &err)) return absl::ErrnoToStatus(err, path);
    return path;
  }
  bool saw_eacces = false;
  for (absl::string_view dir : absl::StrSplit(search_path, ':')) {
    std::string candidate =
        dir.empty() ? std::string(name) : absl::StrCat(dir, "/", name);
    int err = 0;
    if (IsExecutableFile(candidate, &err)) {
      if (dir.empty()) candidate = absl::StrCat("./", name);
      return candidate;
    }
    if (err == EACCES) saw_eacces = true;
  }
  if (saw_eacces) {
    return absl::PermissionDeniedError(absl::StrCat(
        name, ": found in PATH but not executable: Permission denied"));
  }
  return absl::NotFoundError(absl::StrCat(name, ": command not found"));
}

absl::Status CheckPreloadable(const std::string& path) {
  return CheckPreloadableAt(path, 0);
}

}  // namespace ipcfault::cli
