#include "voxseg/io/AtomicOutput.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <exception>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace voxseg::io {
namespace {
std::atomic<unsigned> counter{0};

// Pending temporary files, readable from a signal handler (fixed storage, atomic flags). A case's files wait for each
// other (OutputSet): --split masks of a model of 100+ labels, or a mesh per label, hold a slot each until they land.
// The storage is zero until used (4 MiB of address space, touched a page per slot in use).
constexpr int kSlots = 1024;
// A slot is claimed (`used`), then its path written, then published (`ready`): the handler reads only
// published paths, never one being written (SIGINT can arrive on any thread, e.g. --jobs 2's reader).
struct Slot {
  std::atomic<bool> used{false};
  std::atomic<bool> ready{false};
  char path[4096];
};
Slot slots[kSlots];

int registerTemp(const std::string& path) {
  if (path.size() >= sizeof(Slot::path)) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (slots[i].used.load() || !slots[i].used.compare_exchange_strong(expected, true)) continue;
    std::memcpy(slots[i].path, path.c_str(), path.size() + 1);
    slots[i].ready.store(true);
    return i;
  }
  logWarning("more than " + std::to_string(kSlots) + " outputs pending: " + path +
             " would be left behind if the run were interrupted now");
  return -1;
}

void unregisterTemp(int slot) {
  if (slot < 0) return;
  slots[slot].ready.store(false);
  slots[slot].used.store(false);
}

// "YYYY-MM-DDTHH:MM:SS.000Z" for time(2)'s seconds, by integer arithmetic (gmtime_r is not async-signal-safe):
// the civil date of a day count (H. Hinnant's days_from_civil, inverted).
void utcStamp(char* out) {
  const long long t = static_cast<long long>(::time(nullptr));
  long long days = t / 86400, secs = t % 86400;
  days += 719468;
  const long long era = days / 146097, doe = days - era * 146097;
  const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  const long long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
  const long long fields[6] = {y, m, d, secs / 3600, secs / 60 % 60, secs % 60};
  const int widths[6] = {4, 2, 2, 2, 2, 2};
  const char after[6] = {'-', '-', 'T', ':', ':', '.'};
  int k = 0;
  for (int f = 0; f < 6; ++f) {
    for (int w = widths[f] - 1; w >= 0; --w) {
      long long v = fields[f];
      for (int i = 0; i < w; ++i) v /= 10;
      out[k++] = char('0' + v % 10);
    }
    out[k++] = after[f];
  }
  for (const char c : {'0', '0', '0', 'Z', '\0'}) out[k++] = c;
}

std::atomic<int> children[4] = {0, 0, 0, 0}; // processes to stop on an interrupt (stopAtInterrupt)

extern "C" void onInterrupt(int) {
  for (auto& c : children)
    if (const int pid = c.load(); pid > 0) ::kill(pid, SIGTERM);
  for (auto& s : slots)
    if (s.ready.load()) ::unlink(s.path);
  for (int pass = 0; pass < 8; ++pass) // scratch folders, empty now (a pass per level of nesting)
    for (auto& s : slots)
      if (s.ready.load()) ::rmdir(s.path);
  // write(2) only: signal-safe; a JSON line when --log-json chose JSON lines
  static const char text[] = "voxseg: interrupted; unfinished outputs removed\n";
  static const char jsonStart[] = "{\"time\":\"",
                    jsonEnd[] = "\",\"level\":\"error\",\"message\":\"interrupted; unfinished outputs removed\"}\n";
  if (logIsJson()) {
    char stamp[32];
    utcStamp(stamp);
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, jsonStart, sizeof jsonStart - 1);
    n = ::write(STDERR_FILENO, stamp, std::strlen(stamp));
    n = ::write(STDERR_FILENO, jsonEnd, sizeof jsonEnd - 1);
  } else {
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, text, sizeof text - 1);
  }
  ::_exit(130);
}

// Probes that a file can be created in `dir` (permissions, read-only file systems, /proc...).
void checkWritableFolder(const fs::path& dir, const std::string& finalPath) {
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  if (ec || !fs::exists(st)) throw outputError(finalPath, "output folder '" + dir.string() + "' does not exist");
  if (!fs::is_directory(st)) throw outputError(finalPath, "'" + dir.string() + "' is not a folder");
  const fs::path probe = dir / (".voxseg-probe-" + hostTag() + "-" + std::to_string(::getpid()) + "-" +
                                std::to_string(counter.fetch_add(1)));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) throw outputError(finalPath, "cannot write in folder '" + dir.string() + "': " + std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}
