// inject/cli/calls_markdown.h
//
// docs/calls.md, rendered from the call spec: the call sets, the keys, the
// failure styles and the call table, all read from call.h (AllCalls,
// AllCallSets, AllKeys). `ipcfault calls --markdown` prints it;
// //inject:calls_doc_test checks docs/calls.md is exactly this text.
//
//   Out(ipcfault::cli::CallsMarkdown());
//
// Thread-safe: pure functions over constant tables.

#ifndef IPCFAULT_INJECT_CLI_CALLS_MARKDOWN_H_
#define IPCFAULT_INJECT_CLI_CALLS_MARKDOWN_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ipcfault/inject/call.h"

namespace ipcfault::cli {

// How a call of `style` reports failure: "-1, errno", "an EAI_* code".
absl::string_view FailureText(FailureStyle style);

// The calls of `calls` that take `key`, in words: "all", "none",
// "all but getaddrinfo gethostbyname", or the list.
std::string KeyTakersText(uint32_t key, absl::Span<const CallInfo* const> calls);

// The whole of docs/calls.md.
std::string CallsMarkdown();

}  // namespace ipcfault::cli

#endif  // IPCFAULT_INJECT_CLI_CALLS_MARKDOWN_H_
