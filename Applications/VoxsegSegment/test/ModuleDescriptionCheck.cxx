#include "ModuleDescriptionCheck.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

namespace voxseg::slicer::testing {
namespace {

bool isNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool isNameChar(char c) {
  return isNameStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Slicer's rule for <name> and <longflag> (after its leading dashes are dropped).
bool isIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::string withoutLeadingDashes(const std::string& s) {
  return s.substr(std::min(s.find_first_not_of('-'), s.size()));
}

class Parser {
public:
  explicit Parser(const std::string& text) : s_(text) {}

  XmlElement document() {
    skipMisc();
    if (!startsWith("<") || startsWith("</")) fail("expected the root element");
    XmlElement root = element();
    skipMisc();
    if (pos_ != s_.size()) fail("content after the root element </" + root.tag + ">");
    return root;
  }

private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw std::runtime_error("line " + std::to_string(line_) + ": " + problem);
  }
  bool startsWith(const char* p) const { return s_.compare(pos_, std::char_traits<char>::length(p), p) == 0; }
  void advance(std::size_t n) {
    for (std::size_t i = 0; i < n && pos_ < s_.size(); ++i) line_ += s_[pos_++] == '\n';
  }
  void skipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) advance(1);
  }
  // Moves past `end`, which must come before the end of the text.
  std::string until(const char* end, const std::string& what) {
    const std::size_t e = s_.find(end, pos_);
    if (e == std::string::npos) fail("unterminated " + what);
    std::string inside = s_.substr(pos_, e - pos_);
    advance(e - pos_ + std::char_traits<char>::length(end));
    return inside;
  }
  // Whitespace, comments and processing instructions (the <?xml ...?> prolog among them).
  void skipMisc() {
    while (true) {
      skipSpace();
      if (startsWith("<!--")) {
        advance(4);
        until("-->", "comment");
      } else if (startsWith("<?")) {
        advance(2);
        until("?>", "processing instruction");
      } else if (startsWith("<!")) {
        fail("DOCTYPE and other declarations are not expected in a module description");
      } else {
        return;
      }
    }
  }
  std::string name() {
    if (pos_ >= s_.size() || !isNameStart(s_[pos_])) fail("expected a name");
    const std::size_t b = pos_;
    while (pos_ < s_.size() && isNameChar(s_[pos_])) advance(1);
    return s_.substr(b, pos_ - b);
  }
  // Decodes the five predefined entities and numeric references; a bare '&' is an error.
  std::string decode(const std::string& raw) const {
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '&') {
        out += raw[i];
        continue;
      }
      const std::size_t semi = raw.find(';', i);
      if (semi == std::string::npos) fail("'&' that starts no entity");
      const std::string ent = raw.substr(i + 1, semi - i - 1);
      static const std::map<std::string, char> named{
          {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
      if (const auto it = named.find(ent); it != named.end()) {
        out += it->second;
      } else if (ent.size() > 1 && ent[0] == '#') {
        const bool hex = ent[1] == 'x';
        const std::string digits = ent.substr(hex ? 2 : 1);
        if (digits.empty() ||
            digits.find_first_not_of(hex ? "0123456789abcdefABCDEF" : "0123456789") != std::string::npos)
          fail("malformed character reference '&" + ent + ";'");
        const long code = std::strtol(digits.c_str(), nullptr, hex ? 16 : 10);
        out += code < 128 ? static_cast<char>(code) : '?'; // the checks only look at ASCII
      } else {
        fail("unknown entity '&" + ent + ";'");
      }
      i = semi;
    }
    return out;
  }
  XmlElement element() {
    XmlElement e;
    e.line = line_;
    advance(1); // '<'
    e.tag = name();
    while (true) {
      const std::size_t before = pos_;
      skipSpace();
      if (startsWith("/>")) {
        advance(2);
        return e;
      }
      if (startsWith(">")) {
        advance(1);
        break;
      }
      if (pos_ == before) fail("expected whitespace, '>' or '/>' in <" + e.tag + ">");
      const std::string attr = name();
      skipSpace();
      if (!startsWith("=")) fail("attribute '" + attr + "' of <" + e.tag + "> has no value");
      advance(1);
      skipSpace();
      if (!startsWith("\"") && !startsWith("'")) fail("attribute '" + attr + "' of <" + e.tag + "> is not quoted");
      const char quote[2] = {s_[pos_], '\0'};
      advance(1);
      const std::string raw = until(quote, "attribute value");
      if (raw.find('<') != std::string::npos) fail("'<' in the value of attribute '" + attr + "'");
      if (!e.attributes.emplace(attr, decode(raw)).second)
        fail("attribute '" + attr + "' given twice in <" + e.tag + ">");
    }
    while (true) { // content
      if (pos_ >= s_.size()) fail("<" + e.tag + "> (line " + std::to_string(e.line) + ") is never closed");
      if (startsWith("</")) {
        advance(2);
        const std::string closing = name();
        skipSpace();
        if (!startsWith(">")) fail("expected '>' after </" + closing);
        advance(1);
        if (closing != e.tag)
          fail("</" + closing + "> closes <" + e.tag + "> opened at line " + std::to_string(e.line));
        return e;
      }
      if (startsWith("<!--")) {
        advance(4);
        until("-->", "comment");
      } else if (startsWith("<![CDATA[")) {
        advance(9);
        e.text += until("]]>", "CDATA section");
      } else if (startsWith("<?")) {
        advance(2);
        until("?>", "processing instruction");
      } else if (startsWith("<")) {
        e.children.push_back(element());
      } else {
        const std::size_t next = std::min(s_.find('<', pos_), s_.size());
        const std::string raw = s_.substr(pos_, next - pos_);
        if (raw.find("]]>") != std::string::npos) fail("']]>' in character data");
        e.text += decode(raw);
        advance(next - pos_);
      }
    }
  }