// The temporary's name ends like the output's (the writers choose the format by it) and has no other dot:
// nifticlib takes an inner ".nii", ".hdr", ".img" or ".nia" (b.nii.nii.gz, c.hdr.nii) for the extension and wrote
// another file than the temporary, which then was left behind.
std::string temporaryName(const std::string& name) {
  std::size_t ext = name.rfind('.');
  for (const std::string compound : {".nii.gz", ".seg.nrrd"})
    if (name.size() > compound.size() && name.compare(name.size() - compound.size(), compound.size(), compound) == 0)
      ext = name.size() - compound.size();
  if (ext == std::string::npos || ext == 0) return name;
  std::string stem = name.substr(0, ext);
  std::replace(stem.begin(), stem.end(), '.', '_');
  return stem + name.substr(ext);
}

// A new temporary's path in the folder of `finalPath`: the prefix, this process and a counter, then `tail`.
// A name longer than a file name may be (255 bytes) is cut before `tail`'s extension (its first dot: temporaryName
// leaves no other): an output name near the limit failed after the work, as "cannot write (disk full?)".
std::string temporaryBeside(const fs::path& finalPath, const std::string& tail) {
  const fs::path dir = finalPath.parent_path().empty() ? fs::path(".") : finalPath.parent_path();
  const std::string head =
      outputTemporaryPrefix() + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  constexpr std::size_t kNameMax = 255;
  std::string end = tail;
  if (head.size() + end.size() > kNameMax) {
    const std::size_t dot = std::min(tail.find('.'), tail.size());
    const std::string extension = tail.substr(dot);
    end = tail.substr(0, std::min(dot, kNameMax - std::min(kNameMax, head.size() + extension.size()))) + extension;
  }
  return (dir / (head + end)).string();
}
} // namespace

AtomicOutput::AtomicOutput(std::string finalPath, bool overwrite) : final_(std::move(finalPath)) {
  const fs::path p(final_);
  std::error_code ec;
  if (p.filename().empty()) throw outputError(final_, "output path names a folder, not a file");
  const auto st = fs::status(p, ec);
  if (fs::is_directory(st)) throw outputError(final_, "output path is an existing folder");
  if (fs::exists(st) && !overwrite) throw outputError(final_, "output file exists (use --force to overwrite)");
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  checkWritableFolder(dir, final_);
  temp_ = temporaryBeside(p, "-" + temporaryName(p.filename().string()));
  slot_ = registerTemp(temp_);
}

std::string AtomicOutput::scratchPathBeside(const std::string& extension) const {
  return temporaryBeside(final_, extension);
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) ::unlink(temp_.c_str());
  unregisterTemp(slot_);
}

ScratchFile::ScratchFile(std::string path) : path_(std::move(path)), slot_(registerTemp(path_)) {}

ScratchFile::~ScratchFile() {
  if (!kept_ && ::unlink(path_.c_str()) != 0 && errno == EISDIR) ::rmdir(path_.c_str());
  unregisterTemp(slot_);
}

void ScratchFile::keep() {
  kept_ = true;
  unregisterTemp(slot_);
  slot_ = -1;
}

void installInterruptCleanup() {
  struct sigaction sa {};
  sa.sa_handler = onInterrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  // Past a file size limit (ulimit -f) a write fails with EFBIG instead of killing the process, so
  // the output error is reported and the temporary removed like any other failed write.
  ::signal(SIGXFSZ, SIG_IGN);
}

void stopAtInterrupt(int pid) {
  for (auto& c : children) {
    int expected = 0;
    if (c.compare_exchange_strong(expected, pid)) return;
  }
}

void forgetAtInterrupt(int pid) {
  for (auto& c : children) {
    int expected = pid;
    c.compare_exchange_strong(expected, 0);
  }
}

namespace {
thread_local OutputSet* currentSet = nullptr; // the innermost set made on this thread (open or closed)
}

OutputSet::OutputSet() : outer_(currentSet) { currentSet = this; }

