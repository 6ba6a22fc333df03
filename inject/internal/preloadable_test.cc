#include "ipcfault/inject/internal/preloadable.h"

#include <elf.h>
#include <link.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ipcfault::inject_internal {
namespace {

constexpr uint64_t kNetBind = uint64_t{1} << CAP_NET_BIND_SERVICE;
constexpr uint64_t kAll = ~uint64_t{0} >> 23;  // 41 capabilities

ExecCredentials User(uid_t uid) {
  ExecCredentials c = {};
  c.ruid = c.euid = uid;
  c.rgid = c.egid = 100;
  c.bounding = kAll;
  if (uid == 0) c.permitted = kAll;
  return c;
}

ExecFile Plain() {
  ExecFile f = {};
  f.mode = S_IFREG | 0755;
  f.uid = 0;
  f.gid = 0;
  return f;
}

const char* Why(const ExecCredentials& c, const ExecFile& f) {
  static char buf[128];
  return SecureExecReason(c, f, buf, sizeof(buf));
}

TEST(SecureExecReason, PlainProgramIsNotSecureExec) {
  EXPECT_EQ(Why(User(1000), Plain()), nullptr);
  EXPECT_EQ(Why(User(0), Plain()), nullptr);
}

TEST(SecureExecReason, SetUserIdOnlyWhenItChangesTheEffectiveUid) {
  ExecFile suid_root = Plain();
  suid_root.mode |= S_ISUID;
  EXPECT_STREQ(Why(User(1000), suid_root), "set-user-ID to uid 0");
  EXPECT_EQ(Why(User(0), suid_root), nullptr) << "root running set-user-ID root";
  ExecFile suid_self = suid_root;
  suid_self.uid = 1000;
  EXPECT_EQ(Why(User(1000), suid_self), nullptr) << "set-user-ID to oneself";
  EXPECT_STREQ(Why(User(0), suid_self), "set-user-ID to uid 1000");
  // Ignored on a nosuid mount and under no_new_privs.
  suid_root.nosuid_mount = true;
  EXPECT_EQ(Why(User(1000), suid_root), nullptr);
  suid_root.nosuid_mount = false;
  ExecCredentials nnp = User(1000);
  nnp.no_new_privs = true;
  EXPECT_EQ(Why(nnp, suid_root), nullptr);
}

TEST(SecureExecReason, SetGroupIdNeedsGroupExecute) {
  ExecFile sgid = Plain();
  sgid.mode |= S_ISGID;
  sgid.gid = 5;
  EXPECT_STREQ(Why(User(1000), sgid), "set-group-ID to gid 5");
  sgid.mode &= ~static_cast<mode_t>(S_IXGRP);  // mandatory locking, not set-gid
  EXPECT_EQ(Why(User(1000), sgid), nullptr);
}

TEST(SecureExecReason, AlreadyDifferentEffectiveUid) {
  ExecCredentials c = User(1000);
  c.euid = 0;
  EXPECT_STREQ(Why(c, Plain()), "effective uid 0 is not the real uid 1000");
}

TEST(SecureExecReason, FileCapabilitiesRaiseOnlyANonRootUser) {
  ExecFile caps = Plain();
  caps.has_caps = true;
  caps.caps_permitted = kNetBind;
  caps.caps_effective = true;
  EXPECT_STREQ(Why(User(1000), caps), "has file capabilities that raise privilege");
  EXPECT_EQ(Why(User(0), caps), nullptr) << "root is not refused";
  // Not effective, but adds to the permitted set: still secure.
  caps.caps_effective = false;
  EXPECT_NE(Why(User(1000), caps), nullptr);
  // What the process already holds (here ambient) is no raise.
  ExecCredentials holder = User(1000);
  holder.ambient = kNetBind;
  EXPECT_EQ(Why(holder, caps), nullptr);
  // Outside the bounding set, a permitted file capability is not granted.
  ExecCredentials bounded = User(1000);
  bounded.bounding = kAll & ~kNetBind;
  EXPECT_EQ(Why(bounded, caps), nullptr);
}

std::string TempFile(const std::string& name, const std::string& content) {
  std::string path = std::string(getenv("TEST_TMPDIR")) + "/" + name;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, content.data(), content.size()),
            static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}

// A minimal ELF executable of this machine: `loads` PT_LOADs, and a
// PT_INTERP last if `dynamic`, its program headers `gap` bytes after the
// ELF header.
std::string Elf(bool dynamic, int loads = 1, size_t gap = 0) {
  ElfW(Ehdr) h = {};
  memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;
  h.e_ident[EI_DATA] = ELFDATA2LSB;
  h.e_ident[EI_VERSION] = EV_CURRENT;
  h.e_type = ET_DYN;
  h.e_machine = EM_X86_64;
  h.e_version = EV_CURRENT;
  h.e_phoff = sizeof(h) + gap;
  h.e_ehsize = sizeof(h);
  h.e_phentsize = sizeof(ElfW(Phdr));
  h.e_phnum = static_cast<ElfW(Half)>(loads + 1);
  std::vector<ElfW(Phdr)> ph(loads + 1, ElfW(Phdr){});
  for (int i = 0; i < loads; ++i) ph[i].p_type = PT_LOAD;
  ph[loads].p_type = dynamic ? PT_INTERP : PT_NOTE;
  std::string out(reinterpret_cast<const char*>(&h), sizeof(h));
  out.append(gap, '\0');
  out.append(reinterpret_cast<const char*>(ph.data()), ph.size() * sizeof(ph[0]));
  return out;
}

TEST(NotPreloadableReason, StaticElfIsNamedDynamicIsFine) {
  EXPECT_STREQ(NotPreloadableReason(TempFile("static", Elf(false)).c_str()),
               "statically linked");
  EXPECT_EQ(NotPreloadableReason(TempFile("dynamic", Elf(true)).c_str()), nullptr);
  EXPECT_EQ(NotPreloadableReason(TempFile("script", "#!/bin/sh\n").c_str()), nullptr);
  EXPECT_EQ(NotPreloadableReason("/no/such/file"), nullptr);
  EXPECT_EQ(NotPreloadableReason("/proc/self/exe"), nullptr);  // this test
}

// The program headers are read with the ELF header, in one read of the
// file's first kilobyte; those beyond it, one by one.
TEST(NotPreloadableReason, ProgramHeadersBeyondTheFirstKilobyteAreRead) {
  // Its PT_INTERP (at 64 + 56 * loads) within, across and past 1 KB.
  for (int loads : {1, 16, 17, 40}) {
    SCOPED_TRACE(loads);
    EXPECT_STREQ(NotPreloadableReason(TempFile("static", Elf(false, loads)).c_str()),
                 "statically linked");
    EXPECT_EQ(NotPreloadableReason(TempFile("dynamic", Elf(true, loads)).c_str()), nullptr);
  }
  EXPECT_STREQ(NotPreloadableReason(TempFile("far", Elf(false, 1, 4096)).c_str()),
               "statically linked");
  EXPECT_EQ(NotPreloadableReason(TempFile("far", Elf(true, 1, 4096)).c_str()), nullptr);
  // Program headers past the end of the file: not an executable the loader
  // runs; exec fails, and that is exec's business.
  std::string cut = Elf(false, 40);
  cut.resize(1000);
  EXPECT_EQ(NotPreloadableReason(TempFile("cut", cut).c_str()), nullptr);
}

}  // namespace
}  // namespace ipcfault::inject_internal
