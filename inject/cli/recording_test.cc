// The sweep log's reader: processes, calls, sites, per-process counts and
// the exit report, from lines as the preload library writes them.

#include "ipcfault/inject/cli/recording.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "ipcfault/inject/cli/json.h"

namespace ipcfault::cli {
namespace {

using ::testing::ElementsAre;

constexpr char kLog[] = R"({"pid":10,"ppid":1,"exe":"/bin/client"}
{"pid":10,"tid":10,"call":"read","n":1,"fd":3,"kind":"socket","nb":0,"count":13,"site":"00000000000a","frames":["+0x000000001234","/lib/libc.so.6+0x000000000042"]}
{"pid":10,"tid":10,"call":"read","n":2,"fd":4,"kind":"file","nb":0,"count":4096,"site":"00000000000a"}
{"pid":10,"tid":10,"call":"read","n":3,"fd":3,"kind":"socket","nb":1,"count":7,"site":"00000000000a"}
{"pid":11,"ppid":10,"exe":"/bin/client"}
{"pid":11,"tid":11,"call":"read","n":4,"fd":3,"kind":"socket","nb":0,"count":13,"site":"00000000000a"}
{"pid":11,"exit":true,"fds":1,"children":0}
{"pid":10,"exit":true,"fds":2,"children":1}
)";

TEST(ParseSweepLogTest, ReadsProcessesCallsSitesAndExits) {
  absl::StatusOr<Recording> rec = ParseSweepLog(kLog);
  ASSERT_TRUE(rec.ok()) << rec.status();
  ASSERT_EQ(rec->processes.size(), 2u);
  EXPECT_EQ(rec->processes[1].ppid, 10);
  EXPECT_TRUE(rec->processes[0].exited);
  EXPECT_EQ(rec->exit_fds, 3);
  EXPECT_EQ(rec->exit_children, 1);
  ASSERT_EQ(rec->calls.size(), 4u);
  EXPECT_EQ(rec->calls[2].ordinal, 3u);
  EXPECT_TRUE(rec->calls[2].nonblocking);
  ASSERT_EQ(rec->sites.size(), 1u);
  const RecordedSite& site = rec->sites.at("00000000000a");
  EXPECT_EQ(site.call, "read");
  EXPECT_EQ(site.exe, "/bin/client");
  EXPECT_THAT(site.frames, ElementsAre("+0x000000001234", "/lib/libc.so.6+0x000000000042"));
  // Three calls in process 10, one in 11; a rule without fd= skips the file.
  EXPECT_EQ(site.max_per_process, 3u);
  EXPECT_EQ(site.max_matching_per_process, 2u);
  EXPECT_EQ(site.min_count, 7u);
  EXPECT_TRUE(site.nonblocking);
}

TEST(ParseSweepLogTest, NamesTheLineThatDoesNotParse) {
  absl::StatusOr<Recording> rec = ParseSweepLog("{\"pid\":1,\"exe\":\"/x\"}\n{\"pid\":\n");
  ASSERT_FALSE(rec.ok());
  EXPECT_THAT(std::string(rec.status().message()), ::testing::HasSubstr("sweep log line 2"));
}

TEST(SymbolizeTest, FallsBackToModuleAndOffset) {
  absl::StatusOr<Recording> rec = ParseSweepLog(
      R"({"pid":1,"ppid":0,"exe":"/nonexistent/prog"}
{"pid":1,"tid":1,"call":"close","n":1,"fd":3,"kind":"socket","nb":0,"count":0,"site":"00000000000b","frames":["+0x000000000010","/nonexistent/lib.so+0x000000000020"]}
)");
  ASSERT_TRUE(rec.ok());
  Symbolize(*rec);
  EXPECT_EQ(rec->sites.at("00000000000b").where, "prog+0x000000000010 < lib.so+0x000000000020");
}

TEST(JsonTest, RoundTripsWhatItQuotes) {
  const std::string nasty = "a\"b\\c\n\x01 é";
  absl::StatusOr<JsonValue> v = ParseJson(absl::StrCat("{\"k\":[", JsonQuote(nasty), ",1.5,true,null]}"));
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->Get("k").items().size(), 4u);
  EXPECT_EQ(v->Get("k").items()[0].str(), nasty);
  EXPECT_EQ(v->Get("k").items()[1].number(), 1.5);
  EXPECT_TRUE(v->Get("k").items()[2].boolean());
  EXPECT_TRUE(v->Get("missing").is_null());
  EXPECT_FALSE(ParseJson("{\"k\":1} x").ok());
  EXPECT_FALSE(ParseJson("[1,").ok());
}

}  // namespace
}  // namespace ipcfault::cli
