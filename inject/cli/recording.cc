#include "ipcfault/inject/cli/recording.h"

#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ipcfault/inject/call.h"
#include "ipcfault/inject/cli/json.h"

namespace ipcfault::cli {
namespace {

std::string Basename(absl::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path : path.substr(slash + 1));
}

// Whether a rule without fd= matches a call of `call` on an fd of `kind`.
bool DefaultFilterMatches(absl::string_view call, absl::string_view kind) {
  std::optional<Call> c = CallByName(call);
  if (!c.has_value()) return false;
  return !GetCallInfo(*c).defaults_to_socket_fds || kind == "socket";
}

// Shell-quotes one word for popen.
std::string ShellQuote(absl::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out.push_back(c);
  }
  out += "'";
  return out;
}

bool OnPath(const char* tool) {
  const char* path = getenv("PATH");
  if (path == nullptr) return false;
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    if (access(absl::StrCat(dir, "/", tool).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Function names (demangled, parameters dropped) and file:line for offsets
// in one module, from addr2line; "" where it knows nothing.
std::vector<std::pair<std::string, std::string>> Addr2Line(
    const std::string& module, const std::vector<std::string>& offsets) {
  std::vector<std::pair<std::string, std::string>> out(offsets.size());
  if (offsets.empty() || access(module.c_str(), R_OK) != 0) return out;
  std::string command = absl::StrCat("addr2line -C -f -e ", ShellQuote(module));
  for (const std::string& offset : offsets) absl::StrAppend(&command, " ", offset);
  absl::StrAppend(&command, " 2>/dev/null");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) text.append(buf, n);
  pclose(pipe);
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  for (size_t i = 0; i < offsets.size() && 2 * i + 1 < lines.size(); ++i) {
    std::string function = lines[2 * i];
    std::string file = lines[2 * i + 1];
    if (function == "??") function.clear();
    // "ns::(anonymous namespace)::Class::Method[abi:cxx11](int, char*) const"
    // -> "ns::Class::Method".
    function = absl::StrReplaceAll(function, {{"(anonymous namespace)::", ""}, {"[abi:cxx11]", ""}});
    if (size_t paren = function.find('('); paren != std::string::npos && paren > 0) {
      function.resize(paren);
    }
    if (absl::StartsWith(file, "??")) {
      file.clear();
    } else {
      if (size_t space = file.find(' '); space != std::string::npos) file.resize(space);
      if (absl::EndsWith(file, ":?")) file.resize(file.size() - 2);
      file = Basename(file);
    }
    out[i] = {function, file};
  }
  return out;
}

// "ns::Class::Method" -> "Class::Method".
std::string ShortFunction(absl::string_view f) {
  std::vector<absl::string_view> parts = absl::StrSplit(f, "::");
  if (parts.size() <= 2) return std::string(f);
  return absl::StrCat(parts[parts.size() - 2], "::", parts.back());
}

}  // namespace

const RecordedProcess* Recording::Process(pid_t pid) const {
  for (const RecordedProcess& p : processes) {
    if (p.pid == pid) return &p;
  }
  return nullptr;
}

absl::StatusOr<Recording> ParseSweepLog(absl::string_view text) {
  Recording rec;
  // Calls per (pid, site), total and matching the default filter.
  std::map<std::pair<pid_t, std::string>, std::pair<uint64_t, uint64_t>> per_process;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    absl::StatusOr<JsonValue> v = ParseJson(line);
    if (!v.ok() || v->type() != JsonValue::Type::kObject) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sweep log line ", line_number, ": ",
          v.ok() ? "not a JSON object" : v.status().message()));
    }
    const pid_t pid = static_cast<pid_t>(v->Get("pid").number());
    if (!v->Get("exe").is_null()) {
      RecordedProcess p;
      p.pid = pid;
      p.ppid = static_cast<pid_t>(v->Get("ppid").number());
      p.exe = v->Get("exe").str();
      // A forked child without exec has the same executable: the line says.
      rec.processes.push_back(p);
      continue;
    }
    if (v->Get("exit").boolean()) {
      for (RecordedProcess& p : rec.processes) {
        if (p.pid != pid) continue;
        p.exited = true;
        p.exit_fds = static_cast<int>(v->Get("fds").number());
        p.exit_children = static_cast<int>(v->Get("children").number());
      }
      continue;
    }
    RecordedCall call;
    call.pid = pid;
    call.call = v->Get("call").str();
    call.ordinal = static_cast<uint64_t>(v->Get("n").number());
    call.fd = static_cast<int>(v->Get("fd").number());
    call.kind = v->Get("kind").str();
    call.nonblocking = v->Get("nb").number() != 0;
    call.count = static_cast<uint64_t>(v->Get("count").number());
    call.site = v->Get("site").str();
    RecordedSite& site = rec.sites[call.site];
    if (site.hash.empty()) {
      site.hash = call.site;
      site.call = call.call;
      site.kind = call.kind;
      if (const RecordedProcess* p = rec.Process(pid)) site.exe = p->exe;
    }
    if (site.frames.empty()) {
      for (const JsonValue& f : v->Get("frames").items()) site.frames.push_back(f.str());
    }
    if (call.nonblocking) site.nonblocking = true;
    if (call.count > 0 && (site.min_count == 0 || call.count < site.min_count)) {
      site.min_count = call.count;
    }
    auto& counts = per_process[{pid, call.site}];
    ++counts.first;
    if (DefaultFilterMatches(call.call, call.kind)) ++counts.second;
    site.max_per_process = std::max(site.max_per_process, counts.first);
    site.max_matching_per_process = std::max(site.max_matching_per_process, counts.second);
    rec.calls.push_back(std::move(call));
  }
  for (const RecordedProcess& p : rec.processes) {
    if (!p.exited) continue;
    rec.exit_fds += p.exit_fds;
    rec.exit_children += p.exit_children;
  }
  return rec;
}