  const std::string& s_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

const std::set<std::string> kParameterTags{"integer",
                                           "float",
                                           "double",
                                           "string",
                                           "boolean",
                                           "integer-vector",
                                           "float-vector",
                                           "string-vector",
                                           "double-vector",
                                           "point",
                                           "region",
                                           "string-enumeration",
                                           "integer-enumeration",
                                           "float-enumeration",
                                           "double-enumeration",
                                           "file",
                                           "directory",
                                           "transform",
                                           "image",
                                           "geometry",
                                           "table",
                                           "measurement"};
const std::set<std::string> kEnumerationTags{"string-enumeration", "integer-enumeration", "float-enumeration",
                                             "double-enumeration"};
const std::set<std::string> kExecutableFields{"category",          "title",   "description", "version",
                                              "documentation-url", "license", "contributor", "acknowledgements",
                                              "location",          "index"};
const std::set<std::string> kParameterFields{"name",  "label",   "description", "flag",    "longflag",
                                             "index", "default", "channel",     "element", "constraints"};
// Flags GenerateCLP-made modules answer themselves, and that Slicer passes on its own.
const std::set<std::string> kReservedLongflags{
    "xml", "echo", "help", "version", "processinformationaddress", "returnparameterfile", "deserialize", "serialize"};

// Attributes Slicer's parser accepts per parameter tag, with the values it allows ({} = any value).
using AttributeRules = std::map<std::string, std::set<std::string>>;
const std::set<std::string> kTrueFalse{"true", "false"};
const std::map<std::string, AttributeRules> kAttributes{
    {"integer", {{"multiple", kTrueFalse}}},
    {"float", {{"multiple", kTrueFalse}}},
    {"double", {{"multiple", kTrueFalse}}},
    {"string", {{"multiple", kTrueFalse}}},
    {"boolean", {{"hidden", kTrueFalse}}},
    {"string-enumeration", {{"hidden", kTrueFalse}}},
    {"integer-enumeration", {{"hidden", kTrueFalse}}},
    {"float-enumeration", {{"hidden", kTrueFalse}}},
    {"double-enumeration", {{"hidden", kTrueFalse}}},
    {"integer-vector", {}},
    {"float-vector", {}},
    {"string-vector", {}},
    {"double-vector", {}},
    {"point", {{"multiple", kTrueFalse}, {"coordinateSystem", {"ijk", "lps", "ras"}}}},
    {"region", {{"multiple", kTrueFalse}, {"coordinateSystem", {"ijk", "lps", "ras"}}}},
    {"file", {{"multiple", kTrueFalse}, {"fileExtensions", {}}}},
    {"directory", {{"multiple", kTrueFalse}}},
    {"transform",
     {{"multiple", kTrueFalse},
      {"type", {"linear", "nonlinear", "bspline"}},
      {"fileExtensions", {}},
      {"reference", {}}}},
    {"image",
     {{"multiple", kTrueFalse},
      {"type", {"any", "scalar", "label", "tensor", "diffusion-weighted", "vector"}},
      {"fileExtensions", {}},
      {"hidden", kTrueFalse},
      {"reference", {}}}},
    {"geometry",
     {{"multiple", kTrueFalse}, {"aggregate", kTrueFalse}, {"type", {"fiberbundle", "model"}}, {"fileExtensions", {}}}},
    {"table",
     {{"multiple", kTrueFalse},
      {"reference", {}},
      {"hidden", kTrueFalse},
      {"type", {"color"}},
      {"fileExtensions", {}}}},
    {"measurement",
     {{"multiple", kTrueFalse}, {"reference", {}}, {"hidden", kTrueFalse}, {"type", {}}, {"fileExtensions", {}}}},
};
// Parameters whose value is a file or node Slicer moves in or out: they need a channel.
const std::set<std::string> kChannelTags{"image", "file", "transform", "geometry", "table", "measurement"};

class Checker {
public:
  explicit Checker(ModuleDescription& d) : d_(d) {}

