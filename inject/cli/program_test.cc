#include "ipcfault/inject/cli/program.h"

#include <elf.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ipcfault/testing/status_matchers.h"

namespace ipcfault::cli {
namespace {

using ::testing::HasSubstr;

class ProgramTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string base = tmp != nullptr ? tmp : "/tmp";
    std::string pattern = base + "/program_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << strerror(errno);
    dir_ = pattern;
  }
  void TearDown() override {
    std::string cmd = absl::StrCat("rm -rf '", dir_, "'");
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }

  std::string Write(const std::string& name, const std::string& content,
                    mode_t mode = 0755) {
    std::string path = absl::StrCat(dir_, "/", name);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    EXPECT_GE(fd, 0) << strerror(errno);
    EXPECT_EQ(write(fd, content.data(), content.size()),
              static_cast<ssize_t>(content.size()));
    close(fd);
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }

  // A minimal ELF64 executable image: a header and `phnum` program headers,
  // the first PT_INTERP if `with_interp`, the rest PT_LOAD.
  static std::string Elf64(bool with_interp, uint16_t machine = EM_X86_64) {
    Elf64_Ehdr header = {};
    memcpy(header.e_ident, ELFMAG, SELFMAG);
    header.e_ident[EI_CLASS] = ELFCLASS64;
    header.e_ident[EI_DATA] = ELFDATA2LSB;
    header.e_ident[EI_VERSION] = EV_CURRENT;
    header.e_type = ET_EXEC;
    header.e_machine = machine;
    header.e_version = EV_CURRENT;
    header.e_phoff = sizeof(Elf64_Ehdr);
    header.e_ehsize = sizeof(Elf64_Ehdr);
    header.e_phentsize = sizeof(Elf64_Phdr);
    header.e_phnum = 2;
    Elf64_Phdr ph[2] = {};
    ph[0].p_type = with_interp ? PT_INTERP : PT_LOAD;
    ph[1].p_type = PT_LOAD;
    std::string image(reinterpret_cast<const char*>(&header), sizeof(header));
    image.append(reinterpret_cast<const char*>(ph), sizeof(ph));
    return image;
  }

  static std::string Elf32WithInterp() {
    Elf32_Ehdr header = {};
    memcpy(header.e_ident, ELFMAG, SELFMAG);
    header.e_ident[EI_CLASS] = ELFCLASS32;
    header.e_ident[EI_DATA] = ELFDATA2LSB;
    header.e_ident[EI_VERSION] = EV_CURRENT;
    header.e_type = ET_EXEC;
    header.e_machine = EM_386;
    header.e_version = EV_CURRENT;
    header.e_phoff = sizeof(Elf32_Ehdr);
    header.e_ehsize = sizeof(Elf32_Ehdr);
    header.e_phentsize = sizeof(Elf32_Phdr);
    header.e_phnum = 1;
    Elf32_Phdr ph = {};
    ph.p_type = PT_INTERP;
    std::string image(reinterpret_cast<const char*>(&header), sizeof(header));
    image.append(reinterpret_cast<const char*>(&ph), sizeof(ph));
    return image;
  }

  std::string dir_;
};

TEST_F(ProgramTest, ThisDynamicTestBinaryIsPreloadable) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  ASSERT_GT(n, 0);
  self[n] = '\0';
  EXPECT_THAT(CheckPreloadable(self), IsOk());
}

#if defined(__x86_64__)
TEST_F(ProgramTest, ElfWithInterpreterIsPreloadable) {
  EXPECT_THAT(CheckPreloadable(Write("dynamic", Elf64(/*with_interp=*/true))), IsOk());
}

TEST_F(ProgramTest, StaticElfIsRefused) {
  absl::Status s = CheckPreloadable(Write("static", Elf64(/*with_interp=*/false)));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition,
                          HasSubstr("statically linked")));
  EXPECT_THAT(std::string(s.message()), HasSubstr("/static is statically"));
}

TEST_F(ProgramTest, ForeignClassIsRefused) {
  EXPECT_THAT(CheckPreloadable(Write("i386", Elf32WithInterp())),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("32-bit ELF")));
  EXPECT_THAT(CheckPreloadable(Write("arm64", Elf64(true, EM_AARCH64))),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("for machine")));
}

TEST_F(ProgramTest, ScriptIsCheckedThroughItsInterpreter) {
  std::string dynamic = Write("interp", Elf64(true));
  std::string fixed = Write("static-interp", Elf64(false));
  EXPECT_THAT(CheckPreloadable(Write("ok.sh", "#!" + dynamic + " -x\necho\n")), IsOk());
  EXPECT_THAT(CheckPreloadable(Write("spaced.sh", "#!  " + dynamic + "\n")), IsOk());
  EXPECT_THAT(CheckPreloadable(Write("bad.sh", "#!" + fixed + "\n")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("bad.sh: interpreter")));
}
#endif

