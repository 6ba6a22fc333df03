// main() for scenario_fuzz_test: runs the fuzz target (scenario_fuzz.cc) over
// a seed corpus and a bounded number of deterministic mutations of it, so the
// fuzz invariants are checked by every `bazel test //...` with any compiler.
// The real, coverage-guided fuzzing is scenario_libfuzzer_test.
//
//   scenario_fuzz_test [--mutations=N] [--seed=S] CORPUS_DIR_OR_FILE...
//
// Exits 0 when every input keeps the invariants; a broken invariant aborts.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "ipcfault/inject/call.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

// Tokens of the language, for mutations that build plausible rules.
std::vector<std::string> Dictionary() {
  std::vector<std::string> words = {
      ":", ",", "=", "..", "+", "#", "\n", " ", "\t", "\r\n", "inject=", "%net", "%io",
      "%signal", "%process", "all", "error=", "retval=", "short=", "signal=",
      "delay_enter=", "delay_exit=", "when=", "times=", "p=", "seed=", "fd=", "port=", "sig=",
      "ECONNREFUSED", "EINTR", "EAGAIN", "EAI_AGAIN", "HOST_NOT_FOUND", "SIGUSR1", "USR1",
      "SIGRTMIN+3", "SIGRTMAX-1", "socket", "pipe", "file", "any", "0", "1", "3", "65535",
      "65536", "4095", "0.05", "1e-3", ".5", "20ms", "2s", "1.5", "7ns", "us",
      "18446744073709551615", "18446744073709551614", "2147483648", "\xff", std::string(1, '\0')};
  for (const ipcfault::CallInfo& info : ipcfault::AllCalls()) words.emplace_back(info.name);
  return words;
}

class Mutator {
 public:
  Mutator(uint64_t seed, const std::vector<std::string>& corpus)
      : rng_(seed), corpus_(corpus), words_(Dictionary()) {}

  std::string Next() {
    std::string s = corpus_[Below(corpus_.size())];
    const size_t edits = 1 + Below(4);
    for (size_t i = 0; i < edits; ++i) Edit(s);
    return s;
  }

 private:
  size_t Below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  void Edit(std::string& s) {
    const size_t at = Below(s.size() + 1);
    switch (Below(7)) {
      case 0:  // flip a bit
        if (!s.empty()) s[at % s.size()] ^= static_cast<char>(1 << Below(8));
        break;
      case 1:  // insert a random byte
        s.insert(at, 1, static_cast<char>(Below(256)));
        break;
      case 2:  // delete a run
        if (!s.empty()) s.erase(at % s.size(), 1 + Below(8));
        break;
      case 3:  // insert a token
      case 4:
        s.insert(at, words_[Below(words_.size())]);
        break;
      case 5: {  // splice another input in
        const std::string& other = corpus_[Below(corpus_.size())];
        size_t from = Below(other.size() + 1);
        s.insert(at, other.substr(from, Below(other.size() - from + 1)));
        break;
      }
      case 6:  // duplicate a piece of itself
        if (!s.empty()) s.insert(at, s.substr(Below(s.size()), 1 + Below(16)));
        break;
    }
  }

  std::mt19937_64 rng_;
  const std::vector<std::string>& corpus_;
  std::vector<std::string> words_;
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t mutations = 20000;
  uint64_t seed = 1;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--mutations=")) {
      if (!absl::SimpleAtoi(arg, &mutations)) return std::fprintf(stderr, "bad --mutations\n"), 2;
      continue;
    }
    if (absl::ConsumePrefix(&arg, "--seed=")) {
      if (!absl::SimpleAtoi(arg, &seed)) return std::fprintf(stderr, "bad --seed\n"), 2;
      continue;
    }
    std::filesystem::path path(argv[i]);
    if (std::filesystem::is_directory(path)) {
      // Sorted, so that the mutations are the same on every run.
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& file : files) corpus.push_back(ReadFile(file));
    } else if (std::filesystem::is_regular_file(path)) {
      corpus.push_back(ReadFile(path));
    } else {
      std::fprintf(stderr, "scenario_fuzz_test: no such corpus: %s\n", argv[i]);
      return 2;
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "scenario_fuzz_test: empty corpus\n");
    return 2;
  }
  for (const std::string& input : corpus) Run(input);
  Mutator mutator(seed, corpus);
  for (uint64_t i = 0; i < mutations; ++i) Run(mutator.Next());
  std::printf("scenario_fuzz_test: %zu corpus inputs and %llu mutations (seed %llu) kept the "
              "invariants\n",
              corpus.size(), static_cast<unsigned long long>(mutations),
              static_cast<unsigned long long>(seed));
  return 0;
}
