#include "ipcfault/inject/internal/preloadable.h"

#include <elf.h>
#include <link.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ipcfault::inject_internal {
namespace {

// Capabilities only this process may already use: permitted or ambient.
bool Grows(uint64_t new_permitted, const ExecCredentials& creds) {
  return (new_permitted & ~(creds.permitted | creds.ambient)) != 0;
}

bool ReadFully(int fd, void* buf, size_t n, off_t offset) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = pread(fd, static_cast<char*>(buf) + done, n - done,
                      offset + static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

// Whether the ELF file at `fd` asks for a program interpreter. Files that
// are not ELF of this machine's class, or #! scripts, count as having one
// (exec runs their interpreter, which the caller checks separately, or
// fails). One read for the header and the program headers, which every
// linker puts right after it; one beyond the first kilobyte is read alone.
// (It runs before every exec of a preloaded process.)
bool IsStaticElf(int fd) {
  alignas(ElfW(Ehdr)) unsigned char head[1024];
  ssize_t n;
  do {
    n = pread(fd, head, sizeof(head), 0);
  } while (n < 0 && errno == EINTR);
  if (n < static_cast<ssize_t>(sizeof(ElfW(Ehdr)))) return false;
  if (memcmp(head, ELFMAG, SELFMAG) != 0) return false;
  if (head[EI_CLASS] != (sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32)) {
    return false;
  }
  ElfW(Ehdr) header;
  memcpy(&header, head, sizeof(header));
  if (header.e_type != ET_EXEC && header.e_type != ET_DYN) return false;
  if (header.e_phentsize != sizeof(ElfW(Phdr))) return false;
  const uint64_t have = static_cast<uint64_t>(n);
  for (uint64_t i = 0; i < header.e_phnum; ++i) {
    ElfW(Phdr) ph;
    const uint64_t at = header.e_phoff + i * sizeof(ph);
    if (at >= header.e_phoff && at <= have && have - at >= sizeof(ph)) {
      memcpy(&ph, head + at, sizeof(ph));
    } else if (!ReadFully(fd, &ph, sizeof(ph), static_cast<off_t>(at))) {
      return false;
    }
    if (ph.p_type == PT_INTERP) return false;
  }
  return true;
}

// Whether the file's set-id bits or capabilities could raise privilege:
// only then do no_new_privs and a nosuid mount decide anything.
bool MayRaisePrivilege(const ExecFile& file) {
  return (file.mode & (S_ISUID | S_ISGID)) != 0 || file.has_caps;
}

thread_local char reason_buf[128];

}  // namespace

const char* SecureExecReason(const ExecCredentials& creds, const ExecFile& file,
                             char* buf, size_t size) {
  // Set-id bits and file capabilities count neither under no_new_privs nor
  // on a nosuid mount.
  const bool privileges_apply = !creds.no_new_privs && !file.nosuid_mount;
  uid_t new_euid = creds.euid;
  gid_t new_egid = creds.egid;
  if (privileges_apply && (file.mode & S_ISUID)) new_euid = file.uid;
  if (privileges_apply && (file.mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) {
    new_egid = file.gid;
  }
  if (new_euid != creds.ruid) {
    if (new_euid != creds.euid) {
      snprintf(buf, size, "set-user-ID to uid %u", static_cast<unsigned>(new_euid));
    } else {
      snprintf(buf, size, "effective uid %u is not the real uid %u",
               static_cast<unsigned>(new_euid), static_cast<unsigned>(creds.ruid));
    }
    return buf;
  }
  if (new_egid != creds.rgid) {
    if (new_egid != creds.egid) {
      snprintf(buf, size, "set-group-ID to gid %u", static_cast<unsigned>(new_egid));
    } else {
      snprintf(buf, size, "effective gid %u is not the real gid %u",
               static_cast<unsigned>(new_egid), static_cast<unsigned>(creds.rgid));
    }
    return buf;
  }
  // Root (real uid 0) gains nothing from file capabilities that would
  // make the exec secure.
  if (creds.ruid == 0 || !privileges_apply || !file.has_caps) return nullptr;
  uint64_t new_permitted = (file.caps_permitted & creds.bounding) |
                           (file.caps_inheritable & creds.inheritable);
  if (file.caps_effective || Grows(new_permitted, creds)) {
    snprintf(buf, size, "has file capabilities that raise privilege");
    return buf;
  }
  return nullptr;
}

namespace {

ExecCredentials ReadCredentials(bool no_new_privs, bool capabilities) {
  ExecCredentials creds = {};
  uid_t saved;
  getresuid(&creds.ruid, &creds.euid, &saved);
  gid_t saved_gid;
  getresgid(&creds.rgid, &creds.egid, &saved_gid);
  if (no_new_privs) creds.no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
  if (!capabilities) return creds;
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) == 0) {
    creds.permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
    creds.inheritable =
        data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
  }
  for (int cap = 0; cap < 64; ++cap) {
    int in_bounding = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in_bounding < 0) break;  // past the last capability
    if (in_bounding == 1) creds.bounding |= uint64_t{1} << cap;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) {
      creds.ambient |= uint64_t{1} << cap;
    }
  }
  return creds;
}

}  // namespace

ExecCredentials CurrentCredentials(const ExecFile& file) {
  return ReadCredentials(MayRaisePrivilege(file), file.has_caps);
}

bool DescribeExecFile(int fd, ExecFile* file) {
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
  *file = {};
  file->mode = st.st_mode;
  file->uid = st.st_uid;
  file->gid = st.st_gid;
  vfs_ns_cap_data caps = {};
  ssize_t n = fgetxattr(fd, "security.capability", &caps, sizeof(caps));
  if (n >= static_cast<ssize_t>(XATTR_CAPS_SZ_1)) {
    file->has_caps = true;
    uint32_t magic = caps.magic_etc;
    file->caps_effective = (magic & VFS_CAP_FLAGS_EFFECTIVE) != 0;
    file->caps_permitted = caps.data[0].permitted;
    file->caps_inheritable = caps.data[0].inheritable;
    if ((magic & VFS_CAP_REVISION_MASK) != VFS_CAP_REVISION_1) {
      file->caps_permitted |= uint64_t{caps.data[1].permitted} << 32;
      file->caps_inheritable |= uint64_t{caps.data[1].inheritable} << 32;
    }
  }
  if (MayRaisePrivilege(*file)) {
    struct statfs fs;
    file->nosuid_mount = fstatfs(fd, &fs) == 0 && (fs.f_flags & ST_NOSUID) != 0;
  }
  return true;
}

const char* NotPreloadableReason(const char* path) {
  int fd;
  do {
    fd = open(path, O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return nullptr;
  const char* reason = nullptr;
  ExecFile file;
  if (DescribeExecFile(fd, &file)) {
    reason = SecureExecReason(CurrentCredentials(file), file, reason_buf,
                              sizeof(reason_buf));
    if (reason == nullptr && S_ISREG(file.mode) && IsStaticElf(fd)) {
      reason = "statically linked";
    }
  }
  close(fd);
  return reason;
}

}  // namespace ipcfault::inject_internal
