// The checkpoint pickle reader on hand-made pickles: values come out, malformed input is a
// std::runtime_error (never a crash or an unbounded allocation).
#include "Pickle.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace voxseg::inference::pickle {
namespace {

// PROTO 2, EMPTY_DICT, BINPUT 0, SHORT_BINUNICODE "epoch", BININT1 7, SETITEM, STOP
const std::string kSmall("\x80\x02}q\x00\x8c\x05"
                         "epochK\x07s.",
                         16);

TEST(Pickle, ReadsADict) {
  const ValuePtr v = parse(kSmall);
  ASSERT_TRUE(v && v->dict());
  const ValuePtr epoch = v->get("epoch");
  ASSERT_TRUE(epoch);
  EXPECT_EQ(std::get<std::int64_t>(epoch->v), 7);
}

TEST(Pickle, MalformedInputIsAnError) {
  EXPECT_THROW(parse(kSmall.substr(0, 9)), std::runtime_error);         // truncated
  EXPECT_THROW(parse(std::string("\x80\x02.", 3)), std::runtime_error); // STOP on an empty stack
  // Found by Testing/Fuzz/FuzzPickle: LONG_BINPUT with index 0xfffffff0 resized the memo to 2^32
  // entries (64 GB); an index beyond the data is malformed.
  EXPECT_THROW(parse(std::string("\x80\x02}r\xf0\xff\xff\xff.", 9)), std::runtime_error);
}

} // namespace
} // namespace voxseg::inference::pickle
