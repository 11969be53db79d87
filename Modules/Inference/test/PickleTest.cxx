// The checkpoint pickle reader on hand-made pickles: values come out, malformed input is a
// std::runtime_error (never a crash or an unbounded allocation).
#include "Pickle.h"

#include <gtest/gtest.h>

#include <cstdint>
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
  // Found by Testing/Fuzz/FuzzPickle (a leak): EMPTY_LIST, BINPUT 0, BINGET 0, APPEND puts a list into
  // itself, a shared_ptr cycle never freed; refused.
  EXPECT_THROW(parse(std::string("\x80\x02]q\x00h\x00a.", 9)), std::runtime_error);
}

// Found by Testing/Fuzz/FuzzPickle: _rebuild_tensor_v2 with a size that is not a list of integers threw
// std::bad_variant_access (not a runtime_error, so it escaped as an internal error).
// Found by Testing/Fuzz/FuzzPickle: lists nested 200,000 deep overflowed the stack when freed.
TEST(Pickle, DeepNestingIsFreedWithoutRecursion) {
  const int depth = 200000;
  std::string q("\x80\x02]", 3); // EMPTY_LIST, then 200,000 times: wrap the top in a 1-tuple
  for (int i = 0; i < depth; ++i) q += "\x85";
  q += ".";
  EXPECT_NO_THROW({
    ValuePtr v = parse(q);
    ASSERT_TRUE(v && v->list());
  });
}

TEST(Pickle, TensorSizeMustBeIntegers) {
  const auto text = [](const std::string& s) { // BINUNICODE
    const std::uint32_t n = static_cast<std::uint32_t>(s.size());
    return "X" + std::string(reinterpret_cast<const char*>(&n), 4) + s;
  };
  const auto rebuild = [&](const std::string& size) { // _rebuild_tensor_v2(storage pid, 0, size, (1,))
    return std::string("\x80\x02") + "ctorch._utils\n_rebuild_tensor_v2\n(" + ("(" + text("storage")) +
           "ctorch\nFloatStorage\n" + text("0") + text("cpu") + "K\x01tQ" + "K" + std::string(1, '\0') + size + "\x85" +
           "K\x01\x85" + "tR.";
  };
  EXPECT_THROW(parse(rebuild(text("x"))), std::runtime_error); // size ("x",)
  const ValuePtr t = parse(rebuild("K\x02"));                  // size (2,)
  ASSERT_TRUE(t);
  const auto* ref = std::get_if<TensorRef>(&t->v);
  ASSERT_NE(ref, nullptr);
  EXPECT_EQ(ref->size, std::vector<std::int64_t>{2});
  EXPECT_EQ(ref->storage.type, "FloatStorage");
}

} // namespace
} // namespace voxseg::inference::pickle