OutputSet::~OutputSet() {
  if (!pending_.empty() && std::uncaught_exceptions() == 0) // a caller that forgot commitAll(): say what is lost
    logWarning("outputs discarded without an error: " + pending_.front().final + " and " +
               std::to_string(pending_.size() - 1) + " more (OutputSet without commitAll)");
  for (const auto& p : pending_) {
    ::unlink(p.temp.c_str());
    unregisterTemp(p.slot);
  }
  if (currentSet == this) currentSet = outer_;
}

OutputSet* OutputSet::open() {
  OutputSet* s = currentSet;
  while (s && s->closed_) s = s->outer_;
  return s;
}

std::string OutputSet::contentPath(const std::string& finalPath) {
  for (const OutputSet* s = currentSet; s; s = s->outer_)
    for (const auto& p : s->pending_)
      if (p.final == finalPath) return p.temp;
  return finalPath;
}

void OutputSet::commitAll() {
  closed_ = true;
  std::vector<Pending> pending;
  pending.swap(pending_);
  if (OutputSet* outer = open()) { // nested: the outer set lands them with its own
    outer->pending_.insert(outer->pending_.end(), pending.begin(), pending.end());
    return;
  }
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (std::rename(pending[i].temp.c_str(), pending[i].final.c_str()) != 0) {
      const std::string why = std::strerror(errno);
      pending_.assign(pending.begin() + std::ptrdiff_t(i), pending.end()); // deleted by the destructor
      throw outputError(pending[i].final, "cannot move finished output into place: " + why);
    }
    unregisterTemp(pending[i].slot);
  }
}

void AtomicOutput::commit() {
  if (OutputSet* set = OutputSet::open()) { // renamed with the rest of its set
    set->pending_.push_back({temp_, final_, slot_});
    slot_ = -1;
    committed_ = true;
    return;
  }
  if (std::rename(temp_.c_str(), final_.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temp_.c_str());
    throw outputError(final_, "cannot move finished output into place: " + why);
  }
  committed_ = true;
}

std::string hostTag() {
  static const std::string tag = [] { // asked once per process: every output and probe names it
    std::array<char, 256> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
    // the first label of a fully qualified name, at most 32 characters: temporary names stay well within
    // NAME_MAX (255) for any output name of up to 200 characters
    std::string t(host.data());
    t = t.substr(0, std::min<std::size_t>(t.find('.'), 32));
    for (char& c : t)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return t.empty() ? std::string("host") : t;
  }();
  return tag;
}

std::string outputTemporaryPrefix() { return ".voxseg-tmp-" + hostTag() + "-"; }

void createOutputFolder(const std::string& folder, const std::string& what) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec || !fs::is_directory(folder))
    throw outputError(folder, "cannot create " + what + " (" + (ec ? ec.message() : "a file is in the way") + ")");
}

void MadeFolders::make(const std::string& folder, const std::string& what) {
  // Only names that are not there at all are registered: a link (a dangling one too, e.g. to an unmounted share) or a
  // parent that cannot be looked at (permissions) ends the walk; createOutputFolder says what is wrong.
  const auto absent = [](const fs::path& q) {
    std::error_code e;
    return fs::symlink_status(q, e).type() == fs::file_type::not_found;
  };
  std::error_code ec;
  for (fs::path q = fs::absolute(folder, ec); !ec && !q.empty() && absent(q); q = q.parent_path()) {
    made_.push_back(std::make_unique<ScratchFile>(q.string())); // a part made before a failure goes too
    if (q == q.parent_path()) break;
  }
  createOutputFolder(folder, what); // Error(Output), exit 4, naming the folder
}

void MadeFolders::keep() {
  for (auto& f : made_) f->keep();
}

MadeFolders::~MadeFolders() { // deepest first: a folder is empty once its made subfolders are gone
  std::stable_sort(made_.begin(), made_.end(), [](const auto& a, const auto& b) {
    const fs::path pa(a->path()), pb(b->path());
    return std::distance(pa.begin(), pa.end()) > std::distance(pb.begin(), pb.end());
  });
  for (auto& f : made_) f.reset();
}