void Symbolize(Recording& rec) {
  // Which (module, offset) each site's first two frames are.
  struct Want {
    RecordedSite* site;
    int frame;
  };
  std::map<std::string, std::vector<std::pair<std::string, Want>>> by_module;
  for (auto& [hash, site] : rec.sites) {
    for (int i = 0; i < 2 && i < static_cast<int>(site.frames.size()); ++i) {
      const std::string& frame = site.frames[i];
      size_t plus = frame.rfind("+0x");
      if (plus == std::string::npos) continue;
      std::string module = frame.substr(0, plus);
      if (module.empty()) module = site.exe;
      by_module[module].push_back({frame.substr(plus + 1), Want{&site, i}});
    }
  }
  const bool have_addr2line = OnPath("addr2line");
  std::map<std::pair<RecordedSite*, int>, std::pair<std::string, std::string>> names;
  if (have_addr2line) {
    for (auto& [module, wants] : by_module) {
      std::vector<std::string> offsets;
      for (auto& [offset, want] : wants) offsets.push_back(offset);
      auto found = Addr2Line(module, offsets);
      for (size_t i = 0; i < wants.size(); ++i) {
        names[{wants[i].second.site, wants[i].second.frame}] = found[i];
      }
    }
  }
  for (auto& [hash, site] : rec.sites) {
    auto describe = [&](int i) -> std::string {
      auto it = names.find({&site, i});
      std::string function, file;
      if (it != names.end()) std::tie(function, file) = it->second;
      if (function.empty() && file.empty()) {
        const std::string& frame = site.frames[i];
        size_t plus = frame.rfind("+0x");
        std::string module = plus == std::string::npos ? frame : frame.substr(0, plus);
        if (module.empty()) module = site.exe;
        return absl::StrCat(Basename(module),
                            plus == std::string::npos ? "" : frame.substr(plus));
      }
      if (file.empty()) return ShortFunction(function);
      if (function.empty()) return file;
      return absl::StrCat(file, " ", ShortFunction(function));
    };
    if (site.frames.empty()) {
      site.where = "(no frames)";
      continue;
    }
    site.where = describe(0);
    if (site.frames.size() > 1) absl::StrAppend(&site.where, " < ", describe(1));
  }
}

std::string RecordingJson(const Recording& rec) {
  std::string out = "{\n  \"processes\": [";
  for (size_t i = 0; i < rec.processes.size(); ++i) {
    const RecordedProcess& p = rec.processes[i];
    absl::StrAppend(&out, i ? "," : "", "\n    {\"pid\": ", p.pid, ", \"ppid\": ", p.ppid,
                    ", \"exe\": ", JsonQuote(p.exe), ", \"exited\": ", p.exited ? "true" : "false",
                    ", \"fds_at_exit\": ", p.exit_fds, ", \"children_at_exit\": ", p.exit_children,
                    "}");
  }
  absl::StrAppend(&out, "\n  ],\n  \"calls\": [");
  for (size_t i = 0; i < rec.calls.size(); ++i) {
    const RecordedCall& c = rec.calls[i];
    absl::StrAppend(&out, i ? "," : "", "\n    {\"pid\": ", c.pid, ", \"call\": ", JsonQuote(c.call),
                    ", \"ordinal\": ", c.ordinal, ", \"fd\": ", c.fd,
                    ", \"fd_kind\": ", JsonQuote(c.kind), ", \"site\": ", JsonQuote(c.site), "}");
  }
  absl::StrAppend(&out, "\n  ],\n  \"sites\": [");
  bool first = true;
  for (const auto& [hash, s] : rec.sites) {
    std::vector<std::string> frames;
    for (const std::string& f : s.frames) frames.push_back(JsonQuote(f));
    absl::StrAppend(&out, first ? "" : ",", "\n    {\"site\": ", JsonQuote(hash),
                    ", \"call\": ", JsonQuote(s.call), ", \"where\": ", JsonQuote(s.where),
                    ", \"calls_per_process\": ", s.max_per_process,
                    ", \"frames\": [", absl::StrJoin(frames, ", "), "]}");
    first = false;
  }
  absl::StrAppend(&out, "\n  ]\n}\n");
  return out;
}

}  // namespace ipcfault::cli
