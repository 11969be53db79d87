#pragma once
// A checker for Slicer Execution Model descriptions, written from the rules 3D Slicer's
// ModuleDescriptionParser enforces when it loads a CLI module, plus the well-formedness expat would
// demand. It parses the small XML subset module descriptions use (prolog, comments, CDATA, elements,
// attributes, predefined and numeric entities); no DTD.

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace voxseg::slicer::testing {

struct XmlElement {
  std::string tag;
  std::map<std::string, std::string> attributes;
  std::string text; ///< character data directly inside, entities decoded, untrimmed
  std::vector<XmlElement> children;
  int line = 0; ///< line of the start tag

  /// The first child with this tag, or nullptr.
  const XmlElement* child(const std::string& childTag) const;
  /// Trimmed text of the first child with this tag; empty when there is none.
  std::string childText(const std::string& childTag) const;
};

/// Parses one document; throws std::runtime_error("line N: <problem>") when it is not well-formed.
XmlElement parseXml(const std::string& text);

struct Parameter {
  std::string tag; ///< image, file, string-enumeration...
  std::map<std::string, std::string> attributes;
  std::string name, label, longflag, flag, index, channel, defaultValue; ///< trimmed; flags without dashes
  std::vector<std::string> elements;                                     ///< enumeration choices
  std::string groupLabel;
  bool advancedGroup = false;
};

struct ModuleDescription {
  std::vector<std::string> problems;         ///< empty: Slicer would load the module
  std::map<std::string, std::string> fields; ///< category, title, description, version... (trimmed)
  std::vector<Parameter> parameters;

  const Parameter* parameter(const std::string& name) const;
};

/// Checks a module description against Slicer's rules: the text starts with "<?xml "; it is well formed
/// with <executable> as root; only elements and attributes Slicer knows, where it expects them;
/// every <name> and <longflag> an identifier ([A-Za-z_][A-Za-z0-9_]*, a longflag's leading dashes
/// dropped); every <flag> one character; no parameter with both <index> and <flag>/<longflag>, none
/// with neither; names, flags, longflags and indices unique, indices 0..n-1; no flag GenerateCLP
/// reserves; enumeration defaults among the elements; references naming a parameter.
ModuleDescription checkModuleDescription(const std::string& xml);

} // namespace voxseg::slicer::testing
