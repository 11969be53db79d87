#include "Pickle.h"

#include <cstring>
#include <functional>
#include <set>
#include <stdexcept>

namespace voxseg::inference::pickle {
namespace {

ValuePtr make(decltype(Value::v) v) {
  auto p = std::make_shared<Value>();
  p->v = std::move(v);
  return p;
}

class Machine {
public:
  explicit Machine(const std::string& b) : b_(b) {}

  ValuePtr run() {
    while (true) {
      const std::uint8_t op = u8();
      switch (op) {
      case 0x80: u8(); break;                                               // PROTO
      case 0x95: skip(8); break;                                            // FRAME
      case 0x2e: return pop();                                              // STOP
      case 0x28: marks_.push_back(stack_.size()); break;                    // MARK
      case 0x4e: push(make(std::monostate{})); break;                       // NONE
      case 0x88: push(make(true)); break;                                   // NEWTRUE
      case 0x89: push(make(false)); break;                                  // NEWFALSE
      case 0x4b: push(make(std::int64_t(u8()))); break;                     // BININT1
      case 0x4d: push(make(std::int64_t(le<std::uint16_t>()))); break;      // BININT2
      case 0x4a: push(make(std::int64_t(le<std::int32_t>()))); break;       // BININT
      case 0x8a: push(make(long1(u8()))); break;                            // LONG1
      case 0x8b: push(make(long1(le<std::int32_t>()))); break;              // LONG4
      case 0x47: push(make(be_double())); break;                            // BINFLOAT
      case 0x58: push(make(text(le<std::uint32_t>()))); break;              // BINUNICODE
      case 0x8c: push(make(text(u8()))); break;                             // SHORT_BINUNICODE
      case 0x8d: push(make(text(std::size_t(le<std::uint64_t>())))); break; // BINUNICODE8
      case 0x54: push(make(text(le<std::uint32_t>()))); break;              // BINSTRING
      case 0x55: push(make(text(u8()))); break;                             // SHORT_BINSTRING
      case 0x42: push(make(text(le<std::uint32_t>()))); break;              // BINBYTES
      case 0x43: push(make(text(u8()))); break;                             // SHORT_BINBYTES
      case 0x8e: push(make(text(std::size_t(le<std::uint64_t>())))); break; // BINBYTES8
      case 0x7d: push(make(Dict{})); break;                                 // EMPTY_DICT
      case 0x5d: push(make(List{})); break;                                 // EMPTY_LIST
      case 0x29: push(make(List{})); break;                                 // EMPTY_TUPLE
      case 0x8f: push(make(List{})); break;                                 // EMPTY_SET
      case 0x74: push(make(popMark())); break;                              // TUPLE
      case 0x6c: push(make(popMark())); break;                              // LIST
      case 0x85: {
        auto a = pop();
        push(make(List{a}));
        break;
      } // TUPLE1
      case 0x86: {
        auto b = pop(), a = pop();
        push(make(List{a, b}));
        break;
      } // TUPLE2
      case 0x87: {
        auto c = pop(), b = pop(), a = pop();
        push(make(List{a, b, c}));
        break;
      }                                        // TUPLE3
      case 0x91: push(make(popMark())); break; // FROZENSET
      case 0x64: {
        auto items = popMark();
        Dict d;
        for (std::size_t i = 0; i + 1 < items.size(); i += 2) d.emplace_back(items[i], items[i + 1]);
        push(make(d));
        break;
      } // DICT
      case 0x61: {
        auto v = pop();
        appendTo(top(), {v});
        break;
      } // APPEND
      case 0x65: {
        auto items = popMark();
        appendTo(top(), items);
        break;
      } // APPENDS
      case 0x90: {
        auto items = popMark();
        appendTo(top(), items);
        break;
      } // ADDITEMS
      case 0x73: {
        auto v = pop(), k = pop();
        setItems(top(), {k, v});
        break;
      } // SETITEM
      case 0x75: {
        auto items = popMark();
        setItems(top(), items);
        break;
      }                                                    // SETITEMS
      case 0x71: memo(u8()); break;                        // BINPUT
      case 0x72: memo(le<std::uint32_t>()); break;         // LONG_BINPUT
      case 0x94: memo(memo_.size()); break;                // MEMOIZE
      case 0x68: push(recall(u8())); break;                // BINGET
      case 0x6a: push(recall(le<std::uint32_t>())); break; // LONG_BINGET
      case 0x63: {
        std::string m = line(), n = line();
        push(make(Global{m, n}));
        break;
      } // GLOBAL
      case 0x93: {
        auto n = pop(), m = pop();
        push(make(Global{asStr(m), asStr(n)}));
        break;
      } // STACK_GLOBAL
      case 0x52: {
        auto args = pop(), fn = pop();
        push(reduce(fn, args));
        break;
      } // REDUCE
      case 0x81: {
        auto args = pop(), cls = pop();
        push(reduce(cls, args));
        break;
      }                                          // NEWOBJ
      case 0x51: push(persistent(pop())); break; // BINPERSID
      case 0x62: {
        auto state = pop();
        build(top(), state);
        break;
      }                              // BUILD
      case 0x30: pop(); break;       // POP
      case 0x31: popMark(); break;   // POP_MARK
      case 0x32: push(top()); break; // DUP
      default:
        throw std::runtime_error("unsupported pickle opcode 0x" + hex(op) + " at byte " + std::to_string(pos_ - 1));
      }
    }
  }

private:
  static std::string hex(std::uint8_t v) {
    const char* d = "0123456789abcdef";
    return std::string{d[v >> 4], d[v & 15]};
  }
  void need(std::size_t n) const {
    if (pos_ + n > b_.size()) throw std::runtime_error("truncated pickle");
  }
  std::uint8_t u8() {
    need(1);
    return static_cast<std::uint8_t>(b_[pos_++]);
  }
  void skip(std::size_t n) {
    need(n);
    pos_ += n;
  }
  template <typename T> T le() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  double be_double() {
    need(8);
    unsigned char r[8];
    for (int i = 0; i < 8; ++i) r[i] = static_cast<unsigned char>(b_[pos_ + 7 - std::size_t(i)]);
    pos_ += 8;
    double d;
    std::memcpy(&d, r, 8);
    return d;
  }
  std::int64_t long1(std::int64_t n) {
    if (n < 0 || n > 8) { // larger integers: not needed for checkpoints, skipped
      skip(std::size_t(std::max<std::int64_t>(n, 0)));
      return 0;
    }
    std::uint64_t v = 0;
    for (std::int64_t i = 0; i < n; ++i) v |= std::uint64_t(u8()) << (8 * i);
    if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~std::uint64_t(0) << (8 * n); // sign
    return static_cast<std::int64_t>(v);
  }
  std::string text(std::size_t n) {
    need(n);
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string line() {
    const auto end = b_.find('\n', pos_);
    if (end == std::string::npos) throw std::runtime_error("truncated pickle");
    std::string s = b_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr pop() {
    if (stack_.empty()) throw std::runtime_error("pickle stack underflow");
    auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  ValuePtr top() {
    if (stack_.empty()) throw std::runtime_error("pickle stack underflow");
    return stack_.back();
  }
  List popMark() {
    if (marks_.empty()) throw std::runtime_error("pickle mark missing");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    if (m > stack_.size()) throw std::runtime_error("pickle mark past the stack");
    List items(stack_.begin() + std::ptrdiff_t(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  void memo(std::size_t i) {
    // A pickle memoizes at most one value per opcode, so an index past its length is malformed (and
    // would otherwise allocate up to 2^32 slots).
    if (i > b_.size()) throw std::runtime_error("pickle memo index " + std::to_string(i) + " beyond the data");
    if (memo_.size() <= i) memo_.resize(i + 1);
    memo_[i] = top();
  }
  ValuePtr recall(std::size_t i) {
    if (i >= memo_.size() || !memo_[i]) throw std::runtime_error("pickle memo miss");
    return memo_[i];
  }
  static std::string asStr(const ValuePtr& v) {
    const auto* s = v->str();
    if (!s) throw std::runtime_error("pickle: expected a string");
    return *s;
  }
  // Values are shared_ptrs: a container that came to hold itself (a pickle may build cycles through the
  // memo) would never be freed. torch.save data has no cycles, so one is refused (found by fuzzing).
  static void forEachChild(const Value& v, const std::function<void(const ValuePtr&)>& visit) {
    if (const auto* l = std::get_if<List>(&v.v))
      for (const auto& c : *l) visit(c);
    if (const auto* d = std::get_if<Dict>(&v.v))
      for (const auto& [k, c] : *d) visit(k), visit(c);
    if (const auto* o = std::get_if<Object>(&v.v)) {
      for (const auto& c : o->args) visit(c);
      visit(o->state);
    }
  }
  static void refuseCycle(const ValuePtr& target, const ValuePtr& item) {
    std::vector<const Value*> todo{item.get()};
    std::set<const Value*> seen;
    while (!todo.empty()) {
      const Value* v = todo.back();
      todo.pop_back();
      if (!v || !seen.insert(v).second) continue;
      if (v == target.get()) throw std::runtime_error("pickle: a container that contains itself");
      forEachChild(*v, [&](const ValuePtr& c) { todo.push_back(c.get()); });
    }
  }
  static void appendTo(const ValuePtr& target, const List& items) {
    for (const auto& item : items) refuseCycle(target, item);
    if (auto* l = std::get_if<List>(&target->v))
      l->insert(l->end(), items.begin(), items.end());
    else if (auto* o = std::get_if<Object>(&target->v))
      o->args.insert(o->args.end(), items.begin(), items.end());
  }
  static void setItems(const ValuePtr& target, const List& items) {
    Dict* d = std::get_if<Dict>(&target->v);
    if (!d) return; // items set on an object we do not interpret: ignored
    for (const auto& item : items) refuseCycle(target, item);
    for (std::size_t i = 0; i + 1 < items.size(); i += 2) d->emplace_back(items[i], items[i + 1]);
  }
  static void build(const ValuePtr& target, const ValuePtr& state) {
    if (auto* o = std::get_if<Object>(&target->v)) {
      refuseCycle(target, state);
      o->state = state;
    }
    // BUILD on a dict (OrderedDict's _metadata attribute) carries nothing we need.
  }

  // Known callables; anything else becomes an opaque Object.
  ValuePtr reduce(const ValuePtr& fn, const ValuePtr& args) {
    const Global* g = std::get_if<Global>(&fn->v);
    const List* a = args->list();
    if (g && a) {
      const std::string q = g->qualified();
      if (q == "collections.OrderedDict") return make(Dict{});
      if (q == "torch._utils._rebuild_tensor_v2" || q == "torch._utils._rebuild_tensor") {
        if (a->size() >= 4) {
          const Storage* s = std::get_if<Storage>(&(*a)[0]->v);
          const auto* off = std::get_if<std::int64_t>(&(*a)[1]->v);
          const List* size = (*a)[2]->list();
          const List* stride = (*a)[3]->list();
          if (s && off && size && stride) {
            TensorRef t{*s, *off, {}, {}};
            const auto integer = [](const ValuePtr& v) {
              const auto* i = std::get_if<std::int64_t>(&v->v);
              if (!i) throw std::runtime_error("pickle: a tensor's size or stride is not an integer");
              return *i;
            };
            for (const auto& v : *size) t.size.push_back(integer(v));
            for (const auto& v : *stride) t.stride.push_back(integer(v));
            return make(t);
          }
        }
      }
      if (q == "torch._utils._rebuild_parameter" && !a->empty()) return (*a)[0]; // (tensor, requires_grad, hooks)
      // LibTorch's pickler (torch::pickle_save, e.g. `voxseg train`) tags typed containers: (value, "Dict[str,
      // Tensor]")
      if (q == "torch.jit._pickle.restore_type_tag" && !a->empty()) return (*a)[0];
      // ... and writes lists of one element type as build_intlist([0, 1, 2]) and the like (Python's torch.load
      // gives the list itself)
      if ((q == "torch.jit._pickle.build_intlist" || q == "torch.jit._pickle.build_doublelist" ||
           q == "torch.jit._pickle.build_boollist" || q == "torch.jit._pickle.build_tensorlist" ||
           q == "torch.jit._pickle.build_genericlist") &&
          a->size() == 1 && (*a)[0]->list())
        return (*a)[0];
    }
    Object o;
    if (g) o.cls = *g;
    if (a) o.args = *a;
    return make(o);
  }

  ValuePtr persistent(const ValuePtr& pid) {
    const List* t = pid->list();
    if (t && t->size() >= 5 && t->at(0)->str() && *t->at(0)->str() == "storage") {
      Storage s;
      if (const Global* g = std::get_if<Global>(&t->at(1)->v)) s.type = g->name;
      if (const auto* k = t->at(2)->str()) s.key = *k;
      if (const auto* n = std::get_if<std::int64_t>(&t->at(4)->v)) s.numel = *n;
      return make(s);
    }
    return make(Object{});
  }

  const std::string& b_;
  std::size_t pos_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<std::size_t> marks_;
  std::vector<ValuePtr> memo_;
};

} // namespace

namespace {
// Moves the values held by `v` into `out`, leaving `v`'s containers empty.
void takeChildren(Value& v, std::vector<ValuePtr>& out) {
  if (auto* l = std::get_if<List>(&v.v)) {
    for (auto& c : *l) out.push_back(std::move(c));
    l->clear();
  } else if (auto* d = std::get_if<Dict>(&v.v)) {
    for (auto& [k, c] : *d) {
      out.push_back(std::move(k));
      out.push_back(std::move(c));
    }
    d->clear();
  } else if (auto* o = std::get_if<Object>(&v.v)) {
    for (auto& c : o->args) out.push_back(std::move(c));
    o->args.clear();
    out.push_back(std::move(o->state));
  }
}
} // namespace

Value::~Value() {
  std::vector<ValuePtr> pending;
  takeChildren(*this, pending);
  while (!pending.empty()) {
    ValuePtr p = std::move(pending.back());
    pending.pop_back();
    if (p && p.use_count() == 1) takeChildren(*p, pending); // the last owner: empty it before it goes
  }                                                         // p released here with nothing nested left to free
}

ValuePtr Value::get(const std::string& key) const {
  const Dict* d = dict();
  if (!d) return nullptr;
  for (const auto& [k, v] : *d)
    if (k->str() && *k->str() == key) return v;
  return nullptr;
}

ValuePtr parse(const std::string& bytes) { return Machine(bytes).run(); }

} // namespace voxseg::inference::pickle