  void executable(const XmlElement& root) {
    if (root.tag != "executable") problem(root, "<executable> must be the outermost element, found <" + root.tag + ">");
    noAttributes(root);
    for (const auto& c : root.children) {
      if (c.tag == "parameters") {
        parameters(c);
      } else if (kExecutableFields.count(c.tag)) {
        textOnly(c);
        d_.fields[c.tag] = trim(c.text);
      } else {
        problem(c, "unknown element <" + c.tag + "> in <executable>");
      }
    }
    crossChecks();
  }

private:
  void problem(const XmlElement& e, const std::string& what) {
    d_.problems.push_back("line " + std::to_string(e.line) + ": " + what);
  }
  void textOnly(const XmlElement& e) {
    for (const auto& c : e.children) problem(c, "<" + c.tag + "> inside <" + e.tag + ">, which holds text only");
  }
  void noAttributes(const XmlElement& e) {
    for (const auto& [k, v] : e.attributes) problem(e, "<" + e.tag + "> takes no attribute '" + k + "'");
  }

  void parameters(const XmlElement& group) {
    bool advanced = false;
    for (const auto& [k, v] : group.attributes) {
      if (k != "advanced") {
        problem(group, "<parameters> takes only the attribute 'advanced', not '" + k + "'");
      } else if (!kTrueFalse.count(v)) {
        problem(group, "advanced=\"" + v + "\": expected true or false");
      } else {
        advanced = v == "true";
      }
    }
    const std::string label = group.childText("label");
    if (label.empty()) problem(group, "<parameters> without a <label>");
    for (const auto& c : group.children) {
      if (c.tag == "label" || c.tag == "description") {
        textOnly(c);
      } else if (kParameterTags.count(c.tag)) {
        parameter(c, label, advanced);
      } else {
        problem(c, "unknown element <" + c.tag + "> in <parameters>");
      }
    }
  }

  void parameter(const XmlElement& e, const std::string& groupLabel, bool advanced) {
    Parameter p;
    p.tag = e.tag;
    p.attributes = e.attributes;
    p.groupLabel = groupLabel;
    p.advancedGroup = advanced;
    const AttributeRules& rules = kAttributes.at(e.tag);
    for (const auto& [k, v] : e.attributes) {
      const auto rule = rules.find(k);
      if (rule == rules.end())
        problem(e, "<" + e.tag + "> takes no attribute '" + k + "'");
      else if (!rule->second.empty() && !rule->second.count(v))
        problem(e, "<" + e.tag + " " + k + "=\"" + v + "\">: not a value Slicer accepts");
    }
    std::set<std::string> seen;
    for (const auto& c : e.children) {
      if (!kParameterFields.count(c.tag)) {
        problem(c, "unknown element <" + c.tag + "> in <" + e.tag + ">");
        continue;
      }
      if (c.tag != "element" && !seen.insert(c.tag).second)
        problem(c, "<" + c.tag + "> given twice in <" + e.tag + ">");
      if (c.tag == "constraints") {
        for (const auto& k : c.children) {
          if (k.tag != "minimum" && k.tag != "maximum" && k.tag != "step")
            problem(k, "unknown element <" + k.tag + "> in <constraints>");
          textOnly(k);
        }
        continue;
      }
      textOnly(c);
      if ((c.tag == "flag" || c.tag == "longflag") && !c.attributes.empty()) {
        for (const auto& [k, v] : c.attributes)
          if (k != "alias" && k != "deprecatedalias") problem(c, "<" + c.tag + "> takes no attribute '" + k + "'");
      } else {
        noAttributes(c);
      }
      const std::string text = trim(c.text);
      if (c.tag == "name") {
        p.name = text;
        if (!isIdentifier(text)) problem(c, "<name> '" + text + "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)");
      } else if (c.tag == "longflag") {
        p.longflag = withoutLeadingDashes(text);
        if (!isIdentifier(p.longflag))
          problem(c, "<longflag> '" + text + "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*) after its dashes");
      } else if (c.tag == "flag") {
        p.flag = withoutLeadingDashes(text);
        if (p.flag.size() != 1) problem(c, "<flag> '" + text + "' must be exactly one character");
      } else if (c.tag == "index") {
        p.index = text;
      } else if (c.tag == "label") {
        p.label = text;
      } else if (c.tag == "channel") {
        p.channel = text;
        if (text != "input" && text != "output") problem(c, "<channel> '" + text + "': expected input or output");
      } else if (c.tag == "default") {
        p.defaultValue = text;
      } else if (c.tag == "element") {
        if (!kEnumerationTags.count(e.tag)) problem(c, "<element> in <" + e.tag + ">, which is no enumeration");
        p.elements.push_back(text);
      }
    }
    const std::string who = "<" + e.tag + "> '" + p.name + "'";
    if (!seen.count("name")) problem(e, "<" + e.tag + "> without a <name>");
    if (!p.index.empty() && (seen.count("flag") || seen.count("longflag")))
      problem(e, who + " has an <index> and a <flag>/<longflag>: Slicer allows one or the other");
    if (!seen.count("index") && !seen.count("flag") && !seen.count("longflag"))
      problem(e, who + " has neither <index> nor <flag>/<longflag>: Slicer could not pass it");
    if (seen.count("index") && (p.index.empty() || p.index.find_first_not_of("0123456789") != std::string::npos))
      problem(e, who + ": <index> '" + p.index + "' is not a non-negative integer");
    if (kChannelTags.count(e.tag) && p.channel.empty()) problem(e, who + " without a <channel>");
    if (kReservedLongflags.count(p.longflag)) problem(e, who + ": --" + p.longflag + " is reserved");
    if (p.flag == "h") problem(e, who + ": -h is reserved");
    if (kEnumerationTags.count(e.tag)) {
      if (p.elements.empty()) problem(e, who + " without any <element>");
      if (std::find(p.elements.begin(), p.elements.end(), p.defaultValue) == p.elements.end())
        problem(e, who + ": <default> '" + p.defaultValue + "' is not one of its elements");
    }
    if (e.tag == "boolean" && seen.count("default") && !kTrueFalse.count(p.defaultValue))
      problem(e, who + ": <default> '" + p.defaultValue + "': expected true or false");
    if (e.tag == "integer" && seen.count("default")) {
      const std::string& v = p.defaultValue;
      const std::size_t digits = !v.empty() && (v[0] == '-' || v[0] == '+') ? 1 : 0;
      if (v.size() == digits || v.find_first_not_of("0123456789", digits) != std::string::npos)
        problem(e, who + ": <default> '" + v + "' is not an integer");
    }
    lines_[p.name] = e.line;
    d_.parameters.push_back(std::move(p));
  }