void checkOutputsAgainstInputs(const std::vector<std::string>& outputs, const std::vector<std::string>& inputs) {
  const auto same = [](const std::string& a, const std::string& b) {
    std::error_code ec;
    if (fs::equivalent(a, b, ec) && !ec) return true; // both exist: the same file, also through links
    return fs::absolute(a, ec).lexically_normal() == fs::absolute(b, ec).lexically_normal();
  };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    for (const auto& in : inputs)
      if (same(outputs[i], in))
        throw usageError(outputs[i] + ": this output is the input " + in +
                         " (it would be overwritten; choose another name)");
    for (std::size_t j = 0; j < i; ++j)
      if (same(outputs[i], outputs[j]))
        throw usageError(outputs[i] + ": named for two outputs (" + outputs[j] + " is the other); choose another name");
  }
}

namespace {

// Removes the links in a scratch folder of this user's (a NIfTI alias), through a descriptor opened without
// following links: in a shared $TMPDIR another user may replace the folder by a link to theirs between the
// listing and the removal. True when only links were in it.
bool emptyScratchFolder(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_uid != ::geteuid()) {
    ::close(fd);
    return false;
  }
  DIR* dir = ::fdopendir(fd); // owns fd now
  if (!dir) {
    ::close(fd);
    return false;
  }
  bool onlyLinks = true;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat link {};
    if (::fstatat(fd, name.c_str(), &link, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(link.st_mode))
      onlyLinks = ::unlinkat(fd, name.c_str(), 0) == 0 && onlyLinks;
    else
      onlyLinks = false;
  }
  ::closedir(dir);
  return onlyLinks;
}

// Temporaries named before the host was in the name (".voxseg-tmp-<pid>-<n>-<name>", until 2026-11-27): whose
// they are cannot be told, so only those untouched for a day go (a write in progress changes its file's time).
void removeLegacyTemporaries(const std::string& folder, std::vector<std::string>& removed) {
  const std::string legacy = ".voxseg-tmp-";
  const auto digitsThenDash = [](const std::string& s, std::size_t& at) {
    const std::size_t start = at;
    while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at]))) ++at;
    return at > start && at < s.size() && s[at++] == '-';
  };
  std::error_code ec;
  const auto dayAgo = std::filesystem::file_time_type::clock::now() - std::chrono::hours(24);
  for (const auto& e : std::filesystem::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    std::size_t at = legacy.size();
    if (name.rfind(legacy, 0) != 0 || !digitsThenDash(name, at) || !digitsThenDash(name, at)) continue;
    if (e.is_symlink(ec) || !e.is_regular_file(ec)) continue;
    const auto written = e.last_write_time(ec);
    if (ec || written > dayAgo) continue;
    std::error_code rm;
    if (std::filesystem::remove(e.path(), rm)) removed.push_back(name);
  }
}

} // namespace

std::vector<std::string> removeStaleTemporaries(const std::string& folder, const std::string& prefix) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const auto dash = name.find('-', prefix.size());
    if (dash == std::string::npos) continue;
    const std::string pidText = name.substr(prefix.size(), dash - prefix.size());
    if (pidText.empty() || pidText.size() > 9 || pidText.find_first_not_of("0123456789") != std::string::npos)
      continue; // not a pid of ours (anyone may name a file so in a shared folder)
    if (e.is_symlink(ec)) continue;
    const bool isFolder = e.is_directory(ec); // a scratch folder holds links of ours only
    if (!isFolder && !e.is_regular_file(ec)) continue;
    const pid_t pid = static_cast<pid_t>(std::strtol(pidText.c_str(), nullptr, 10));
    if (pid <= 0) continue;
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue; // alive, or not ours to judge
    if (isFolder) {
      if (emptyScratchFolder(e.path().string()) && ::rmdir(e.path().c_str()) == 0) removed.push_back(name);
      continue;
    }
    std::error_code rm;
    if (std::filesystem::remove(e.path(), rm)) removed.push_back(name);
  }
  if (prefix == outputTemporaryPrefix()) {
    removeLegacyTemporaries(folder, removed);
    // checkWritableFolder's probe files (made and removed at once: left only by a process killed in between)
    for (auto& name : removeStaleTemporaries(folder, ".voxseg-probe-" + hostTag() + "-")) removed.push_back(name);
  }
  return removed;
}

void writeFileAtomically(const std::string& path, const std::string& bytes, bool overwrite) {
  AtomicOutput out(path, overwrite);
  {
    std::ofstream f(out.tempPath(), std::ios::binary);
    f.write(bytes.data(), std::streamsize(bytes.size()));
    if (!f.flush()) throw outputError(path, "cannot write (disk full or file size limit?)");
  }
  out.commit();
}

} // namespace voxseg::io
