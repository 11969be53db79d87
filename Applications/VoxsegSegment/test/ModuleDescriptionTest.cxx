// VoxsegSegment --xml checked as 3D Slicer would load it, and the checker itself on broken descriptions.

#include "ModuleDescriptionCheck.h"

#include "voxseg/core/Version.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace {

using voxseg::slicer::testing::checkModuleDescription;
using voxseg::slicer::testing::ModuleDescription;
using voxseg::slicer::testing::Parameter;

struct Result {
  std::string out;
  int code = -1;
};

// Runs VoxsegSegment with these arguments; stdout and exit code (stderr is left to the test's own).
Result runVoxsegSegment(const std::string& args) {
  Result r;
  FILE* pipe = ::popen(("'" VOXSEG_SEGMENT_EXE "' " + args).c_str(), "r");
  if (!pipe) return r;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.out.append(buffer, n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string joined(const std::vector<std::string>& problems) {
  std::string s;
  for (const auto& p : problems) s += p + "\n";
  return s;
}

class VoxsegSegmentXml : public ::testing::Test {
protected:
  static void SetUpTestSuite() { run_ = new Result(runVoxsegSegment("--xml")); }
  static void TearDownTestSuite() {
    delete run_;
    run_ = nullptr;
  }
  static Result* run_;
};
Result* VoxsegSegmentXml::run_ = nullptr;

TEST_F(VoxsegSegmentXml, ExitsZeroAndStartsWithTheXmlDeclaration) {
  EXPECT_EQ(run_->code, 0);
  ASSERT_GE(run_->out.size(), 6u);
  EXPECT_EQ(run_->out.substr(0, run_->out.find('\n')), R"(<?xml version="1.0" encoding="utf-8"?>)");
}

TEST_F(VoxsegSegmentXml, PassesSlicerParserRules) {
  const ModuleDescription d = checkModuleDescription(run_->out);
  EXPECT_TRUE(d.problems.empty()) << joined(d.problems) << "--- the description ---\n" << run_->out;
}

TEST_F(VoxsegSegmentXml, DescribesTheModule) {
  const ModuleDescription d = checkModuleDescription(run_->out);
  EXPECT_EQ(d.fields.at("category"), "Segmentation.voxseg");
  EXPECT_EQ(d.fields.at("version"), voxseg::versionString());
  for (const char* field : {"title", "description", "documentation-url", "license", "contributor"}) {
    ASSERT_TRUE(d.fields.count(field)) << field;
    EXPECT_FALSE(d.fields.at(field).empty()) << field;
    EXPECT_EQ(d.fields.at(field).find('@'), std::string::npos) << field << " not filled in by CMake";
  }
}

TEST_F(VoxsegSegmentXml, DeclaresEveryParameterForSlicer) {
  const ModuleDescription d = checkModuleDescription(run_->out);
  // What each parameter declares; "" where it declares nothing (no <index>, no <channel>, no <default>...).
  struct Expected {
    const char* name;
    const char* tag;
    const char* index;
    const char* longflag;
    const char* channel;
    const char* defaultValue;
  };
  const Expected expected[] = {
      {"inputVolume", "image", "0", "", "input", ""},
      {"outputLabel", "image", "1", "", "output", ""},
      {"model", "file", "", "model", "input", ""},
      {"nnunet", "directory", "", "nnunet", "input", ""},
      {"folds", "string", "", "folds", "", "auto"},
      {"previousStage", "image", "", "previousStage", "input", ""},
      {"nnunetPostprocessing", "file", "", "nnunetPostprocessing", "input", ""},
      {"device", "string-enumeration", "", "device", "", "cpu"},
      {"tta", "boolean", "", "tta", "", "false"},
      {"threads", "integer", "", "threads", "", "0"},
  };
  for (const Expected& e : expected) {
    const Parameter* p = d.parameter(e.name);
    if (!p) {
      ADD_FAILURE() << "no parameter " << e.name;
      continue;
    }
    EXPECT_EQ(p->tag, e.tag) << e.name;
    EXPECT_EQ(p->index, e.index) << e.name;
    EXPECT_EQ(p->longflag, e.longflag) << e.name;
    EXPECT_EQ(p->channel, e.channel) << e.name;
    EXPECT_EQ(p->defaultValue, e.defaultValue) << e.name;
  }
  if (const Parameter* out = d.parameter("outputLabel")) {
    EXPECT_EQ(out->attributes.count("type") ? out->attributes.at("type") : "", "label");
  }
  if (const Parameter* device = d.parameter("device")) {
    EXPECT_EQ(device->elements, (std::vector<std::string>{"cpu", "cuda"}));
  }
  if (const Parameter* previous = d.parameter("previousStage")) {
    EXPECT_EQ(previous->attributes.count("type") ? previous->attributes.at("type") : "", "label");
  }
  EXPECT_EQ(d.parameters.size(), 10u);
  for (const auto& p : d.parameters) EXPECT_FALSE(p.label.empty()) << p.name << " has no label for Slicer's panel";
}

// Every flag the description declares is one the command line takes, so Slicer never passes an unknown one.
TEST_F(VoxsegSegmentXml, CommandLineTakesEveryDeclaredFlag) {
  const ModuleDescription d = checkModuleDescription(run_->out);
  const Result help = runVoxsegSegment("--help");
  EXPECT_EQ(help.code, 0);
  for (const auto& p : d.parameters) {
    if (p.longflag.empty()) continue;
    EXPECT_NE(help.out.find("--" + p.longflag + " "), std::string::npos) << "--" << p.longflag << "\n" << help.out;
  }
}

// The checker, on descriptions that Slicer's parser refuses.
std::string withParameters(const std::string& parameters) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<executable>\n  <category>Test</category>\n"
         "  <title>T</title>\n  <description>d &amp; e</description>\n  <version>1</version>\n"
         "  <parameters>\n    <label>L</label>\n" +
         parameters + "  </parameters>\n</executable>\n";
}
const std::string kInput = "<image><name>in</name><label>In</label><channel>input</channel><index>0</index></image>\n";

std::string problemsOf(const std::string& xml) { return joined(checkModuleDescription(xml).problems); }

TEST(VoxsegSegmentXmlCheck, AcceptsAValidDescription) {
  const std::string xml =
      withParameters(kInput + "<!-- a comment --><boolean><name>on</name><flag>-o</flag><longflag>--on</longflag>"
                              "<default>false</default></boolean>\n"
                              "<integer><name>n</name><longflag>n</longflag><default>-3</default>"
                              "<constraints><minimum>-5</minimum><maximum>5</maximum></constraints></integer>\n");
  EXPECT_EQ(problemsOf(xml), "");
}

TEST(VoxsegSegmentXmlCheck, RefusesWhatSlicersParserRefuses) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {withParameters(kInput + "<string><name>s</name><flag>ab</flag></string>\n"), "must be exactly one character"},
      {withParameters(
           "<image><name>in</name><channel>input</channel><index>0</index><longflag>in</longflag></image>\n"),
       "has an <index> and a <flag>/<longflag>"},
      {withParameters("<image><name>in</name><channel>input</channel><flag>i</flag><index>0</index></image>\n"),
       "has an <index> and a <flag>/<longflag>"},
      {withParameters(kInput + "<string><name>2s</name><longflag>s</longflag></string>\n"), "is not an identifier"},
      {withParameters(kInput + "<string><name>s</name><longflag>no-dash</longflag></string>\n"),
       "is not an identifier"},
      {withParameters(kInput + "<string><name>s</name></string>\n"), "neither <index> nor <flag>/<longflag>"},
      {withParameters(kInput + "<string><name>s</name><longflag>s</longflag>\n"), "not well-formed"},
      {withParameters(kInput + "<string><name>s</name><longflag>s</name></string>\n"), "not well-formed"},
      {withParameters(kInput + "<string><name>a&b</name><longflag>s</longflag></string>\n"), "not well-formed"},
      {"<executable><title>T</title></executable>\n", "must start with '<?xml '"},
      {withParameters(kInput + "<text><name>s</name><longflag>s</longflag></text>\n"), "unknown element <text>"},
      {withParameters(kInput + "<string><name>s</name><longflag>s</longflag><help>x</help></string>\n"),
       "unknown element <help>"},
      {withParameters("<image type=\"labels\"><name>in</name><channel>input</channel><index>0</index></image>\n"),
       "not a value Slicer accepts"},
      {withParameters(kInput + "<string-enumeration><name>e</name><longflag>e</longflag><default>c</default>"
                               "<element>a</element><element>b</element></string-enumeration>\n"),
       "is not one of its elements"},
      {withParameters(kInput + "<string><name>s</name><longflag>s</longflag></string>"
                               "<string><name>t</name><longflag>s</longflag></string>\n"),
       "two parameters with --s"},
      {withParameters(kInput + "<string><name>x</name><longflag>xml</longflag></string>\n"), "--xml is reserved"},
      {withParameters("<image><name>in</name><channel>input</channel><index>1</index></image>\n"), "without gaps"},
      {withParameters("<image><name>in</name><index>0</index></image>\n"), "without a <channel>"},
      {withParameters(kInput + "<image reference=\"nothing\"><name>o</name><channel>output</channel><index>1</index>"
                               "</image>\n"),
       "names no parameter"},
      {withParameters(kInput) + "<parameters><label>x</label></parameters>\n", "content after the root element"},
  };
  for (const auto& [xml, expected] : cases) {
    const std::string problems = problemsOf(xml);
    EXPECT_NE(problems.find(expected), std::string::npos) << "expected '" << expected << "' for\n"
                                                          << xml << "got:\n"
                                                          << problems;
  }
}

} // namespace
