#pragma once
// Writes land under a temporary name in the destination folder and are renamed into place only
// when complete, so a failed or interrupted write never leaves a partial output file.

#include <memory>
#include <string>
#include <vector>

namespace voxseg::io {

class AtomicOutput {
public:
  /// Checks the destination before any work: its folder exists and is writable, the path is not
  /// a folder, and it does not exist unless `overwrite`. Throws Error(Output) naming the path.
  AtomicOutput(std::string finalPath, bool overwrite);
  ~AtomicOutput(); ///< removes the temporary file unless commit() succeeded
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  /// Where to write: same folder and same extension as the final path.
  const std::string& tempPath() const { return temp_; }
  /// Another temporary name in the same folder, short (the final name left out) and ending in `extension`:
  /// for a step of the write (the clean-up of a killed run's temporaries takes it too).
  std::string scratchPathBeside(const std::string& extension) const;
  const std::string& finalPath() const { return final_; }
  /// Renames the temporary file to the final path; throws Error(Output) on failure.
  void commit();

private:
  std::string final_;
  std::string temp_;
  bool committed_ = false;
  int slot_ = -1; ///< entry in the interrupt-cleanup registry
};

/// Writes `bytes` to `path` through an AtomicOutput (`overwrite` as its constructor's); Error(Output) naming the path
/// when the bytes cannot all be written (a full disk, a file size limit).
void writeFileAtomically(const std::string& path, const std::string& bytes, bool overwrite);

/// Outputs that land together. While an OutputSet lives on a thread, AtomicOutput::commit() on that thread leaves the
/// finished temporary where it is and hands it to the set; commitAll() then renames them all, once every write has
/// succeeded. Without commitAll() (an error was thrown) the destructor deletes them: a failed run leaves the former
/// files (or none), not some of each run. Sets nest: the innermost open set takes the commits, and its commitAll()
/// hands them to the next open set out, if any.
class OutputSet {
public:
  OutputSet();
  ~OutputSet();
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;
  /// Renames every finished temporary into place (or hands them to the next open set out), in the order they were
  /// committed, and ends the set (later commits go elsewhere); throws Error(Output) naming the first that cannot be
  /// moved (the ones before it are in place, the rest deleted).
  void commitAll();

  /// Where the content of the output `finalPath` is now: the finished temporary an OutputSet of this thread holds for
  /// it (not yet renamed), else `finalPath` itself. For code that reads back what it wrote (the review page embeds its
  /// pictures).
  static std::string contentPath(const std::string& finalPath);

private:
  friend class AtomicOutput;
  static OutputSet* open(); ///< the innermost set of this thread that commitAll() has not ended, or null
  struct Pending {
    std::string temp, final;
    int slot = -1;
  };
  std::vector<Pending> pending_;
  OutputSet* outer_ = nullptr;
  bool closed_ = false; ///< commitAll() was called: later commits are not this set's
};

/// A scratch file of voxseg's own (not an output), e.g. the NIfTI-1 copy of a NIfTI-2 input: removed at
/// destruction and, like output temporaries, by the SIGINT/SIGTERM clean-up. It may be an (empty) folder:
/// the clean-up removes files and links first, then the folders that are empty (nested ones too).
class ScratchFile {
public:
  explicit ScratchFile(std::string path);
  ~ScratchFile();
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  const std::string& path() const { return path_; }
  /// Leaves the file (or folder) where it is: neither the destructor nor the clean-up removes it any more.
  void keep();

private:
  std::string path_;
  int slot_ = -1;
  bool kept_ = false;
};

/// Makes an output folder (and its parents) unless it exists; Error(Output) "<folder>: cannot create
/// <what> (<reason>)" when it cannot be made or a file is in the way.
void createOutputFolder(const std::string& folder, const std::string& what = "the folder");

/// The output folders a command makes (and their parents that did not exist): removed again, deepest first and
/// only when empty, if the command fails or is interrupted (the SIGINT/SIGTERM clean-up removes them after their
/// contents, which are registered after them), so a refused or failed run leaves no empty folder behind.
/// keep() once the outputs are in place.
class MadeFolders {
public:
  MadeFolders() = default;
  MadeFolders(const MadeFolders&) = delete;
  MadeFolders& operator=(const MadeFolders&) = delete;
  ~MadeFolders();
  /// createOutputFolder(folder, what), remembering what did not exist before.
  void make(const std::string& folder, const std::string& what = "the folder");
  void keep();

private:
  std::vector<std::unique_ptr<ScratchFile>> made_;
};

/// Refuses (usage error, exit 2) outputs that would overwrite one of the inputs (the same file, also
/// through a link) and two outputs that name the same file, before anything is written: `--force`
/// replaces existing files, and a source image replaced by its label map is lost.
void checkOutputsAgainstInputs(const std::vector<std::string>& outputs, const std::vector<std::string>& inputs);

/// This host's name as temporary names carry it: its first label (up to the first '.', at most 32
/// characters), letters and digits kept, anything else '_' (so no '-'), "host" when unknown. A folder
/// shared by several machines (a cluster's file system) holds other hosts' temporaries, whose pids mean
/// nothing here.
std::string hostTag();

/// The start of every temporary output name this host writes, up to the pid: ".voxseg-tmp-<host>-".
/// Temporaries are named ".voxseg-tmp-<host>-<pid>-<n>-<final name>".
std::string outputTemporaryPrefix();

/// Removes temporary outputs that a process of this host killed without cleanup (SIGKILL, power loss) left
/// in `folder`: only names that start with `prefix` followed by a pid, and only those whose process no
/// longer runs; other hosts' temporaries are never touched. Returns their names.
/// `prefix`: the temporaries' name up to the pid (outputTemporaryPrefix() for outputs, and then the folder probes too,
/// "voxseg-nifti2-<host>-" for scratch copies, "voxseg-nifti-<host>-" for scratch folders, which are removed
/// with the links in them and nothing else).
std::vector<std::string> removeStaleTemporaries(const std::string& folder,
                                                const std::string& prefix = outputTemporaryPrefix());

/// Installs SIGINT/SIGTERM handlers that delete every pending temporary output and exit with
/// ExitCode::Interrupted (130). Programs that write outputs call this once at start.
void installInterruptCleanup();

/// A child process (voxseg's private Xvfb) that the SIGINT/SIGTERM handler sends SIGTERM to before exiting, so that
/// an interrupted run does not leave it running; 0 takes it back. At most 4 at a time (further ones are not stopped).
void stopAtInterrupt(int pid);
void forgetAtInterrupt(int pid);

} // namespace voxseg::io