TEST_F(ProgramTest, ShellScriptWithRealInterpreterIsPreloadable) {
  EXPECT_THAT(CheckPreloadable(Write("sh.sh", "#!/bin/sh\nexit 0\n")), IsOk());
}

TEST_F(ProgramTest, BadFilesAreRefusedWithTheirReason) {
  EXPECT_THAT(CheckPreloadable(Write("text", "hello\n")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not an ELF executable or a '#!' script")));
  EXPECT_THAT(CheckPreloadable(Write("nointerp.sh", "#!\n")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("names no interpreter")));
  EXPECT_THAT(CheckPreloadable(Write("missing.sh", "#!/no/such/interp\n")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/no/such/interp")));
  EXPECT_THAT(CheckPreloadable(Write("truncated", std::string(ELFMAG) + "\2\1\1")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckPreloadable(dir_), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(CheckPreloadable(dir_ + "/none"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ProgramTest, SetUserIdProgramOfAnotherOwnerIsRefused) {
  std::string path = Write("suid", Elf64(true), 04755);
  uid_t other = geteuid() == 0 ? 65534 : geteuid();
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to make a set-user-ID file of another owner";
  }
  if (chown(path.c_str(), other, static_cast<gid_t>(-1)) != 0) {
    // The sandbox's user namespace may map no other uid.
    GTEST_SKIP() << "chown to uid " << other << ": " << strerror(errno);
  }
  ASSERT_EQ(chmod(path.c_str(), 04755), 0);  // chown cleared set-user-ID
  EXPECT_THAT(CheckPreloadable(path),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("set-user-ID")));
}

// File capabilities make an exec secure for a user who is not root, not
// for root. A permitted capability that is not effective counts only
// through the process's bounding set, which is read only for a file that
// has file capabilities: this checks it is read then.
TEST_F(ProgramTest, FileCapabilitiesAreRefusedForAUserNotForRoot) {
  std::string path = Write("caps", Elf64(true));
  if (geteuid() != 0) GTEST_SKIP() << "needs root to set file capabilities";
  if (prctl(PR_CAPBSET_READ, CAP_NET_BIND_SERVICE, 0, 0, 0) != 1) {
    GTEST_SKIP() << "CAP_NET_BIND_SERVICE is not in the bounding set";
  }
  vfs_cap_data caps = {};
  caps.magic_etc = VFS_CAP_REVISION_2;  // not effective
  caps.data[0].permitted = 1u << CAP_NET_BIND_SERVICE;
  if (setxattr(path.c_str(), "security.capability", &caps, XATTR_CAPS_SZ_2, 0) != 0) {
    GTEST_SKIP() << "cannot set file capabilities here: " << strerror(errno);
  }
  EXPECT_THAT(CheckPreloadable(path), IsOk()) << "root: not secure-exec";
  // As uid 65534, in a child. It reaches the file through /proc/self/fd
  // (opened before setuid), needing no search permission on its directory.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << strerror(errno);
  std::string by_fd = absl::StrCat("/proc/self/fd/", fd);
  pid_t child = fork();
  ASSERT_GE(child, 0) << strerror(errno);
  if (child == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) {
      _exit(77);  // uid 65534 unmapped (Bazel's sandbox)
    }
    absl::Status s = CheckPreloadable(by_fd);
    _exit(s.code() == absl::StatusCode::kFailedPrecondition &&
                  absl::StrContains(s.message(), "file capabilities")
              ? 0
              : 1);
  }
  close(fd);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot become uid 65534 here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "uid 65534: refused for its file capabilities";
}

TEST_F(ProgramTest, FindProgramSearchesPathLikeExecvp) {
  Write("tool", "#!/bin/sh\n", 0644);  // not executable: skipped
  std::string sub = dir_ + "/bin";
  ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
  std::string later = Write("bin/tool", "#!/bin/sh\n");
  ASSERT_OK_AND_ASSIGN(std::string found,
                       FindProgram("tool", dir_ + "::" + sub));
  EXPECT_EQ(found, later);
  EXPECT_THAT(FindProgram("tool", dir_),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("tool")));
  EXPECT_THAT(FindProgram("no-such-tool", dir_ + ":" + sub),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no-such-tool: command not found")));
  // A name with a slash is not searched.
  ASSERT_OK_AND_ASSIGN(found, FindProgram(later, "/nonexistent"));
  EXPECT_EQ(found, later);
  EXPECT_THAT(FindProgram(dir_ + "/tool", ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace ipcfault::cli
