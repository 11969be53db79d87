#pragma once
// A small, defensive reader of Python pickles as torch.save writes them (protocol 2..5), enough to
// take tensors and plain values out of a checkpoint without Python. Objects of classes it does not
// know (numpy scalars, torch.device, optimizer internals) become opaque values instead of errors.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace voxseg::inference::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Global {
  std::string module, name;
  std::string qualified() const { return module + "." + name; }
};

/// An object the reader does not interpret: the class and its constructor arguments.
struct Object {
  Global cls;
  std::vector<ValuePtr> args;
  ValuePtr state; ///< from BUILD, if any
};

/// torch.save's persistent id for a storage: ('storage', StorageType, key, location, numel).
struct Storage {
  std::string type; ///< e.g. "FloatStorage"
  std::string key;  ///< record name under data/
  std::int64_t numel = 0;
};

/// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)
struct TensorRef {
  Storage storage;
  std::int64_t offset = 0;
  std::vector<std::int64_t> size, stride;
};

using List = std::vector<ValuePtr>;
using Dict = std::vector<std::pair<ValuePtr, ValuePtr>>; ///< insertion order, like Python

struct Value {
  std::variant<std::monostate, bool, std::int64_t, double, std::string, List, Dict, Global, Object, Storage, TensorRef>
      v;
  bool isNone() const { return std::holds_alternative<std::monostate>(v); }
  const std::string* str() const { return std::get_if<std::string>(&v); }
  const Dict* dict() const { return std::get_if<Dict>(&v); }
  const List* list() const { return std::get_if<List>(&v); }
  /// dict[key] for a string key, or nullptr.
  ValuePtr get(const std::string& key) const;

  Value() = default;
  Value(const Value&) = default;
  Value& operator=(const Value&) = default;
  Value(Value&&) = default;
  Value& operator=(Value&&) = default;
  /// Frees nested values without recursion: a pickle can nest lists tens of thousands deep, and the
  /// default (recursive) destruction overflowed the stack (found by fuzzing).
  ~Value();
};

/// Parses a pickle; throws std::runtime_error on malformed input (never crashes on unknown classes).
ValuePtr parse(const std::string& bytes);

} // namespace voxseg::inference::pickle
