#pragma once
// The refusal tests' one check: a call throws voxseg::Error with the exit code and a message holding a text.

#include "voxseg/core/Error.h"

#include <gtest/gtest.h>

#include <string>

namespace voxseg::testing {

/// A failure unless `f()` throws Error with `code` and a message holding `text`; `context` names the case in the
/// failure (e.g. the input that should have been refused).
template <class F> void expectError(F&& f, ExitCode code, const std::string& text, const std::string& context = "") {
  try {
    f();
    ADD_FAILURE() << "no error; expected: " << text << (context.empty() ? "" : " (" + context + ")");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

} // namespace voxseg::testing