  void crossChecks() {
    std::map<std::string, int> names, longflags, flags;
    std::set<long> indices;
    for (const auto& p : d_.parameters) {
      XmlElement at;
      at.line = lines_[p.name];
      if (!p.name.empty() && ++names[p.name] == 2) problem(at, "two parameters named '" + p.name + "'");
      if (!p.longflag.empty() && ++longflags[p.longflag] == 2) problem(at, "two parameters with --" + p.longflag);
      if (!p.flag.empty() && ++flags[p.flag] == 2) problem(at, "two parameters with -" + p.flag);
      if (!p.index.empty() && p.index.find_first_not_of("0123456789") == std::string::npos &&
          !indices.insert(std::strtol(p.index.c_str(), nullptr, 10)).second)
        problem(at, "two parameters with <index> " + p.index);
      if (const auto ref = p.attributes.find("reference"); ref != p.attributes.end()) {
        const bool known = std::any_of(d_.parameters.begin(), d_.parameters.end(),
                                       [&](const Parameter& q) { return q.name == ref->second; });
        if (!known) problem(at, "reference=\"" + ref->second + "\" names no parameter");
      }
    }
    long expect = 0;
    for (const long i : indices)
      if (i != expect++) {
        d_.problems.push_back("indices must be 0, 1, ... without gaps; found " + std::to_string(i));
        break;
      }
  }

  ModuleDescription& d_;
  std::map<std::string, int> lines_;
};

} // namespace

const XmlElement* XmlElement::child(const std::string& childTag) const {
  for (const auto& c : children)
    if (c.tag == childTag) return &c;
  return nullptr;
}

std::string XmlElement::childText(const std::string& childTag) const {
  const XmlElement* c = child(childTag);
  return c ? trim(c->text) : std::string();
}

XmlElement parseXml(const std::string& text) { return Parser(text).document(); }

const Parameter* ModuleDescription::parameter(const std::string& name) const {
  for (const auto& p : parameters)
    if (p.name == name) return &p;
  return nullptr;
}

ModuleDescription checkModuleDescription(const std::string& xml) {
  ModuleDescription d;
  // Slicer compares the first six characters: "<?xml " with nothing (not even a BOM) before it.
  if (xml.compare(0, 6, "<?xml ") != 0) d.problems.push_back("line 1: the text must start with '<?xml '");
  XmlElement root;
  try {
    root = parseXml(xml);
  } catch (const std::runtime_error& e) {
    d.problems.push_back(std::string("not well-formed: ") + e.what());
    return d;
  }
  Checker(d).executable(root);
  return d;
}

} // namespace voxseg::slicer::testing
